"""Confusion-matrix heatmap (QPainter) with an epoch slider and a per-class precision/recall table."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QSlider,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

_LOW, _HIGH = QColor(247, 251, 255), QColor(8, 48, 107)  # white to dark blue


def row_normalised(matrix: list[list[int]]) -> list[list[float]]:
    """Each row divided by its sum: the share of a true class predicted as each class."""
    return [[v / s if (s := sum(row)) else 0.0 for v in row] for row in matrix]


def heat_colour(v: float) -> QColor:
    v = min(max(v, 0.0), 1.0)
    return QColor(*(round(a + (b - a) * v) for a, b in zip(_LOW.getRgb()[:3], _HIGH.getRgb()[:3])))


class ConfusionMatrixView(QWidget):
    """Rows: true class, columns: predicted class. Cells coloured by row-normalised value, counts inside."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.matrix: list[list[int]] | None = None
        self.classes: list[str] = []
        self.setMinimumSize(260, 240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:
        return QSize(420, 380)

    def set_matrix(self, matrix: list[list[int]] | None, classes: list[str]) -> None:
        self.matrix = [list(map(int, r)) for r in matrix] if matrix else None
        self.classes = list(classes)
        self.update()

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        p.fillRect(self.rect(), pal.window())
        fg = pal.windowText().color()
        fm = QFontMetrics(self.font())
        if not self.matrix:
            p.setPen(fg)
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No confusion matrix yet")
            return
        k = len(self.matrix)
        names = self.classes if len(self.classes) == k else [str(i) for i in range(k)]
        name_w = max(fm.horizontalAdvance(n) for n in names) + 8
        line = fm.height()
        left = line + 4 + name_w  # "true" title + row names
        top = line + 4  # "predicted" title
        avail_w = self.width() - left - 6
        avail_h = self.height() - top - 6
        # column names go below the grid: flat if they fit, else rotated 45 degrees
        cell = min(avail_w / k, (avail_h - line - 4) / k)
        rotate = cell < name_w
        if rotate:
            cell = max(8.0, min(avail_w / k, (avail_h - name_w * 0.72 - 4) / k))
        grid = QRectF(left, top, cell * k, cell * k)
        norm = row_normalised(self.matrix)

        bold = p.font()
        bold.setBold(True)
        p.setFont(bold)
        p.setPen(fg)
        p.drawText(
            QRectF(grid.left(), 0, grid.width(), top), Qt.AlignmentFlag.AlignCenter, "predicted"
        )
        p.save()
        p.translate(line / 2 + 2, grid.center().y())
        p.rotate(-90)
        p.drawText(
            QRectF(-grid.height() / 2, -line / 2, grid.height(), line),
            Qt.AlignmentFlag.AlignCenter,
            "true",
        )
        p.restore()
        p.setFont(self.font())

        small = self.font()
        small.setPointSizeF(max(6.0, min(self.font().pointSizeF(), cell / 4)))
        for r in range(k):
            for c in range(k):
                rect = QRectF(grid.left() + c * cell, grid.top() + r * cell, cell, cell)
                v = norm[r][c]
                p.fillRect(rect, heat_colour(v))
                p.setPen(QColor("white") if v > 0.5 else QColor(30, 30, 30))
                p.setFont(small)
                p.drawText(rect, Qt.AlignmentFlag.AlignCenter, str(self.matrix[r][c]))
        p.setFont(self.font())
        p.setPen(QPen(QColor(120, 120, 120), 1))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(grid)
        p.setPen(QPen(fg, 1.5))
        for i in range(k):  # outline the diagonal: the correct predictions
            p.drawRect(
                QRectF(grid.left() + i * cell, grid.top() + i * cell, cell, cell).adjusted(
                    1, 1, -1, -1
                )
            )

        p.setPen(fg)
        for i, n in enumerate(names):
            p.drawText(
                QRectF(left - name_w - 2, grid.top() + i * cell, name_w - 2, cell),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                n,
            )
            cx = grid.left() + (i + 0.5) * cell
            if rotate:
                p.save()
                p.translate(QPointF(cx + line / 3, grid.bottom() + 4))
                p.rotate(-45)
                p.drawText(
                    QRectF(-name_w, -line, name_w, line),
                    Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                    n,
                )
                p.restore()
            else:
                p.drawText(
                    QRectF(cx - cell / 2, grid.bottom() + 2, cell, line),
                    Qt.AlignmentFlag.AlignHCenter,
                    n,
                )


class ClassMetricsTable(QTableWidget):
    """Per-class precision, recall and validation support of one epoch."""

    HEADERS = ("precision", "recall", "val images")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(self.HEADERS), parent)
        self.setHorizontalHeaderLabels(list(self.HEADERS))
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def set_metrics(
        self, classes: list[str], precision: list[float], recall: list[float], support: list[int]
    ) -> None:
        self.setRowCount(len(classes))
        self.setVerticalHeaderLabels(list(classes))
        for r in range(len(classes)):
            for c, text in enumerate((f"{precision[r]:.1%}", f"{recall[r]:.1%}", str(support[r]))):
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.setItem(r, c, item)


