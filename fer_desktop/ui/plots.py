"""A light line plot drawn with QPainter: several named series, axes with ticks, a legend."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")


def nice_ticks(lo: float, hi: float, target: int = 5, integer: bool = False) -> list[float]:
    """Round tick values covering [lo, hi] (1-2-5 steps), about `target` of them."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return []
    if hi <= lo:
        hi = lo + 1
    raw = (hi - lo) / max(target, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 5, 10)), key=lambda st: abs(math.log(st / raw)))
    if integer:
        step = max(1.0, round(step))
    first = math.ceil(lo / step - 1e-9) * step
    ticks, v = [], first
    while v <= hi + step * 1e-9:
        ticks.append(round(v, 10))
        v += step
    return ticks


def _fmt(v: float) -> str:
    return f"{v:.0f}" if abs(v - round(v)) < 1e-9 and abs(v) >= 1 else f"{v:.3g}"


@dataclass
class Series:
    name: str
    color: QColor
    dashed: bool = False
    points: list[tuple[float, float]] = field(default_factory=list)


class LinePlot(QWidget):
    """Plots named series against an integer x (epochs). `y_range` fixes the y axis, else auto."""

    MARGIN_L, MARGIN_R, MARGIN_T, MARGIN_B = 46, 12, 26, 32

    def __init__(
        self,
        title: str = "",
        *,
        x_label: str = "epoch",
        y_range: tuple[float, float] | None = None,
        y_percent: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.title = title
        self.x_label = x_label
        self.y_range = y_range
        self.y_percent = y_percent
        self.x_extent: tuple[float, float] | None = None  # e.g. (1, planned epochs)
        self._series: dict[str, Series] = {}
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(220, 150)

    def sizeHint(self) -> QSize:
        return QSize(420, 240)

    # --- data ------------------------------------------------------------------------------

    def add_series(self, name: str, color: str | None = None, dashed: bool = False) -> None:
        if name not in self._series:
            c = QColor(color or PALETTE[len(self._series) % len(PALETTE)])
            self._series[name] = Series(name, c, dashed)

    def add_point(self, name: str, x: float, y: float) -> None:
        """Append one point (a new epoch) and repaint."""
        self.add_series(name)
        pts = self._series[name].points
        if pts and pts[-1][0] >= x:  # a resumed run re-sends an epoch: keep one point per x
            pts[:] = [p for p in pts if p[0] < x]
        pts.append((float(x), float(y)))
        self.update()

    def set_points(self, name: str, points: list[tuple[float, float]]) -> None:
        self.add_series(name)
        self._series[name].points = [(float(x), float(y)) for x, y in points]
        self.update()

    def clear(self) -> None:
        for s in self._series.values():
            s.points.clear()
        self.x_extent = None
        self.update()

    def set_x_extent(self, lo: float, hi: float) -> None:
        """Always show at least [lo, hi] on x, so a live run's curves grow towards the end."""
        self.x_extent = (float(lo), float(hi))
        self.update()

    def points(self, name: str) -> list[tuple[float, float]]:
        return list(self._series[name].points) if name in self._series else []

    # --- painting --------------------------------------------------------------------------

    def _ranges(self) -> tuple[float, float, float, float]:
        pts = [p for s in self._series.values() for p in s.points if math.isfinite(p[1])]
        xs = [p[0] for p in pts] + list(self.x_extent or ()) or [1.0]
        x0, x1 = min(xs), max(xs)
        x0, x1 = (x0 - 1, x1 + 1) if x0 == x1 else (x0, x1)
        pad = (x1 - x0) * 0.02  # markers at the ends stay whole
        x0, x1 = x0 - pad, x1 + pad
        if self.y_range:
            return x0, x1, *self.y_range
        ys = [p[1] for p in pts] or [0.0, 1.0]
        y0, y1 = min(ys), max(ys)
        pad = (y1 - y0) * 0.08 or max(abs(y1) * 0.1, 0.05)
        return x0, x1, y0 - pad, y1 + pad

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        p.fillRect(self.rect(), pal.base())
        fg = pal.text().color()
        grid = QColor(fg)
        grid.setAlpha(40)
        fm = QFontMetrics(self.font())
        area = QRectF(
            self.MARGIN_L,
            self.MARGIN_T,
            self.width() - self.MARGIN_L - self.MARGIN_R,
            self.height() - self.MARGIN_T - self.MARGIN_B,
        )
        if area.width() < 20 or area.height() < 20:
            return
        self._paint_title_and_legend(p, fm, fg)
        if not any(s.points for s in self._series.values()):
            p.setPen(grid.darker(150))
            p.drawText(area, Qt.AlignmentFlag.AlignCenter, "no epochs yet")
            p.setPen(QPen(fg, 1))
            p.drawLine(area.bottomLeft(), area.bottomRight())
            p.drawLine(area.bottomLeft(), area.topLeft())
            return
        x0, x1, y0, y1 = self._ranges()

        def to_px(x: float, y: float) -> QPointF:
            return QPointF(
                area.left() + (x - x0) / (x1 - x0) * area.width(),
                area.bottom() - (y - y0) / (y1 - y0) * area.height(),
            )

        p.setPen(QPen(fg, 1))
        for ty in nice_ticks(y0, y1, max(2, int(area.height() // 24))):
            if y0 - 1e-9 <= ty <= y1 + 1e-9:
                pt = to_px(x0, ty)
                p.setPen(QPen(grid, 1))
                p.drawLine(QPointF(area.left(), pt.y()), QPointF(area.right(), pt.y()))
                p.setPen(fg)
                label = f"{ty:.0%}" if self.y_percent else _fmt(ty)
                p.drawText(
                    QRectF(0, pt.y() - 8, self.MARGIN_L - 6, 16),
                    Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                    label,
                )
        for tx in nice_ticks(x0, x1, max(2, int(area.width() // 60)), integer=True):
            if x0 - 1e-9 <= tx <= x1 + 1e-9:
                pt = to_px(tx, y0)
                p.setPen(QPen(grid, 1))
                p.drawLine(QPointF(pt.x(), area.top()), QPointF(pt.x(), area.bottom()))
                p.setPen(fg)
                p.drawLine(QPointF(pt.x(), area.bottom()), QPointF(pt.x(), area.bottom() + 4))
                p.drawText(
                    QRectF(pt.x() - 30, area.bottom() + 4, 60, fm.height()),
                    Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                    _fmt(tx),
                )
        p.setPen(QPen(fg, 1))
        p.drawLine(area.bottomLeft(), area.bottomRight())
        p.drawLine(area.bottomLeft(), area.topLeft())
        p.drawText(
            QRectF(area.left(), self.height() - fm.height() - 1, area.width(), fm.height()),
            Qt.AlignmentFlag.AlignHCenter,
            self.x_label,
        )

        p.setClipRect(area.adjusted(-4, -4, 4, 4))
        for s in self._series.values():
            if not s.points:
                continue
            pen = QPen(s.color, 2)
            if s.dashed:
                pen.setStyle(Qt.PenStyle.DashLine)
            p.setPen(pen)
            path = QPainterPath(to_px(*s.points[0]))
            for pt in s.points[1:]:
                path.lineTo(to_px(*pt))
            p.drawPath(path)
            if len(s.points) <= 60:
                p.setPen(QPen(s.color, 1))
                p.setBrush(s.color)
                for pt in s.points:
                    p.drawEllipse(to_px(*pt), 2.8, 2.8)
                p.setBrush(Qt.BrushStyle.NoBrush)

    def _paint_title_and_legend(self, p: QPainter, fm: QFontMetrics, fg: QColor) -> None:
        font = p.font()
        bold = p.font()
        bold.setBold(True)
        p.setFont(bold)
        p.setPen(fg)
        p.drawText(
            QRectF(self.MARGIN_L, 2, self.width(), self.MARGIN_T - 4),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            self.title,
        )
        p.setFont(font)
        x = self.width() - self.MARGIN_R
        cy = (self.MARGIN_T - 2) / 2
        for s in reversed(list(self._series.values())):
            w = fm.horizontalAdvance(s.name)
            x -= w
            p.setPen(fg)
            p.drawText(
                QRectF(x, 2, w + 2, self.MARGIN_T - 4), Qt.AlignmentFlag.AlignVCenter, s.name
            )
            pen = QPen(s.color, 2)
            if s.dashed:
                pen.setStyle(Qt.PenStyle.DashLine)
            p.setPen(pen)
            p.drawLine(QPointF(x - 22, cy), QPointF(x - 4, cy))
            x -= 34
