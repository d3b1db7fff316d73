"""Per-face emotion timelines with pyqtgraph: 7 probability curves over a dominant-label band.

`TrackPlot` draws one face's chart into a PlotItem (live strip chart and session viewer).
`EmotionTimeline` is the live strip chart: the last `window_s` seconds of the faces seen most
recently, redrawn on a timer (not per frame), so the cost is bounded.
"""

from __future__ import annotations

import html
import time
from collections.abc import Iterable, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from fer_desktop.core.emotions import CLASSES, VALENCE_NOTE, valence
from fer_desktop.core.render.overlay import CLASS_COLORS_BGR, label_text
from fer_desktop.core.sessions.annotations import KIND_RGB
from fer_desktop.core.sessions.figures import LABELS
from fer_desktop.core.types import FaceResult

BAND_H = 0.12  # height of the dominant-label band under the curves, in probability units
GAP_S = 0.75  # a face unseen for longer than this leaves a hole in its band
LABEL_INDEX = {lab: i for i, lab in enumerate(LABELS)}
BRUSHES: list = []  # one per LABELS entry, made once a QApplication exists


def _brushes() -> list:
    if not BRUSHES:
        BRUSHES.extend(pg.mkBrush(rgb(lab)) for lab in LABELS)
    return BRUSHES


def rgb(label: str) -> tuple[int, int, int]:
    return CLASS_COLORS_BGR.get(label, CLASS_COLORS_BGR["uncertain"])[::-1]


def legend_html() -> str:
    """A one-line colour legend of the 7 classes (and uncertain), as rich text."""
    parts = [
        f'<span style="color: rgb{rgb(lab)}">■</span>&nbsp;{lab}' for lab in (*CLASSES, "uncertain")
    ]
    parts.append("<b>- - -</b>&nbsp;valence (right axis)")
    return "&nbsp;&nbsp; ".join(parts)


