"""The Live tab's side panel: source and Start/Stop, processing settings, live figures, face bars.

The panel is a column of titled sections; `add_section` inserts another one (for example a Record
toggle or a timeline) without touching the others.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLayout,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from fer_desktop.core import choices
from fer_desktop.core.support.resources import torch_available
from fer_desktop.ui.live.source_picker import SourcePicker
from fer_desktop.ui.prob_bars import ProbabilityBars
from fer_desktop.ui.widgets import ElidedLabel, ValueSlider

PANEL_WIDTH = 344
FIGURES = (
    ("display", "Display"),
    ("inference", "Inference"),
    ("latency", "Latency p50 / p95"),
    ("dropped", "Dropped"),
    ("faces", "Faces"),
)
# (row, column) of each figure: two per row, so the panel fits a 1280x800 window unscrolled
FIGURE_CELLS = {
    "display": (0, 0),
    "inference": (0, 2),
    "latency": (1, 0),
    "dropped": (2, 0),
    "faces": (2, 2),
}


_Layout = TypeVar("_Layout", bound=QLayout)


def _compact(layout: _Layout) -> _Layout:
    layout.setContentsMargins(8, 4, 8, 6)
    layout.setSpacing(4)
    return layout


LOOP_TEXT = {
    "auto": "Loop if shorter than 30 s",
    "always": "Always loop",
    "never": "Stop at the end",
}


class LivePanel(QScrollArea):
    """Every control and figure of the Live tab beside the video (scrolls only when it must)."""

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        camera_lister: Callable[[], list[int]],
        last_source: str,
        smoothing: float,
        threshold: float,
        mirror: bool,
        loop_video: str = "auto",
    ) -> None:
        super().__init__(parent)
        self.source_combo = SourcePicker(camera_lister=camera_lister, last_source=last_source)
        self.start_button = QPushButton("Start")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        self.mirror_check = QCheckBox("Mirror camera (selfie view)")
        self.mirror_check.setToolTip(
            "Show cameras mirrored, like a mirror; video files and streams are never flipped"
        )
        self.mirror_check.setChecked(mirror)
        self.loop_combo = QComboBox()
        for value in choices.LOOP_MODES:
            text = LOOP_TEXT[value]
            self.loop_combo.addItem(text, value)
        self.loop_combo.setCurrentIndex(max(0, self.loop_combo.findData(loop_video)))
        self.loop_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )  # never widens the fixed-width panel
        self.loop_combo.setMinimumContentsLength(12)
        self.loop_combo.setToolTip(
            "What a video file does at its end (cameras and streams never end)"
        )
        self.state_label = QLabel("Stopped")
        self.state_label.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.stop_button)
        src = _compact(QVBoxLayout())
        src.addWidget(self.source_combo)
        src.addLayout(buttons)
        src.addWidget(self.mirror_check)
        loop_row = QHBoxLayout()
        loop_row.addWidget(QLabel("Video end"))
        loop_row.addWidget(self.loop_combo, 1)
        src.addLayout(loop_row)
        src.addWidget(self.state_label)

        self.smoothing = ValueSlider(
            0, 95, round(smoothing * 100), lambda v: "off" if v == 0 else f"{v / 100:.2f}"
        )
        self.smoothing.setToolTip(
            "Average each face's emotions over time: the past's weight per 1/30 s (0.90: about a third of a second; 0 = off)"
        )
        self.threshold = ValueSlider(0, 100, round(threshold * 100), lambda v: f"{v}%")
        self.threshold.setToolTip('Below this confidence a face is shown as "uncertain"')
        self.detector_label = ElidedLabel("loading…")
        self.model_label = QLabel("loading…")  # wraps: its two figures are read whole
        self.model_label.setWordWrap(True)
        self.model_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.device_label = ElidedLabel("…")
        self.fetch_button = QPushButton("Fetch YOLOv8 face detector…")
        self.fetch_button.setToolTip(
            "Download a better face detector (about 6 MB, AGPL-3.0) from Hugging Face"
        )
        self.fetch_button.setVisible(False)
        proc = _compact(QFormLayout())
        proc.addRow("Smoothing", self.smoothing)
        proc.addRow("Min. confidence", self.threshold)
        proc.addRow("Detector", self.detector_label)
        proc.addRow("Model", self.model_label)
        proc.addRow("Device", self.device_label)
        proc.addRow(self.fetch_button)

        self.figure_labels = {key: QLabel("–") for key, _ in FIGURES}
        figs = _compact(QGridLayout())
        figs.setHorizontalSpacing(6)
        for key, name in FIGURES:
            label = self.figure_labels[key]
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            row, col = FIGURE_CELLS[key]
            span = 3 if key == "latency" else 1
            figs.addWidget(QLabel(name), row, col)
            figs.addWidget(label, row, col + 1, 1, span)
        figs.setColumnStretch(1, 1)
        figs.setColumnStretch(3, 1)
        self.bars = ProbabilityBars()
        bars = _compact(QVBoxLayout())
        bars.addWidget(self.bars)

        column = QWidget()
        self._column = QVBoxLayout(column)
        self._column.setContentsMargins(0, 0, 4, 0)
        self._column.setSpacing(4)
        self.sections: dict[str, QGroupBox] = {}
        for title, layout in (("Source", src), ("Processing", proc), ("Figures", figs)):
            self.add_section(title, layout)
        self.add_section("Face", bars)
        self._column.addStretch(1)
        self.setWidget(column)
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFixedWidth(PANEL_WIDTH)

    def add_section(
        self, title: str, content: QWidget | QLayout, *, before: str | None = None
    ) -> QGroupBox:
        """Add a titled section (at the end, or above the section named `before`)."""
        box = QGroupBox(title)
        if isinstance(content, QLayout):
            box.setLayout(content)
        else:
            _compact(QVBoxLayout(box)).addWidget(content)
        index = self._column.count()
        last = self._column.itemAt(index - 1) if index else None
        if last is not None and last.spacerItem() is not None:
            index -= 1  # keep the stretch last
        if before is not None and before in self.sections:
            index = self._column.indexOf(self.sections[before])
        self._column.insertWidget(index, box)
        self.sections[title] = box
        return box

    def set_models_info(self, info: dict) -> None:
        self.detector_label.setText(info["detector"])
        self.model_label.setText(info.get("model_short") or info["model"])
        self.model_label.setToolTip(info["model"])
        self.device_label.setText(info["device"])
        # The small bundle has no PyTorch, so no YOLO: its Detector menu says how to get it.
        self.fetch_button.setVisible(info["offline_detector"] and torch_available())

    def show_stats(self, stats: dict, faces_now: int) -> None:
        lat = stats.get("latency_ms", {})
        f = self.figure_labels
        f["display"].setText(f"{stats.get('display_fps', 0):.1f} fps")
        f["inference"].setText(f"{stats.get('inference_fps', 0):.1f} fps")
        f["latency"].setText(f"{lat.get('p50', 0):.0f} / {lat.get('p95', 0):.0f} ms")
        f["dropped"].setText(f"{stats.get('dropped', 0)} of {stats.get('captured', 0)}")
        f["faces"].setText(f"{faces_now} (avg {stats.get('faces_per_frame', 0):.1f})")

    def set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
