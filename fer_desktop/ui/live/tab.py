"""The Live tab: the annotated video beside its side panel; runs a camera, video or stream.

The models come from the app's one `ModelService` (shared with the Photos tab); each run gets its
own pipeline over them. Smoothing and threshold reach the running inference thread only through
`LiveSession.tune` (an immutable settings object the engine swaps whole).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QMainWindow, QSplitter, QWidget

from fer_desktop.core.choices import LOOP_ARG
from fer_desktop.core.detectors import fetch_yolo_weights
from fer_desktop.core.live.sources import list_cameras, parse_source
from fer_desktop.core.pipeline.shared_models import LoadedModels, SharedPipeline, load_models
from fer_desktop.core.render.overlay import label_text
from fer_desktop.core.settings import Settings
from fer_desktop.core.support.errors import UserError
from fer_desktop.core.types import FrameResult
from fer_desktop.ui.errors import show_error
from fer_desktop.ui.live.fetch_detector import DetectorFetch
from fer_desktop.ui.live.panel import LivePanel
from fer_desktop.ui.live.record_controls import RecordControls
from fer_desktop.ui.live.source_picker import NO_CAMERA, NONE, PICK_FILE, PICK_URL
from fer_desktop.ui.live.timeline import EmotionTimeline
from fer_desktop.ui.tab_context import TabContext
from fer_desktop.ui.video_view import VideoView
from fer_desktop.workers.live_session import LiveSession
from fer_desktop.workers.model_service import ModelService


class LiveTab(QWidget):
    settings_changed = Signal()  # the tab changed settings that need new models (detector fetched)
    pipeline_changed = Signal(dict)  # LoadedModels.describe(): detector, model, device

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        context: TabContext | None = None,
        settings: Settings | None = None,
        models: ModelService | None = None,
        models_loader: Callable = load_models,
        camera_lister: Callable = list_cameras,
        fetch_weights: Callable = fetch_yolo_weights,
        session: LiveSession | None = None,
        preload: bool = True,
    ) -> None:
        super().__init__(parent)
        self.context = TabContext.of(self, context, settings, models, models_loader)
        self.settings, self.models = self.context.settings, self.context.models
        self.session = session or LiveSession(self)
        self.pipeline: SharedPipeline | None = None  # the pipeline of the current (or next) run
        self.last_result: FrameResult | None = None
        self.last_stats: dict = {}
        self.selected_track: int | None = None
        self.view = VideoView(self, placeholder="Choose a camera or a video and press Start")
        self.panel = LivePanel(
            camera_lister=camera_lister,
            last_source=self.settings.last_source,
            smoothing=self.settings.smoothing,
            threshold=self.settings.threshold,
            mirror=self.settings.mirror,
            loop_video=self.settings.loop_video,
        )
        self.timeline = EmotionTimeline()  # the last minute of each face, under the video
        self.record = RecordControls(self.session, self.settings)
        self.panel.add_section("Record", self.record, before="Figures")
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.view)
        left.addWidget(self.timeline)
        left.setStretchFactor(0, 3)
        left.setStretchFactor(1, 1)
        left.setSizes([540, 220])
        root = QHBoxLayout(self)
        root.addWidget(left, 1)
        root.addWidget(self.panel)
        p = self.panel  # the tests and the main window reach the controls through the tab
        self.source_combo, self.start_button, self.stop_button = (
            p.source_combo,
            p.start_button,
            p.stop_button,
        )
        self.state_label, self.bars, self.figure_labels = p.state_label, p.bars, p.figure_labels
        self.detector_label, self.model_label, self.device_label = (
            p.detector_label,
            p.model_label,
            p.device_label,
        )
        self.fetch_button, self.mirror_check = p.fetch_button, p.mirror_check
        self._fetch = DetectorFetch(self, p.fetch_button, fetch_weights)
        self._got_frame = False  # the current source showed a frame (a failed one is forgotten)
        self._connect()
        if preload:
            self._use(self.models.request(self.settings))

    def _connect(self) -> None:
        p, s = self.panel, self.session
        self.view.face_clicked.connect(self._on_face_clicked)
        p.start_button.clicked.connect(self._on_start_clicked)
        p.stop_button.clicked.connect(self.stop)
        p.source_combo.source_chosen.connect(self.start_source)
        p.mirror_check.toggled.connect(self._on_mirror)
        p.loop_combo.currentIndexChanged.connect(self._on_loop_choice)
        p.smoothing.valueChanged.connect(self._on_smoothing)
        p.threshold.valueChanged.connect(self._on_threshold)
        p.fetch_button.clicked.connect(self.fetch_detector)
        s.frame_ready.connect(self._on_frame)
        s.result_ready.connect(self._on_result)
        s.stats_ready.connect(self._on_stats)
        s.error.connect(self._on_error)
        s.ended.connect(self._on_ended)
        s.state_changed.connect(self._on_state)
        self.models.loaded.connect(self._on_models)
        self.models.failed.connect(self._on_models_failed)
        self._fetch.fetched.connect(self._on_fetched)
        self._fetch.cancelled.connect(
            lambda: self._set_state("Download cancelled; the offline detector stays in use.")
        )
        self.record.marker_added.connect(self.timeline.add_marker)
        marker_key = QShortcut(QKeySequence("M"), self)  # text fields keep their own "m"
        marker_key.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        marker_key.activated.connect(self.record.add_marker)
        for n in range(1, 10):  # a marker of kind n (Marker kinds… names them), issue 30
            key = QShortcut(QKeySequence(str(n)), self)
            key.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            key.activated.connect(lambda n=n: self.record.add_marker(n))

    # ---------------------------------------------------------------------------- public API
    def start_source(self, text: str) -> None:
        """Start a camera ("0"), a video file path or a stream URL (loads the models if needed)."""
        text = str(text).strip()
        self.settings.last_source = text
        self.source_combo.remember(text)
        self.last_result, self.last_stats, self.selected_track = None, {}, None
        self._got_frame = False
        self.timeline.clear()
        if not self.models.when_ready(
            self.settings, lambda models: self._run_source(text, models), owner=self
        ):
            self._set_state("Loading the face detector and emotion model…")
        self._update_buttons()

    def _run_source(self, text: str, models: LoadedModels) -> None:
        self._use(models)
        self._update_mirror()
        self.pipeline = models.pipeline(self.settings)  # a fresh tracker for every run
        self.session.tune(smoothing=self.settings.smoothing, threshold=self.settings.threshold)
        self.session.start(text, self.pipeline, loop=LOOP_ARG[self.panel.loop_combo.currentData()])
        self._update_buttons()

    def _on_loop_choice(self) -> None:
        self.settings.loop_video = self.panel.loop_combo.currentData()  # saved with the settings

    def stop(self) -> None:
        """Stop at once; the threads finish in the background (never blocks the window)."""
        self.models.cancel_wait(self)
        if self.session.running:
            self.session.stop()
            self._set_state("Stopped")
        self._update_buttons()

    def is_running(self) -> bool:
        return self.session.running or self.models.waiting(self)

    def open_video_dialog(self) -> None:
        self.source_combo.open_video_dialog()

    def open_url_dialog(self) -> None:
        self.source_combo.open_url_dialog()

    def apply_settings(self) -> None:
        """Use changed detector/model/device settings (a running view keeps running)."""
        self.mirror_check.setChecked(self.settings.mirror)
        self._use(self.models.request(self.settings))

    def fetch_detector(self) -> None:
        """Download the YOLOv8 face weights in the background, with a dialog that can cancel."""
        self._fetch.start()

    def shutdown(self, timeout: float = 15.0) -> None:
        """Stop everything (window closing) and wait for threads that may be inside torch.

        A thread still inside torch/OpenCV when the interpreter exits aborts the process. A
        download or camera probe (network or driver, no torch) is abandoned.
        """
        self.stop()
        self.record.shutdown(timeout)
        self._fetch.cancel()
        self.source_combo.shutdown()
        self.session.wait(timeout)
        self.models.shutdown(timeout)

    # ------------------------------------------------------------------------------ internals
    def _use(self, models: LoadedModels | None) -> None:
        """Show `models` and give a running view a pipeline over them (None: still loading)."""
        if models is None:
            return
        info = models.describe()
        self.panel.set_models_info(info)
        self.pipeline_changed.emit(info)
        p = self.pipeline
        if (
            p is not None
            and p.classifier is models.classifier
            and p.detector is models.detector
            and p.detect_every == max(1, self.settings.detect_every)
        ):
            return  # already on these models
        self.pipeline = models.pipeline(self.settings)
        if self.session.running:
            self.session.set_pipeline(self.pipeline)  # the running view switches, no restart

    def _on_models(self, models: LoadedModels) -> None:
        if self.models.current(self.settings) is not models:
            return  # loaded for settings that changed meanwhile; a newer load is coming
        self._use(models)

    def _on_models_failed(self, err: UserError) -> None:
        self.models.cancel_wait(self)
        if self.pipeline is None:
            self.model_label.setText("not loaded (see the message)")
        if not self.session.running:  # else the running view keeps its current model
            self._set_state("Stopped: the model could not be loaded")
        self._update_buttons()
        show_error(self, err)

    def _on_start_clicked(self) -> None:
        kind, value = self.source_combo.current_source()
        if kind == NONE:
            self.source_combo.rescan()  # a camera plugged in since: found without a restart
            show_error(self, NO_CAMERA)
        elif kind == PICK_FILE:
            self.open_video_dialog()
        elif kind == PICK_URL:
            self.open_url_dialog()
        else:
            self.start_source(str(value))

    def _on_frame(self, frame, index: int) -> None:
        if not self._got_frame:
            self._got_frame = True
            self._clear_status_bar()  # an earlier "No camera found." is no longer true
        if self.state_label.text().startswith("Opening") and self.session.spec is not None:
            self._set_state(f"Running: {self.session.spec.label}")
        self.view.set_frame(frame, self.last_result.faces if self.last_result else ())

    def _on_result(self, result: FrameResult) -> None:
        self.last_result = result
        self.timeline.add(result.captured_at, result.faces)
        self._update_bars()

    def _on_stats(self, stats: dict) -> None:
        self.last_stats = dict(stats, display_fps=round(self.view.display_fps, 1))
        faces = len(self.last_result.faces) if self.last_result else 0
        self.panel.show_stats(self.last_stats, faces)

    def _on_error(self, err: UserError) -> None:
        self._set_state(f"Stopped: {err.message}")
        text = self.settings.last_source
        if not self._got_frame and text and parse_source(text).kind in ("file", "url"):
            self.source_combo.forget(text)  # never opened: not offered again with Start
            self.settings.last_source = ""
            self._update_buttons()
        show_error(self, err)

    def _clear_status_bar(self) -> None:
        window = self.window()
        if isinstance(window, QMainWindow):
            window.statusBar().clearMessage()

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
        self.panel.set_running(self.is_running())

    def _on_mirror(self, on: bool) -> None:
        self.settings.mirror = on
        self._update_mirror()

    def _update_mirror(self) -> None:
        spec = parse_source(self.settings.last_source) if self.settings.last_source else None
        self.view.set_mirror(self.settings.mirror and spec is not None and spec.kind == "camera")

    def _on_smoothing(self, v: int) -> None:
        self.settings.smoothing = v / 100
        self.session.tune(smoothing=v / 100)

    def _on_threshold(self, v: int) -> None:
        self.settings.threshold = v / 100
        self.session.tune(threshold=v / 100)

    def _on_face_clicked(self, track: int) -> None:
        self.selected_track = track if track >= 0 else None
        self.timeline.set_selected(self.selected_track)
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
        self.settings.detector, self.settings.detector_weights = "yolo", ""
        self.apply_settings()
        self.settings_changed.emit()