def label_runs(
    times: np.ndarray, codes: np.ndarray, t0: float, t1: float, cols: int = 400
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Runs of the displayed label over [t0, t1] (starts, ends, label codes: LABELS indices) on
    a grid of `cols` cells (never more bars than pixels); a hole where unseen over GAP_S."""
    if len(times) == 0 or t1 <= t0:
        return np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int64)
    step = (t1 - t0) / cols
    grid = t0 + (np.arange(cols) + 0.5) * step
    idx = np.searchsorted(times, grid, side="right") - 1
    seen = (idx >= 0) & (grid - times[np.clip(idx, 0, None)] <= GAP_S)
    cell = np.where(seen, codes[np.clip(idx, 0, None)], -1)
    edges = np.flatnonzero(np.diff(cell)) + 1
    starts = np.concatenate([[0], edges])
    ends = np.concatenate([edges, [cols]])
    keep = cell[starts] >= 0
    return t0 + starts[keep] * step, t0 + ends[keep] * step, cell[starts[keep]]


def label_codes(labels: Iterable[str]) -> np.ndarray:
    """Index of each label in LABELS (unknown labels count as "uncertain")."""
    return np.array([LABEL_INDEX.get(lab, len(CLASSES)) for lab in labels], dtype=np.int64)


class _Rows:
    """One face's last rows in a ring buffer: times, probabilities, label codes."""

    def __init__(self, capacity: int) -> None:
        self.times = np.zeros(capacity)
        self.probs = np.zeros((capacity, len(CLASSES)))
        self.codes = np.zeros(capacity, dtype=np.int64)
        self.n = 0  # rows written so far

    def append(self, t: float, probs: Sequence[float], code: int) -> None:
        i = self.n % len(self.times)
        self.times[i], self.probs[i], self.codes[i] = t, probs, code
        self.n += 1

    def since(self, t0: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The rows at or after `t0`, oldest first."""
        cap = len(self.times)
        if self.n <= cap:
            order = np.arange(self.n)
        else:
            start = self.n % cap
            order = np.concatenate([np.arange(start, cap), np.arange(start)])
        first = np.searchsorted(self.times[order], t0)
        order = order[first:]
        return self.times[order], self.probs[order], self.codes[order]


class TrackPlot:
    """One face's timeline in `plot`: a curve per class and the label band below them."""

    def __init__(self, plot: pg.PlotItem, track_id: int) -> None:
        self.plot = plot
        self.track_id = track_id
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setMouseEnabled(x=False, y=False)
        plot.setYRange(-BAND_H - 0.02, 1.02, padding=0)
        plot.getAxis("left").setTicks([[(0, "0"), (0.5, ".5"), (1, "1")]])
        plot.getAxis("left").setWidth(28)
        plot.showGrid(x=True, y=False, alpha=0.25)
        self.curves = [plot.plot(pen=pg.mkPen(rgb(c), width=1), name=c) for c in CLASSES]
        for curve in self.curves:  # never more points than pixels: the cost stays flat
            curve.setDownsampling(auto=True, method="peak")
            curve.setClipToView(True)
        self.band: pg.BarGraphItem | None = None
        # Valence (-1..1) on its own right-hand axis, dashed: derived from the 7 probabilities.
        self.valence_box = pg.ViewBox(enableMouse=False)
        plot.showAxis("right")
        plot.scene().addItem(self.valence_box)
        axis = plot.getAxis("right")
        axis.linkToView(self.valence_box)
        axis.setTicks([[(-1, "-1"), (0, "0"), (1, "+1")]])
        axis.setWidth(24)
        axis.setToolTip(VALENCE_NOTE)
        self.valence_box.setXLink(plot)
        self.valence_box.setYRange(-1.05, 1.05 + 2.1 * BAND_H, padding=0)
        self.valence = pg.PlotCurveItem(
            pen=pg.mkPen((20, 20, 20), width=1.5, style=Qt.PenStyle.DashLine)
        )
        self.valence_box.addItem(self.valence)
        plot.vb.sigResized.connect(self._sync_valence_box)
        self._sync_valence_box()
        self.marker_lines: list[pg.InfiniteLine] = []
        self.set_title(f"Face {track_id}")

    def dispose(self) -> None:
        """Take the valence ViewBox out of the scene (clearing the layout leaves it drawn)."""
        if (scene := self.valence_box.scene()) is not None:
            scene.removeItem(self.valence_box)

    def _sync_valence_box(self) -> None:
        self.valence_box.setGeometry(self.plot.vb.sceneBoundingRect())
        self.valence_box.linkedViewChanged(self.plot.vb, self.valence_box.XAxis)

    def set_markers(self, markers: Iterable[tuple], offset: float = 0.0) -> None:
        """Named lines at (time - offset), a kind's colour; names at 3 heights in turn (issue 32)."""
        for line in self.marker_lines:
            self.plot.removeItem(line)
        self.marker_lines = []
        for i, (t, name, *kind) in enumerate(sorted(markers, key=lambda m: m[0])):
            line = pg.InfiniteLine(t - offset, angle=90, movable=False,  # a kind's own colour
                                   pen=pg.mkPen(KIND_RGB[kind[0] if kind else 0], width=1, style=Qt.PenStyle.DotLine),
                                   label=_literal(name), labelOpts={"position": 0.92 - 0.16 * (i % 3), "color": (60, 60, 60)})  # fmt: skip
            self.plot.addItem(line)
            self.marker_lines.append(line)

    def set_title(self, text: str) -> None:  # plain text: a name is data, never HTML markup
        if text != getattr(self, "_title", None):  # a new title re-lays out the whole chart
            self._title = text
            self.plot.setTitle(html.escape(text), size="9pt", justify="left")

    def set_data(
        self,
        times: np.ndarray,
        probs: np.ndarray,
        codes: np.ndarray,
        t0: float,
        t1: float,
        offset: float = 0.0,
    ) -> None:
        """Show rows (times, probs (n, 7), label codes into LABELS) over the x range [t0, t1],
        drawn at x = time - offset. A gap longer than GAP_S breaks the curves: an absent face
        is not drawn as a line."""
        times = np.asarray(times, dtype=np.float64)
        connect = np.ones(len(times), dtype=bool)
        if len(times) > 1:
            connect[:-1] = np.diff(times) <= GAP_S
        for i, curve in enumerate(self.curves):
            if len(times):
                curve.setData(times - offset, probs[:, i], connect=connect)
            else:
                curve.setData([], [])
        if len(times):
            self.valence.setData(times - offset, valence(probs), connect=connect)
        else:
            self.valence.setData([], [])
        if self.band is not None:
            self.plot.removeItem(self.band)
            self.band = None
        x0, x1, run_codes = label_runs(times, codes, t0, t1)
        if len(x0):
            brushes = _brushes()
            self.band = pg.BarGraphItem(
                x0=x0 - offset,
                x1=x1 - offset,
                y0=-BAND_H,
                y1=-0.01,
                brushes=[brushes[c] for c in run_codes],
                pen=pg.mkPen(None),
            )
            self.plot.addItem(self.band)
        self.plot.setXRange(t0 - offset, t1 - offset, padding=0)


class EmotionTimeline(QWidget):
    """Live strip chart: for the `max_faces` faces seen most recently (the selected one first),
    the last `window_s` seconds of probabilities. Feed it with `add(time_s, faces)` for every
    result; it redraws every `refresh_ms`."""

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        window_s: float = 60.0,
        max_faces: int = 3,
        refresh_ms: int = 500,
    ) -> None:
        super().__init__(parent)
        self.window_s = window_s
        self.max_faces = max_faces
        self.selected: int | None = None
        self.last_refresh_ms = 0.0
        self._rows: dict[int, _Rows] = {}
        self._last_seen: dict[int, float] = {}
        self._shown_text: dict[int, str] = {}  # the label text each box shows now
        self._t0: float | None = None
        self._now = 0.0
        self.markers: list[tuple[float, str, int]] = []  # (seconds on its clock, name, kind)
        self._plots: dict[int, TrackPlot] = {}
        self._dirty = False
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground("w")
        self.view.ci.setContentsMargins(2, 2, 2, 2)
        self.placeholder = QLabel("The emotion timeline of each face appears here.")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.legend = QLabel(legend_html())
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.placeholder, 1)
        layout.addWidget(self.legend)
        self.view.hide()
        self.setMinimumHeight(150)  # one face's chart stays readable
        self._timer = QTimer(self)
        self._timer.setInterval(refresh_ms)
        self._timer.timeout.connect(self._on_timer)
        self._timer.start()

    def add(self, time_s: float, faces: Iterable[FaceResult]) -> None:
        """One processed frame: its time (any clock, in seconds) and its faces as displayed."""
        if self._t0 is None:
            self._t0 = time_s
        t = time_s - self._t0
        self._now = max(self._now, t)
        for f in faces:
            rows = self._rows.get(f.track_id)
            if rows is None:
                rows = self._rows[f.track_id] = _Rows(int(self.window_s * 120) + 1)  # 120 fps
            probs = [f.probabilities.get(c, 0.0) for c in CLASSES]
            rows.append(t, probs, LABEL_INDEX.get(f.label, len(CLASSES)))
            self._last_seen[f.track_id] = t
            self._shown_text[f.track_id] = label_text(f)  # word for word what the box says
            tp = self._plots.get(f.track_id)
            if tp is not None:  # the caption follows every frame, as the box does
                mark = " (selected)" if f.track_id == self.selected else ""
                tp.set_title(f"Face {f.track_id}{mark}: {self._shown_text[f.track_id]}")
        self._dirty = True

    def add_marker(self, time_s: float, name: str, kind: int = 0) -> None:
        """A marker line at `time_s` (the clock `add` is given), on every face's chart."""
        if self._t0 is None:
            self._t0 = time_s
        self.markers.append((time_s - self._t0, name, kind))
        self._dirty = True

    def clear(self) -> None:
        """Forget every face (a new source): the time axis starts again at 0."""
        self.markers.clear()
        self._rows.clear()
        self._shown_text.clear()
        self._last_seen.clear()
        self._t0, self._now = None, 0.0
        self._dirty = True
        self.refresh()

    def set_selected(self, track_id: int | None) -> None:
        self.selected = track_id
        self._dirty = True

    def shown_tracks(self) -> list[int]:
        """The faces with a chart: the selected one, then the most recently seen, by id."""
        t_min = self._now - self.window_s
        live = [tid for tid, t in self._last_seen.items() if t >= t_min]
        live.sort(key=lambda tid: (tid != self.selected, -self._last_seen[tid], tid))
        return sorted(live[: self.max_faces], key=lambda tid: (tid != self.selected, tid))

    def refresh(self) -> float:
        """Redraw now; returns the milliseconds it took (also kept in `last_refresh_ms`)."""
        start = time.perf_counter()
        self._dirty = False
        t1 = self._now
        t0 = t1 - self.window_s
        for tid in [tid for tid in self._rows if self._last_seen[tid] < t0]:
            del self._rows[tid], self._last_seen[tid]  # gone for a whole window
        shown = self.shown_tracks()
        if list(self._plots) != shown:
            self._rebuild(shown)
        for tid, tp in self._plots.items():
            times, probs, codes = self._rows[tid].since(t0)
            # x = seconds before now: the axis stays put (and cached) while the data scroll
            tp.set_data(times, probs, codes, t0, t1, offset=t1)
            tp.set_markers([m for m in self.markers if m[0] >= t0], offset=t1)
            seen = len(times) and self._now - times[-1] <= GAP_S
            now = self._shown_text.get(tid, LABELS[codes[-1]]) if seen else "not seen"
            mark = " (selected)" if tid == self.selected else ""
            tp.set_title(f"Face {tid}{mark}: {now}")
        self.last_refresh_ms = (time.perf_counter() - start) * 1000
        return self.last_refresh_ms

    # ------------------------------------------------------------------------------ internals
    def _rebuild(self, shown: list[int]) -> None:
        for old in self._plots.values():
            old.dispose()
        self.view.clear()
        self._plots = {}
        for row, tid in enumerate(shown):
            plot = self.view.addPlot(row=row, col=0)
            self._plots[tid] = TrackPlot(plot, tid)
            if row < len(shown) - 1:
                plot.getAxis("bottom").setStyle(showValues=False)
        if shown:
            self._plots[shown[-1]].plot.setLabel("bottom", "seconds (0 = now)")
        self.view.setVisible(bool(shown))
        self.placeholder.setVisible(not shown)

    def _on_timer(self) -> None:
        if self._dirty and self.isVisible():
            self.refresh()


def _literal(text: str) -> str:
    """A user's text as pyqtgraph's line label shows it: the label is a str.format template
    (issue 28.4: a marker named "Block {A}" made the session impossible to open)."""
    return str(text).replace("{", "{{").replace("}", "}}")