class ConfusionPanel(QWidget):
    """The matrix of any epoch of a run (pick it with the slider) and its per-class metrics."""

    epoch_shown = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: dict[int, dict] = {}
        self._classes: list[str] = []
        self.view = ConfusionMatrixView()
        self.table = ClassMetricsTable()
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setEnabled(False)
        self.slider.setPageStep(1)
        self.slider.setToolTip(
            "Pick the epoch whose confusion matrix is shown (compare the first and the last)."
        )
        self.slider.valueChanged.connect(self._show_index)
        self.label = QLabel("–")
        self.label.setMinimumWidth(150)
        pick = QHBoxLayout()
        pick.addWidget(QLabel("Matrix of epoch"))
        pick.addWidget(self.slider, 1)
        pick.addWidget(self.label)
        left = QVBoxLayout()
        left.setContentsMargins(0, 0, 0, 0)
        left.addWidget(self.view, 1)
        left.addLayout(pick)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(left, 3)
        lay.addWidget(self.table, 2)

    def epochs(self) -> list[int]:
        return sorted(self._rows)

    def shown_epoch(self) -> int | None:
        e = self.epochs()
        return e[self.slider.value()] if e else None

    def clear(self) -> None:
        self._rows.clear()
        self.slider.blockSignals(True)
        self.slider.setRange(0, 0)
        self.slider.blockSignals(False)
        self.slider.setEnabled(False)
        self.slider.setTickPosition(QSlider.TickPosition.NoTicks)
        self.view.set_matrix(None, [])
        self.table.setRowCount(0)
        self.label.setText("–")

    def set_history(self, rows: list[dict], classes: list[str]) -> None:
        """Show a whole run (e.g. history.json); the last epoch is selected."""
        self.clear()
        self._classes = list(classes)
        for row in rows:
            if row.get("confusion_matrix"):
                self._rows[int(row["epoch"])] = row
        self._refresh(follow=True)

    def add_epoch(self, row: dict, classes: list[str] | None = None) -> None:
        """Add one epoch event; the slider follows the newest epoch unless the user moved it back."""
        if classes:
            self._classes = list(classes)
        follow = not self._rows or self.slider.value() == self.slider.maximum()
        self._rows[int(row["epoch"])] = row
        self._refresh(follow)

    def _refresh(self, follow: bool) -> None:
        n = len(self._rows)
        self.slider.setEnabled(n > 1)
        self.slider.setTickPosition(  # Qt draws a dotted ruler for an empty range
            QSlider.TickPosition.TicksBelow if n > 1 else QSlider.TickPosition.NoTicks
        )
        old = self.slider.value()
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(n - 1, 0))
        self.slider.setValue(n - 1 if follow else min(old, n - 1))
        self.slider.blockSignals(False)
        self._show_index(self.slider.value())

    def _show_index(self, index: int) -> None:
        epochs = self.epochs()
        if not epochs:
            return
        epoch = epochs[min(max(index, 0), len(epochs) - 1)]
        row = self._rows[epoch]
        cm = row["confusion_matrix"]
        k = len(cm)
        classes = self._classes if len(self._classes) == k else [str(i) for i in range(k)]
        self.view.set_matrix(cm, classes)
        support = [sum(r) for r in cm]
        self.table.set_metrics(
            classes, row.get("precision") or [0.0] * k, row.get("recall") or [0.0] * k, support
        )
        acc = row.get("val_acc")
        self.label.setText(
            f"{epoch} / {epochs[-1]}" + (f" · val acc {acc:.1%}" if acc is not None else "")
        )
        self.epoch_shown.emit(epoch)
