"""Confusion-matrix heatmap (pyqtgraph) with an epoch slider and a per-class precision/recall table."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QPalette
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

from fer_desktop.core.render.heatmap import heat_rgb, ink_rgb
from fer_desktop.core.training.metrics import row_normalised


class ConfusionMatrixView(pg.PlotWidget):
    """Rows: true class, columns: predicted class. Cells coloured by row-normalised share
    (`core.heatmap`, the same look as the model card's PNG), counts inside, diagonal outlined."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(
            parent, axisItems={"left": pg.AxisItem("left"), "bottom": pg.AxisItem("bottom")}
        )
        self.matrix: list[list[int]] | None = None
        self.classes: list[str] = []
        item = self.getPlotItem()
        item.setMenuEnabled(False)
        item.hideButtons()
        item.setMouseEnabled(x=False, y=False)
        item.invertY(True)  # row 0 at the top, as a matrix is read
        item.setAspectLocked(False)  # cells fill the space: class names stay next to them
        # One title for both axes: a "predicted" axis title centred under the columns read as
        # the name of the middle column ("happy").
        item.setTitle("rows: true class · columns: predicted class", size="9pt")
        self._image = pg.ImageItem(axisOrder="row-major")
        item.addItem(self._image)
        self._texts: list[pg.TextItem] = []
        self._diagonal = pg.PlotCurveItem(
            pen=pg.mkPen(self.palette().color(QPalette.ColorRole.WindowText), width=1.5)
        )
        item.addItem(self._diagonal)
        self._placeholder = pg.TextItem("No confusion matrix yet", anchor=(0.5, 0.5))
        item.addItem(self._placeholder)
        pal = self.palette()
        fg = pal.color(QPalette.ColorRole.WindowText)
        self.setBackground(pal.color(QPalette.ColorRole.Window))
        for name in ("left", "bottom"):
            axis = item.getAxis(name)
            axis.setPen(pg.mkPen(fg))
            axis.setTextPen(pg.mkPen(fg))
            axis.setStyle(tickLength=0)
        self._placeholder.setColor(fg)
        self.setMinimumSize(260, 240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.set_matrix(None, [])

    def sizeHint(self) -> QSize:
        return QSize(420, 380)

    def set_matrix(self, matrix: list[list[int]] | None, classes: list[str]) -> None:
        self.matrix = [list(map(int, r)) for r in matrix] if matrix else None
        self.classes = list(classes)
        item = self.getPlotItem()
        k = len(self.matrix) if self.matrix else 0
        if len(self._texts) != k * k:  # new size: new count labels (else reuse them: cheaper)
            for t in self._texts:
                item.removeItem(t)
            self._texts = []
            for r in range(k):
                for c in range(k):
                    t = pg.TextItem("", anchor=(0.5, 0.5))
                    t.setPos(c + 0.5, r + 0.5)
                    item.addItem(t)
                    self._texts.append(t)
        if not self.matrix:
            self._image.clear()
            self._diagonal.setData([], [])
            self._placeholder.setVisible(True)
            self._placeholder.setPos(0.5, 0.5)
            for name in ("left", "bottom"):
                item.getAxis(name).setTicks([[]])
            item.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
            return
        self._placeholder.setVisible(False)
        names = self.classes if len(self.classes) == k else [str(i) for i in range(k)]
        norm = row_normalised(self.matrix)
        self._image.setImage(heat_rgb(norm), levels=(0, 255))
        self._image.setRect(QRectF(0, 0, k, k))
        for i, t in enumerate(self._texts):
            r, c = divmod(i, k)
            t.setText(str(self.matrix[r][c]), color=ink_rgb(norm[r][c]))
        xs, ys = [], []
        for i in range(k):  # outline the diagonal: the correct predictions
            xs += [i, i + 1, i + 1, i, i, float("nan")]
            ys += [i, i, i + 1, i + 1, i, float("nan")]
        self._diagonal.setData(xs, ys, connect="finite")
        ticks = [[(i + 0.5, n) for i, n in enumerate(names)]]
        item.getAxis("left").setTicks(ticks)
        item.getAxis("bottom").setTicks(ticks)
        item.setRange(xRange=(0, k), yRange=(0, k), padding=0.02)


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
        self,
        classes: list[str],
        precision: list[float],
        recall: list[float],
        support: list[int],
        predicted: list[int] | None = None,
    ) -> None:
        """One row per class; "—" where a figure has nothing to count (a class without
        validation images has no recall, one never predicted no precision: not "0.0%")."""
        self.setRowCount(len(classes))
        self.setVerticalHeaderLabels(list(classes))
        predicted = predicted if predicted is not None else [1] * len(classes)
        for r in range(len(classes)):
            prec = f"{precision[r]:.1%}" if predicted[r] else "\u2014"
            rec = f"{recall[r]:.1%}" if support[r] else "\u2014"
            for c, text in enumerate((prec, rec, str(support[r]))):
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
        predicted = [sum(r[c] for r in cm) for c in range(k)]
        self.table.set_metrics(
            classes, row.get("precision") or [0.0] * k, row.get("recall") or [0.0] * k, support,
            predicted,
        )  # fmt: skip
        acc = row.get("val_acc")
        self.label.setText(
            f"{epoch} / {epochs[-1]}" + (f" · val acc {acc:.1%}" if acc is not None else "")
        )
        self.epoch_shown.emit(epoch)
