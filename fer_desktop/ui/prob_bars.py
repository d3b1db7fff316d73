"""Per-class probability bars: emoji icon, class name, a bar in the class colour, percentage."""

from __future__ import annotations

from functools import lru_cache

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget

from fer_desktop.core.emotions import CLASSES, emoji_codepoints
from fer_desktop.core.render.overlay import CLASS_COLORS_BGR, color_for
from fer_desktop.core.support.resources import resource_path

ROW_H = 21  # 7 rows + title fit the Live side panel at 1280x800
TITLE_H = 20


@lru_cache(maxsize=16)
def emoji_pixmap(label: str) -> QPixmap:
    """The shipped Twemoji PNG of a class (a null pixmap if the file is missing)."""
    return QPixmap(str(resource_path("emoji", emoji_codepoints(label) + ".png")))


def qcolor(label: str) -> QColor:
    b, g, r = color_for(label)
    return QColor(r, g, b)


class ProbabilityBars(QWidget):
    """Seven bars for one face's probabilities; the top class is bold. Empty: a hint text."""

    def __init__(self, parent: QWidget | None = None, classes: tuple[str, ...] = CLASSES) -> None:
        super().__init__(parent)
        self.classes = tuple(classes)
        self.title = ""
        self.empty_text = "No face selected"
        self._probs: dict[str, float] = {}
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(220)
        self.setFixedHeight(TITLE_H + ROW_H * len(self.classes) + 6)

    def sizeHint(self) -> QSize:
        return QSize(280, self.height())

    def set_probabilities(self, probs: dict[str, float] | None, title: str = "") -> None:
        self._probs = dict(probs or {})
        self.title = title
        self.update()

    def values(self) -> dict[str, float]:
        return dict(self._probs)

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        pal = self.palette()
        w = self.width()
        base_font = QFont(self.font())
        bold = QFont(base_font)
        bold.setBold(True)
        p.setFont(bold)
        p.setPen(pal.windowText().color())
        p.drawText(
            QRectF(0, 0, w, TITLE_H),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            self.title or (self.empty_text if not self._probs else ""),
        )
        top = max(self._probs, key=self._probs.__getitem__) if self._probs else None
        name_w, pct_w, icon = 64, 44, ROW_H - 4
        bar_x = icon + 6 + name_w
        bar_w = max(10, w - bar_x - pct_w - 4)
        for i, cls in enumerate(self.classes):
            y = TITLE_H + i * ROW_H
            pm = emoji_pixmap(cls)
            if not pm.isNull():
                p.drawPixmap(QRectF(0, y + 2, icon, icon), pm, QRectF(pm.rect()))
            p.setFont(bold if cls == top else base_font)
            p.setPen(pal.windowText().color())
            p.drawText(QRectF(icon + 6, y, name_w, ROW_H), Qt.AlignmentFlag.AlignVCenter, cls)
            track = QRectF(bar_x, y + 4, bar_w, ROW_H - 8)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(pal.mid().color().lighter(130))
            p.drawRoundedRect(track, 3, 3)
            v = min(max(float(self._probs.get(cls, 0.0)), 0.0), 1.0)
            if v > 0:
                p.setBrush(qcolor(cls) if cls in CLASS_COLORS_BGR else QColor(150, 150, 150))
                p.drawRoundedRect(
                    QRectF(track.x(), track.y(), max(2.0, bar_w * v), track.height()), 3, 3
                )
            p.setPen(pal.windowText().color())
            text = f"{v * 100:.0f}%" if self._probs else "–"
            p.drawText(
                QRectF(bar_x + bar_w, y, pct_w, ROW_H),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                text,
            )
        p.end()
