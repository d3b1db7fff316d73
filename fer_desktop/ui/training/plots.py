"""Training curves (pyqtgraph): named series against epochs, a legend, axes with correct ticks."""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")
MARKERS_UP_TO = 60  # points per series drawn with a marker; more would hide the line


class EpochAxis(pg.AxisItem):
    """Ticks on whole epochs only (pyqtgraph would also label 1.5, 2.5, … on short runs)."""

    def tickValues(self, minVal: float, maxVal: float, size: float):  # noqa: N802, N803 - pyqtgraph's names
        levels = [
            (spacing, [v for v in values if float(v).is_integer()])
            for spacing, values in super().tickValues(minVal, maxVal, size)
            if spacing >= 1
        ]
        if not any(values for _, values in levels):
            values = [float(v) for v in range(math.ceil(minVal), math.floor(maxVal) + 1)]
            levels = [(1.0, values)]
        return levels


class PercentAxis(pg.AxisItem):
    """Tick labels as percentages of 1 (0.25 -> "25%")."""

    def tickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph's name
        decimals = max(0, -math.floor(math.log10(spacing * 100))) if spacing > 0 else 0
        return [f"{v * 100:.{decimals}f}%" for v in values]


class LinePlot(pg.PlotWidget):
    """Plots named series against an integer x (epochs). `y_range` fixes the y axis, else auto."""

    def __init__(
        self,
        title: str = "",
        *,
        x_label: str = "epoch",
        y_range: tuple[float, float] | None = None,
        y_percent: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        axes = {"bottom": EpochAxis("bottom")}
        if y_percent:
            axes["left"] = PercentAxis("left")
        super().__init__(parent, axisItems=axes)
        self.title = title
        self.y_range = y_range
        self.x_extent: tuple[float, float] | None = None  # e.g. (1, planned epochs)
        self._points: dict[str, list[tuple[float, float]]] = {}
        self._items: dict[str, pg.PlotDataItem] = {}
        self._colors: dict[str, QColor] = {}
        item = self.getPlotItem()
        item.setMenuEnabled(False)
        item.hideButtons()
        item.setMouseEnabled(x=False, y=False)
        item.showGrid(x=True, y=True, alpha=0.15)
        item.setLabel("bottom", x_label)
        self.legend = item.addLegend(offset=(-8, 8), labelTextSize="9pt")
        self._apply_palette()
        # PlotWidget binds PlotItem.clear onto the instance, which would delete the series.
        self.clear = self.clear_points
        if y_range is not None:
            item.setYRange(*y_range, padding=0.05)  # room for the end labels (0%, 100%)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(220, 150)

    def sizeHint(self) -> QSize:
        return QSize(420, 240)

    def _apply_palette(self) -> None:
        pal = self.palette()
        fg = pal.color(QPalette.ColorRole.WindowText)
        self.setBackground(pal.color(QPalette.ColorRole.Base))
        item = self.getPlotItem()
        item.setTitle(self.title, color=fg.name(), bold=True, size="10pt")
        for name in ("left", "bottom"):
            axis = item.getAxis(name)
            axis.setPen(pg.mkPen(fg))
            axis.setTextPen(pg.mkPen(fg))
        self.legend.setLabelTextColor(fg)

    # --- data ------------------------------------------------------------------------------

    def add_series(self, name: str, color: str | None = None, dashed: bool = False) -> None:
        if name in self._items:
            return
        c = QColor(color or PALETTE[len(self._items) % len(PALETTE)])
        pen = pg.mkPen(c, width=2)
        if dashed:
            pen.setStyle(Qt.PenStyle.DashLine)
        self._colors[name] = c
        self._points[name] = []
        self._items[name] = self.getPlotItem().plot(
            [], [], pen=pen, name=name, symbol="o", symbolSize=5, symbolBrush=c, symbolPen=c
        )

    def add_point(self, name: str, x: float, y: float) -> None:
        """Append one point (a new epoch) and redraw."""
        self.add_series(name)
        pts = self._points[name]
        if pts and pts[-1][0] >= x:  # a resumed run re-sends an epoch: keep one point per x
            pts[:] = [p for p in pts if p[0] < x]
        pts.append((float(x), float(y)))
        self._redraw(name)

    def set_points(self, name: str, points: list[tuple[float, float]]) -> None:
        self.add_series(name)
        self._points[name] = [(float(x), float(y)) for x, y in points]
        self._redraw(name)

    def clear_points(self) -> None:
        """Empty every series (the series, colours and legend stay)."""
        for name in self._points:
            self._points[name] = []
            self._redraw(name)
        self.x_extent = None
        self.getPlotItem().enableAutoRange(x=True)

    def set_x_extent(self, lo: float, hi: float) -> None:
        """Always show at least [lo, hi] on x, so a live run's curves grow towards the end."""
        self.x_extent = (float(lo), float(hi))
        self._update_x_range()

    def points(self, name: str) -> list[tuple[float, float]]:
        return list(self._points.get(name, []))

    def _redraw(self, name: str) -> None:
        pts = [p for p in self._points[name] if math.isfinite(p[1])]
        item = self._items[name]
        item.setData([p[0] for p in pts], [p[1] for p in pts])
        item.setSymbol("o" if len(pts) <= MARKERS_UP_TO else None)
        self._update_x_range()

    def _update_x_range(self) -> None:
        xs = [p[0] for pts in self._points.values() for p in pts] + list(self.x_extent or ())
        if not xs:
            return
        lo, hi = min(xs), max(xs)
        if lo == hi:
            lo, hi = lo - 1, hi + 1
        self.getPlotItem().setXRange(lo, hi, padding=0.03)
