"""The Videos tab: analyse a whole video file (as `fer-desktop analyze` does) with progress/cancel;
below it, the queue (`batch_queue.py`) analyses many videos as one job.

The analysis is a generator (`core.analyze.iter_analyze`) run by the app's one background worker
(`workers.tasks.LatestTask`): progress arrives as signals, Cancel stops it at the next frame and
its files are closed with what was done (session.json says "cancelled"). Results go into a new
folder in the sessions folder, which *Open session* shows in the session viewer.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from fer_desktop.core.pipeline.shared_models import LoadedModels, load_models
from fer_desktop.core.sessions.analyze import AnalyzeProgress, AnalyzeResult, iter_analyze
from fer_desktop.core.sessions.layout import new_session_dir
from fer_desktop.core.settings import Settings
from fer_desktop.core.support.errors import UserError
from fer_desktop.core.support.image_files import VIDEO_EXTS
from fer_desktop.ui.errors import show_error
from fer_desktop.ui.sessions.batch_queue import BatchQueue
from fer_desktop.ui.sessions.session_view import open_session
from fer_desktop.ui.tab_context import TabContext
from fer_desktop.ui.widgets import ElidedLabel
from fer_desktop.workers.model_service import ModelService
from fer_desktop.workers.tasks import LatestTask


def analyse_job(video: str, pipeline, folder: Path, every: int, save_video: bool, settings: dict):
    """The background job: yields AnalyzeProgress about 10 times a second (a cancel takes
    effect at the next one) and returns the AnalyzeResult."""
    return (
        yield from iter_analyze(
            video,
            pipeline,
            out_dir=folder,
            every=every,
            save_video=save_video,
            settings=settings,
            progress_every_s=0.1,
        )
    )


class VideosTab(QWidget):
    """Pick a video, Analyse, watch the progress (Cancel), then open the session."""

    finished = Signal(object)  # AnalyzeResult
    cancelled = Signal(object)  # the session folder kept with what was analysed

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        context: TabContext | None = None,
        settings: Settings | None = None,
        models: ModelService | None = None,
        models_loader: Callable = load_models,
    ) -> None:
        super().__init__(parent)
        self.context = TabContext.of(self, context, settings, models, models_loader)
        self.settings, self.models = self.context.settings, self.context.models
        self.video: str | None = None
        self.folder: Path | None = None  # the current (or last) run's session folder
        self.result: AnalyzeResult | None = None
        self._active = False  # an analysis was started and neither finished, failed nor cancelled
        self.task = LatestTask("Analysing the video", self)
        self.task.progress.connect(self._on_progress)
        self.task.finished.connect(self._on_finished)
        self.task.failed.connect(self._on_failed)
        self.models.failed.connect(self._on_models_failed)
        self._build_ui()
        self.setAcceptDrops(True)
        self._update_buttons()

    # ----------------------------------------------------------------------------------- UI
    def _build_ui(self) -> None:
        self.video_label = ElidedLabel("No video chosen: choose one, or drop it here.")
        self.choose_button = QPushButton("Choose video…")
        self.choose_button.clicked.connect(self.choose_dialog)
        pick = QHBoxLayout()
        pick.addWidget(self.video_label, 1)
        pick.addWidget(self.choose_button)

        self.every_spin = QSpinBox()
        self.every_spin.setRange(1, 60)
        self.every_spin.setValue(1)
        self.every_spin.setMaximumWidth(90)
        self.every_spin.setToolTip("Analyse every N-th frame (faster; the timeline is coarser)")
        self.video_check = QCheckBox("Also save the annotated video (annotated.mp4)")
        self.video_check.setChecked(self.settings.record_video)
        form = QFormLayout()
        form.addRow("Video", pick)
        form.addRow("Every N-th frame", self.every_spin)
        form.addRow("", self.video_check)

        self.analyse_button = QPushButton("Analyse")
        self.analyse_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        buttons = QHBoxLayout()
        buttons.addWidget(self.analyse_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)

        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status = QLabel("Analyses a whole video as fast as this computer allows.")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.open_button = QPushButton("Open session")
        self.open_button.clicked.connect(self.open_result)
        self.open_button.setEnabled(False)

        root = QVBoxLayout(self)
        root.addLayout(form)
        root.addLayout(buttons)
        root.addWidget(self.progress)
        root.addWidget(self.status)
        root.addWidget(self.open_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.queue = BatchQueue(self.settings, self)
        root.addWidget(self.queue, 1)

    # ----------------------------------------------------------------------------------- API
    def set_video(self, path: str) -> None:
        self.video = str(path)
        self.video_label.setText(self.video)
        self._update_buttons()

    def choose_dialog(self) -> None:
        exts = " ".join(f"*{e}" for e in sorted(VIDEO_EXTS))
        path, _ = QFileDialog.getOpenFileName(
            self, "Choose a video to analyse", "", f"Videos ({exts});;All files (*)"
        )
        if path:
            self.set_video(path)

    @property
    def running(self) -> bool:
        return self._active or self.models.waiting(self)

    def start(self) -> None:
        """Analyse the chosen video (loads the models first if needed)."""
        if not self.video or self.running:
            return
        self.settings.record_video = self.video_check.isChecked()
        if not self.models.when_ready(self.settings, self._run, owner=self):
            self.status.setText("Loading the face detector and emotion model…")
            self._update_buttons()

    def cancel(self) -> None:
        """Stop at the next frame; what was analysed so far stays in the session folder."""
        if self.models.waiting(self):
            self.models.cancel_wait(self)
        elif self._active:
            self._active = False
            self.task.cancel()  # the job closes its files at its next frame
            self.cancelled.emit(self.folder)
        else:
            return
        self.status.setText(
            "Cancelled." + (f" What was analysed is in {self.folder}." if self.folder else "")
        )
        self.open_button.setEnabled(self.folder is not None)
        self._update_buttons()

    def open_result(self):
        return open_session(self.folder, self) if self.folder is not None else None

    def shutdown(self, timeout: float = 15.0) -> None:
        """Cancel and wait for the analysis thread (window closing)."""
        self.models.cancel_wait(self)
        self._active = False
        self.task.cancel()
        self.task.wait(timeout)
        self.queue.shutdown(timeout)

    # ------------------------------------------------------------------------------ internals
    def _run(self, models: LoadedModels) -> None:
        try:
            self.folder = new_session_dir()
        except (OSError, UserError) as exc:
            show_error(self, exc)
            return
        self.result = None
        self.open_button.setEnabled(False)
        self.progress.setRange(0, 0)  # busy until the first frame says how many there are
        assert self.video is not None  # start() asks for the models only once a video is chosen
        self.status.setText(f"Analysing {Path(self.video).name}…")
        self._active = True
        self.task.run(
            analyse_job,
            self.video,
            models.pipeline(self.settings, accurate=self.settings.accurate),
            self.folder,
            self.every_spin.value(),
            self.video_check.isChecked(),
            asdict(self.settings),
        )
        self._update_buttons()

    def _on_models_failed(self, err: UserError) -> None:
        if self.models.waiting(self):
            self.models.cancel_wait(self)
            self.status.setText("The models could not be loaded.")
            self._update_buttons()
            show_error(self, err)

    def _on_progress(self, step: AnalyzeProgress) -> None:
        self.progress.setRange(0, max(step.total, 1))
        self.progress.setValue(step.done)
        rate = step.done / step.elapsed_s if step.elapsed_s > 0 else 0.0
        eta = (step.total - step.done) / rate if rate > 0 else 0.0
        self.status.setText(
            f"{step.done} of {step.total} frames, {rate:.1f} frames/s, about {eta:.0f} s left"
        )

    def _on_finished(self, result: AnalyzeResult) -> None:
        self._active = False
        self.result = result
        self.progress.setRange(0, max(result.frames, 1))
        self.progress.setValue(result.frames)
        if result.tracks:
            faces = "; ".join(
                f"face {t['id']}: {t['first_s']:.1f}–{t['last_s']:.1f} s, mostly {t['dominant']}"
                for t in result.tracks[:5]
            )
            more = f" (+{len(result.tracks) - 5} more)" if len(result.tracks) > 5 else ""
            summary = f"{len(result.tracks)} face(s): {faces}{more}."
        else:
            summary = "No face was found in this video."
        self.status.setText(
            f"Done: {result.frames} frames ({result.duration_s:.1f} s of video) at "
            f"{result.fps_processed:.1f} frames/s. {summary} Results: {result.folder}"
        )
        self.open_button.setEnabled(True)
        self._update_buttons()
        self.finished.emit(result)

    def _on_failed(self, err: UserError) -> None:
        self._active = False
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status.setText(f"Stopped: {err.message}")
        if self.folder is not None and not (self.folder / "faces.csv").exists():
            shutil.rmtree(self.folder, ignore_errors=True)  # nothing was written: no empty folder
            self.folder = None
        self._update_buttons()
        show_error(self, err)

    def _update_buttons(self) -> None:
        running = self.running
        self.analyse_button.setEnabled(bool(self.video) and not running)
        self.cancel_button.setEnabled(running)
        self.choose_button.setEnabled(not running)

    # drag and drop a video file
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        urls = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if len(urls) == 1 and Path(urls[0]).is_file() and not self.running:
            self.set_video(urls[0])
        elif urls:  # several videos, or a folder: the queue
            self.queue.add(urls)
