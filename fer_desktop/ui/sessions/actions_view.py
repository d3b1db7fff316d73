"""The session window's "Facial actions" tab (issue 31): for one participant, a few blendshape
curves (smile, brow raise, jaw open, blink) on a 0-1 axis, head pose (yaw, pitch, roll) in degrees
below, and the blinks counted. A session recorded without facial actions says so."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QComboBox, QLabel, QVBoxLayout, QWidget

from fer_desktop.core.sessions.reader import SessionData

# (series of TrackTimeline.action, legend, colour): the few a researcher looks at first
CURVES = (
    ("smile", "smile (mouthSmile L+R)", "#e6a800"),
    ("bs_browInnerUp", "brow raise (browInnerUp)", "#7b3fb5"),
    ("bs_jawOpen", "jaw open", "#d9480f"),
    ("blink", "blink (both eyes)", "#1c7ed6"),
)
POSE = (("yaw", "#2b8a3e"), ("pitch", "#868e96"), ("roll", "#c2255c"))
NO_ACTIONS = (
    "This session has no facial actions: it was recorded or analysed with them off "
    "(Model ▸ Facial actions, or analyze --facial-actions)."
)


class ActionsView(QWidget):
    def __init__(self, data: SessionData, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.people = QComboBox()
        self.people.currentIndexChanged.connect(lambda _i: self.redraw())
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.charts = pg.GraphicsLayoutWidget()
        self.charts.setBackground("w")
        self.shapes = self.charts.addPlot(row=0, col=0)
        self.shapes.setYRange(0, 1)
        self.shapes.addLegend(offset=(5, 5))
        self.pose = self.charts.addPlot(row=1, col=0)
        self.pose.setLabel("left", "degrees")
        self.pose.setLabel("bottom", "seconds")
        self.pose.addLegend(offset=(5, 5))
        self.pose.setXLink(self.shapes)
        box = QVBoxLayout(self)
        box.addWidget(self.people)
        box.addWidget(self.summary)
        box.addWidget(self.charts, 1)
        self.set_data(data)

    def set_data(self, data: SessionData) -> None:
        self.data = data
        chosen = self.people.currentData()
        self.people.blockSignals(True)
        self.people.clear()
        for tid, tr in sorted(data.tracks.items()):
            self.people.addItem(tr.name or f"Face {tid}", tid)
        if chosen in data.tracks:
            self.people.setCurrentIndex(self.people.findData(chosen))
        self.people.blockSignals(False)
        self.redraw()

    def series(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(times, values) of the chosen participant's series `name` (NaN rows left out)."""
        tr = self.data.tracks.get(self.people.currentData())
        if tr is None:
            return np.zeros(0), np.zeros(0)
        if name == "blink":
            v = (tr.action("blink_left") + tr.action("blink_right")) / 2
        else:
            v = tr.action(name)
        keep = ~np.isnan(v)
        return tr.times[keep], v[keep]

    def redraw(self) -> None:
        for plot in (self.shapes, self.pose):
            plot.clear()
        tr = self.data.tracks.get(self.people.currentData())
        if tr is None or tr.actions is None or not len(self.series("yaw")[0]):
            self.summary.setText(
                NO_ACTIONS if tr is not None else "No participant in this session."
            )
            return
        for name, legend, colour in CURVES:
            self.shapes.plot(*self.series(name), pen=pg.mkPen(colour, width=1.5), name=legend)
        for name, colour in POSE:
            self.pose.plot(*self.series(name), pen=pg.mkPen(colour, width=1.5), name=name)
        blinks = tr.blinks()
        measured = len(self.series("yaw")[0])
        self.summary.setText(
            f"{measured} of {len(tr.times)} frames measured; {len(blinks)} blink(s). Scores are "
            "MediaPipe blendshapes (0-1), not FACS intensities; yaw > 0: turned to their left."
        )
