"""The Live tab: choose a camera / video / stream, Start/Stop, the annotated view and live figures."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QPushButton,
    QScrollArea,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from fer_desktop.core.detectors import HaarFaceDetector, fetch_yolo_weights
from fer_desktop.core.errors import UserError
from fer_desktop.core.overlay import label_text
from fer_desktop.core.pipeline import build_pipeline
from fer_desktop.core.settings import Settings
from fer_desktop.core.sources import VIDEO_EXTS, list_cameras, parse_source
from fer_desktop.core.types import FrameResult
from fer_desktop.ui.errors import show_error
from fer_desktop.ui.prob_bars import ProbabilityBars
from fer_desktop.ui.video_view import VideoView
from fer_desktop.workers.live_session import (
    BackgroundCall,
    LiveSession,
    PipelineLoader,
    pipeline_key,
)

NO_CAMERA = UserError(
    "No camera found.",
    "Connect a camera and restart the app, or open a video file instead "
    '(choose "Video file…" in the source list, or File ▸ Open video…).',
)
PICK_FILE, PICK_URL = "pick-file", "pick-url"


def describe_pipeline(p) -> dict:
    clf = p.classifier
    return {
        "detector": p.detector.name,
        "model": clf.name,
        "device": f"{clf.device.type} ({clf.precision})",
        "haar": isinstance(p.detector, HaarFaceDetector),
    }


class LiveTab(QWidget):
    settings_changed = (
        Signal()
    )  # the tab changed settings that need a new pipeline (detector fetched)
    pipeline_changed = Signal(dict)  # describe_pipeline(): detector, model, device

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        settings: Settings | None = None,
        pipeline_factory: Callable = build_pipeline,
        camera_lister: Callable = list_cameras,
        fetch_weights: Callable = fetch_yolo_weights,
        session: LiveSession | None = None,
        preload: bool = True,
    ) -> None:
        super().__init__(parent)
        self.settings = settings or Settings()
        self.fetch_weights = fetch_weights
        self.session = session or LiveSession(self)
        self.loader = PipelineLoader(self, pipeline_factory)
        self.pipeline = None
        self.last_result: FrameResult | None = None
        self.last_stats: dict = {}
        self.selected_track: int | None = None
        self._key: tuple | None = None  # settings the current pipeline was built from
        self._loading_key: tuple | None = None
        self._pending_source: str | None = None
        self._build_ui()
        self.session.frame_ready.connect(self._on_frame)
        self.session.result_ready.connect(self._on_result)
        self.session.stats_ready.connect(self._on_stats)
        self.session.error.connect(self._on_error)
        self.session.ended.connect(self._on_ended)
        self.session.state_changed.connect(self._on_state)
        self.loader.finished.connect(self._on_pipeline)
        self.loader.failed.connect(self._on_pipeline_failed)
        self._cameras = BackgroundCall("Looking for cameras", self, "fer-list-cameras")
        self._cameras.finished.connect(self._set_cameras)
        self._cameras.failed.connect(lambda e: self._set_cameras([]))
        self._cameras.run(camera_lister)
        self._fetch = BackgroundCall(
            "Downloading the YOLOv8 face detector", self, "fer-fetch-weights"
        )
        self._fetch.finished.connect(self._on_fetched)
        self._fetch.failed.connect(self._on_fetch_failed)
        if preload:
            self._load()

    # ----------------------------------------------------------------------------------- UI
    def _build_ui(self) -> None:
        self.view = VideoView(self, placeholder="Choose a camera or a video and press Start")
        self.view.face_clicked.connect(self._on_face_clicked)
        self.source_combo = QComboBox()
        self.source_combo.addItem("Looking for cameras…", ("none", None))
        self.source_combo.addItem("Video file…", (PICK_FILE, None))
        self.source_combo.addItem("Stream URL…", (PICK_URL, None))
        self.source_combo.activated.connect(self._on_combo_activated)
        self.start_button = QPushButton("Start")
        self.start_button.clicked.connect(self._on_start_clicked)
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(self.stop)
        self.stop_button.setEnabled(False)
        self.mirror_check = QCheckBox("Mirror camera (selfie view)")
        self.mirror_check.setToolTip(
            "Show cameras mirrored, like a mirror; video files and streams are never flipped"
        )
        self.mirror_check.setChecked(self.settings.mirror)
        self.mirror_check.toggled.connect(self._on_mirror)
        self.state_label = QLabel("Stopped")
        self.state_label.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.stop_button)
        src = QVBoxLayout()
        for w in (self.source_combo, buttons, self.mirror_check, self.state_label):
            src.addLayout(w) if isinstance(w, QHBoxLayout) else src.addWidget(w)

        self.smoothing_slider, self.smoothing_value = self._slider(
            0, 95, self.settings.smoothing, self._on_smoothing
        )
        self.threshold_slider, self.threshold_value = self._slider(
            0, 100, self.settings.threshold, self._on_threshold
        )
        self._on_smoothing(self.smoothing_slider.value())
        self._on_threshold(self.threshold_slider.value())
        self.detector_label, self.model_label, self.device_label = (
            QLabel("loading…"),
            QLabel("loading…"),
            QLabel("…"),
        )
        self.fetch_button = QPushButton("Fetch YOLOv8 face detector…")
        self.fetch_button.setToolTip(
            "Download a better face detector (about 6 MB, AGPL-3.0) from Hugging Face"
        )
        self.fetch_button.clicked.connect(self.fetch_detector)
        self.fetch_button.setVisible(False)
        proc = QFormLayout()
        proc.addRow("Smoothing", self._pair(self.smoothing_slider, self.smoothing_value))
        proc.addRow("Min. confidence", self._pair(self.threshold_slider, self.threshold_value))
        for name, label in (
            ("Detector", self.detector_label),
            ("Model", self.model_label),
            ("Device", self.device_label),
        ):
            label.setWordWrap(True)
            proc.addRow(name, label)
        proc.addRow(self.fetch_button)

        self.figure_labels = {
            k: QLabel("–") for k in ("display", "inference", "latency", "dropped", "faces")
        }
        figs = QFormLayout()
        for key, name in (
            ("display", "Display"),
            ("inference", "Inference"),
            ("latency", "Latency p50 / p95"),
            ("dropped", "Dropped frames"),
            ("faces", "Faces"),
        ):
            self.figure_labels[key].setTextInteractionFlags(
                Qt.TextInteractionFlag.TextSelectableByMouse
            )
            figs.addRow(name, self.figure_labels[key])
        self.bars = ProbabilityBars()
        bars = QVBoxLayout()
        bars.addWidget(self.bars)

        side = QWidget()
        side_layout = QVBoxLayout(side)
        for title, layout in (
            ("Source", src),
            ("Processing", proc),
            ("Figures", figs),
            ("Face", bars),
        ):
            box = QGroupBox(title)
            box.setLayout(layout)
            side_layout.addWidget(box)
        side_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(side)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFixedWidth(330)
        root = QHBoxLayout(self)
        root.addWidget(self.view, 1)
        root.addWidget(scroll)

    @staticmethod
    def _slider(lo: int, hi: int, value: float, slot: Callable) -> tuple[QSlider, QLabel]:
        s = QSlider(Qt.Orientation.Horizontal)
        s.setRange(lo, hi)
        s.setValue(round(value * 100))
        label = QLabel()
        s.valueChanged.connect(slot)
        return s, label

    @staticmethod
    def _pair(a: QWidget, b: QWidget) -> QWidget:
        w = QWidget()
        row = QHBoxLayout(w)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(a, 1)
        b.setMinimumWidth(34)
        row.addWidget(b)
        return w

    # ---------------------------------------------------------------------------- public API
    def start_source(self, text: str) -> None:
        """Start a camera ("0"), a video file path or a stream URL (loads the model first if needed)."""
        text = str(text).strip()
        self._remember_source(text)
        self.last_result, self.last_stats, self.selected_track = None, {}, None
        if self.pipeline is not None and self._key == pipeline_key(self.settings):
            self.pipeline.reset()
            self._update_mirror()
            self.session.start(text, self.pipeline)
        else:
            self._pending_source = text
            self._set_state("Loading the face detector and emotion model…")
            if self._loading_key != pipeline_key(self.settings):
                self._load()
        self._update_buttons()

    def stop(self) -> None:
        self._pending_source = None
        if self.session.running:
            self.session.stop()
            self._set_state("Stopped")
        self._update_buttons()

    def is_running(self) -> bool:
        return self.session.running or self._pending_source is not None

    def open_video_dialog(self) -> None:
        exts = " ".join(f"*{e}" for e in sorted(VIDEO_EXTS))
        path, _ = QFileDialog.getOpenFileName(
            self, "Open a video", "", f"Videos ({exts});;All files (*)"
        )
        if path:
            self.start_source(path)

    def open_url_dialog(self) -> None:
        url, ok = QInputDialog.getText(self, "Open a stream", "Stream URL (rtsp://, http://…):")
        if ok and url.strip():
            self.start_source(url.strip())

    def apply_settings(self) -> None:
        """Rebuild the pipeline when detector/model/device settings changed (the view keeps running)."""
        self.mirror_check.setChecked(self.settings.mirror)
        key = pipeline_key(self.settings)
        if key != self._key and key != self._loading_key:
            self._load()

    def fetch_detector(self) -> None:
        self.fetch_button.setEnabled(False)
        self.fetch_button.setText("Downloading YOLOv8 face detector…")
        self._fetch.run(self.fetch_weights)

    def shutdown(self, timeout: float = 15.0) -> None:
        """Stop everything cooperatively (window closing); wait for a model that is still loading.

        A thread still inside torch/OpenCV when the interpreter exits aborts the process, so the
        loader is joined; a download or camera probe (network/driver, no torch) is abandoned.
        """
        self.stop()
        for call in (self.loader, self._fetch, self._cameras):
            call.cancel()
        self.loader.wait(timeout)

    # ------------------------------------------------------------------------------ internals
    def _load(self) -> None:
        self._loading_key = pipeline_key(self.settings)
        self.loader.load(replace(self.settings))  # a copy: later edits don't race the load

    def _on_pipeline(self, pipeline) -> None:
        self.pipeline, self._key, self._loading_key = pipeline, self._loading_key, None
        pipeline.smoothing, pipeline.threshold = self.settings.smoothing, self.settings.threshold
        info = describe_pipeline(pipeline)
        self.detector_label.setText(info["detector"])
        self.model_label.setText(info["model"])
        self.device_label.setText(info["device"])
        self.fetch_button.setVisible(info["haar"])
        self.pipeline_changed.emit(info)
        if self.session.running:
            self.session.set_pipeline(pipeline)
        if self._pending_source is not None:
            text, self._pending_source = self._pending_source, None
            self.start_source(text)

    def _on_pipeline_failed(self, err: UserError) -> None:
        self._loading_key = None
        self._pending_source = None
        if self.pipeline is None:
            self.model_label.setText("not loaded (see the message)")
        if not self.session.running:  # else the running view keeps its current model
            self._set_state("Stopped: the model could not be loaded")
        self._update_buttons()
        show_error(self, err)

    def _set_cameras(self, cams: list[int]) -> None:
        combo = self.source_combo
        current = combo.currentData()
        combo.removeItem(0)  # "Looking for cameras…"
        if not cams:
            combo.insertItem(0, "No camera found", ("none", None))
            combo.setItemData(0, NO_CAMERA.hint, Qt.ItemDataRole.ToolTipRole)
        for i, cam in enumerate(cams):
            combo.insertItem(i, f"Camera {cam}", ("camera", cam))
        if current[0] == "none":
            last = self.settings.last_source
            idx = combo.findData(("camera", int(last))) if last.isdigit() else -1
            combo.setCurrentIndex(max(0, idx))
        else:
            combo.setCurrentIndex(max(0, combo.findData(current)))

    def _remember_source(self, text: str) -> None:
        self.settings.last_source = text
        spec = parse_source(text)
        data = ("camera", spec.value) if spec.kind == "camera" else (spec.kind, text)
        idx = self.source_combo.findData(data)
        if idx < 0:
            idx = self.source_combo.count() - 2  # before "Video file…" / "Stream URL…"
            self.source_combo.insertItem(idx, spec.label, data)
            self.source_combo.setItemData(idx, text, Qt.ItemDataRole.ToolTipRole)
        self.source_combo.setCurrentIndex(idx)

    def _on_combo_activated(self, index: int) -> None:
        kind = self.source_combo.itemData(index)[0]
        if kind == PICK_FILE:
            self.open_video_dialog()
        elif kind == PICK_URL:
            self.open_url_dialog()

    def _on_start_clicked(self) -> None:
        kind, value = self.source_combo.currentData()
        if kind == "none":
            show_error(self, NO_CAMERA)
        elif kind == PICK_FILE:
            self.open_video_dialog()
        elif kind == PICK_URL:
            self.open_url_dialog()
        else:
            self.start_source(str(value))

    def _on_frame(self, frame, index: int) -> None:
        if self.state_label.text().startswith("Opening") and self.session.spec is not None:
            self._set_state(f"Running: {self.session.spec.label}")
        self.view.set_frame(frame, self.last_result.faces if self.last_result else ())

    def _on_result(self, result: FrameResult) -> None:
        self.last_result = result
        self._update_bars()

    def _on_stats(self, stats: dict) -> None:
        stats = dict(stats, display_fps=round(self.view.display_fps, 1))
        self.last_stats = stats
        lat = stats.get("latency_ms", {})
        f = self.figure_labels
        f["display"].setText(f"{stats['display_fps']:.1f} fps")
        f["inference"].setText(f"{stats.get('inference_fps', 0):.1f} fps")
        f["latency"].setText(f"{lat.get('p50', 0):.0f} / {lat.get('p95', 0):.0f} ms")
        f["dropped"].setText(f"{stats.get('dropped', 0)} of {stats.get('captured', 0)}")
        n = len(self.last_result.faces) if self.last_result else 0
        f["faces"].setText(f"{n} (avg {stats.get('faces_per_frame', 0):.1f})")

    def _on_error(self, err: UserError) -> None:
        self._set_state(f"Stopped: {err.message}")
        show_error(self, err)

    def _on_ended(self) -> None:
        self._set_state("Video ended. Press Start to play it again.")
        if self.last_result is not None:
            self.view.set_faces(self.last_result.faces)

    def _on_state(self, running: bool) -> None:
        if running and self.session.spec is not None:
            self._set_state(f"Opening {self.session.spec.label}…")
        self._update_buttons()

    def _set_state(self, text: str) -> None:
        self.state_label.setText(text)

    def _update_buttons(self) -> None:
        running = self.is_running()
        self.start_button.setEnabled(not running)
        self.stop_button.setEnabled(running)

    def _on_mirror(self, on: bool) -> None:
        self.settings.mirror = on
        self._update_mirror()

    def _update_mirror(self) -> None:
        spec = parse_source(self.settings.last_source) if self.settings.last_source else None
        self.view.set_mirror(self.settings.mirror and spec is not None and spec.kind == "camera")

    def _on_smoothing(self, v: int) -> None:
        self.settings.smoothing = v / 100
        if self.pipeline is not None:
            self.pipeline.smoothing = v / 100
        label = getattr(self, "smoothing_value", None)
        if label is not None:
            label.setText("off" if v == 0 else f"{v / 100:.2f}")

    def _on_threshold(self, v: int) -> None:
        self.settings.threshold = v / 100
        if self.pipeline is not None:
            self.pipeline.threshold = v / 100
        label = getattr(self, "threshold_value", None)
        if label is not None:
            label.setText(f"{v}%")

    def _on_face_clicked(self, track: int) -> None:
        self.selected_track = track if track >= 0 else None
        self._update_bars()

    def _update_bars(self) -> None:
        faces = self.last_result.faces if self.last_result else []
        face = next((f for f in faces if f.track_id == self.selected_track), None)
        how = "selected"
        if face is None:
            face, how = (max(faces, key=lambda f: f.area) if faces else None), "largest"
        if face is None:
            self.bars.set_probabilities(None)
        else:
            self.bars.set_probabilities(
                face.probabilities, f"Face {face.track_id} ({how}): {label_text(face)}"
            )

    def _on_fetched(self, path) -> None:
        self.fetch_button.setEnabled(True)
        self.fetch_button.setText("Fetch YOLOv8 face detector…")
        self.settings.detector, self.settings.detector_weights = "yolo", ""
        self.apply_settings()
        self.settings_changed.emit()

    def _on_fetch_failed(self, err: UserError) -> None:
        self.fetch_button.setEnabled(True)
        self.fetch_button.setText("Fetch YOLOv8 face detector…")
        show_error(self, err)
