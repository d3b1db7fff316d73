"""Qt side of the live engine: open a source in the background, run it, report on the GUI thread.

`LiveSession` wraps `core.live.engine.LiveEngine` (capture thread -> 1-slot mailbox -> inference thread).
The GUI pulls the engine's newest frame and result on a timer at paint rate, so nothing queues
between the threads: if painting is slow, frames are skipped, never queued. Stopping only flags
the engine and returns; the capture thread releases the camera as it exits.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from fer_desktop.core.live.engine import LiveEngine
from fer_desktop.core.live.sources import FrameSource, SourceSpec, parse_source
from fer_desktop.core.sessions.live_recorder import LiveRecorder
from fer_desktop.core.sessions.recorder import SessionRecorder
from fer_desktop.core.sessions.study import StudyInfo
from fer_desktop.core.support.errors import UserError
from fer_desktop.workers.tasks import LatestTask

PAINT_INTERVAL_MS = 15  # how often the newest frame is pulled (about 60 per second)


class LiveSession(QObject):
    """Start/stop a live source through a pipeline; all signals arrive on the GUI thread."""

    frame_ready = Signal(object, int)  # BGR ndarray, frame index
    result_ready = Signal(object)  # FrameResult
    stats_ready = Signal(dict)  # LiveEngine.snapshot() + "source"
    error = Signal(object)  # UserError
    ended = Signal()  # the video file reached its end (every frame processed)
    state_changed = Signal(bool)  # running
    recording_failed = Signal(object)  # UserError: Record stopped (e.g. disk full); live goes on
    recording_warning = Signal(object)  # UserError: the annotated video stopped; the CSV goes on

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        source_factory: Callable = FrameSource,
        engine_factory: Callable = LiveEngine,
        stats_interval_ms: int = 500,
    ) -> None:
        super().__init__(parent)
        self.source_factory = source_factory
        self.engine_factory = engine_factory
        self.engine: LiveEngine | None = None
        self.spec: SourceSpec | None = None
        self._pipeline = None
        self._tuning: dict = {}  # smoothing / threshold for the next engine
        self._running = False
        self._stopping: list[LiveEngine] = []  # told to stop; threads may still be finishing
        self._shown: tuple = (None, None)  # (frame index, result) last emitted
        # Record: every processed frame, on the inference thread (errors arrive as a signal).
        self.recorder = LiveRecorder(
            on_error=self.recording_failed.emit, on_warning=self.recording_warning.emit
        )
        self._opener = LatestTask("Opening the source", self)
        self._opener.finished.connect(self._on_opened)
        self._opener.failed.connect(self._on_open_failed)
        self._opener.dropped.connect(lambda source: source.release())  # stopped while opening
        self._paint_timer = QTimer(self)
        self._paint_timer.setInterval(PAINT_INTERVAL_MS)
        self._paint_timer.timeout.connect(self._poll)
        self._stats_timer = QTimer(self)
        self._stats_timer.setInterval(stats_interval_ms)
        self._stats_timer.timeout.connect(self._emit_stats)

    # ----------------------------------------------------------------------------------- API
    @property
    def running(self) -> bool:
        """True from `start` until the source ended, failed or was stopped (opening included)."""
        return self._running

    @property
    def pipeline(self):
        return self._pipeline

    def set_pipeline(self, pipeline) -> None:
        """Swap the pipeline of a running session (takes effect on the next frame, no restart)."""
        old = self._pipeline
        if old is not None and pipeline is not None:
            for setting, name_of in (("model", _model_name), ("detector", _detector_name)):
                if name_of(old) != name_of(pipeline):
                    self.recorder.add_setting_change(setting, name_of(old), name_of(pipeline))
        self._pipeline = pipeline
        if self.engine is not None:
            self.engine.retune(pipeline=pipeline)

    def tune(self, **changes: float) -> None:
        """Change `smoothing` / `threshold`; a running engine gets them before its next frame.
        A recording notes each change with its time (session.json `setting_changes`)."""
        for setting, new in changes.items():
            old = self._tuning.get(setting, getattr(self._pipeline, setting, None))
            if old != new:
                self.recorder.add_setting_change(setting, old, new)
        self._tuning.update(changes)
        if self.engine is not None:
            self.engine.retune(**changes)

    def start(self, source: str | int | SourceSpec, pipeline, loop: bool | None = None) -> None:
        """Open `source` ("0", a video path, a URL) in the background and run it through `pipeline`.

        Give each run a fresh pipeline: a stopped run may still be finishing its last frame.
        `loop`: a video file starts again at its end (None: only files shorter than 30 s).
        """
        self.stop()
        self.spec = source if isinstance(source, SourceSpec) else parse_source(source)
        self._pipeline = pipeline
        self._set_running(True)
        self._opener.run(self.source_factory, self.spec, loop=loop)  # a camera/URL can take seconds

    def stop(self) -> None:
        """Ask the threads to stop and return at once (never joins on the GUI thread)."""
        self._opener.cancel()  # a source still opening is released when it arrives
        engine, self.engine = self.engine, None
        if engine is not None:
            engine.request_stop()
            self._stopping.append(engine)
            self._emit_stats(engine)
        self._paint_timer.stop()
        self._stats_timer.stop()
        self._set_running(False)

    def wait(self, timeout: float = 5.0) -> bool:
        """Wait for stopped runs to finish their threads (window closing, tests). True when done."""
        deadline = time.monotonic() + timeout
        ok = self._opener.wait(timeout)
        for engine in list(self._stopping):
            if engine.wait(max(0.0, deadline - time.monotonic())):
                self._stopping.remove(engine)
        return ok and not self._stopping

    def start_recording(
        self, folder: Path, *, video: bool, settings: dict, study: StudyInfo | None = None
    ) -> None:
        """Record the running source into `folder` (a new session folder): every processed frame
        from now on, on the inference thread. Raises UserError (or OSError) if it cannot."""
        pipeline, engine, spec = self._pipeline, self.engine, self.spec
        recorder = SessionRecorder(
            folder,
            source=spec.shown if spec is not None else "",  # a stream's password redacted
            detector=pipeline.detector.name if pipeline is not None else "",
            model=pipeline.classifier.name if pipeline is not None else "",
            settings=settings,
            fps=engine.source.fps if engine is not None else 30.0,
            video=video,
            study=study,
        )
        file_fps = (
            engine.source.fps
            if engine is not None and spec is not None and spec.kind == "file"
            else None
        )
        self.recorder.start(recorder, video_fps=file_fps)

    def stop_recording(self) -> dict | None:
        """End the recording (blocks until its files are finished: call it off the GUI thread);
        returns its session.json, None when nothing was recording."""
        return self.recorder.stop()

    @property
    def recording(self) -> bool:
        return self.recorder.recording

    def add_marker(self, name: str | None = None, kind: int = 0):
        """A named moment (of `kind`, 0-9) of the running recording (None when not recording)."""
        return self.recorder.add_marker(name, kind=kind)

    def snapshot(self) -> dict:
        return self._snapshot(self.engine) if self.engine is not None else {}

    # ------------------------------------------------------------------------------ internals
    def _set_running(self, running: bool) -> None:
        if running != self._running:
            self._running = running
            self.state_changed.emit(running)

    def _snapshot(self, engine: LiveEngine) -> dict:
        stats = engine.snapshot()
        stats["source"] = engine.source.spec.label
        return stats

    def _emit_stats(self, engine: LiveEngine | None = None) -> None:
        engine = engine or self.engine
        if engine is not None:
            self.stats_ready.emit(self._snapshot(engine))

    def _on_opened(self, source: FrameSource) -> None:
        engine = self.engine_factory(source, self._pipeline)
        engine.on_result = self.recorder.on_result
        if self._tuning:
            engine.retune(**self._tuning)
        self._stopping = [e for e in self._stopping if e.running]
        self.engine = engine
        self._shown = (None, None)
        engine.start()
        self._paint_timer.start()
        self._stats_timer.start()

    def _on_open_failed(self, err: UserError) -> None:
        self._set_running(False)
        self.error.emit(err)

    def _poll(self) -> None:
        """Emit the newest frame and result if they are new; finish when the threads ended."""
        engine = self.engine
        if engine is None:
            return
        done = not engine.running  # read first: what the threads left behind is read below
        result = engine.latest_result()  # before the frame, so the frame is drawn with it
        if result is not None and result is not self._shown[1]:
            self._shown = (self._shown[0], result)
            self.result_ready.emit(result)
        frame = engine.latest_frame()
        if frame is not None and frame[1] != self._shown[0]:
            self._shown = (frame[1], self._shown[1])
            self.frame_ready.emit(frame[0], frame[1])
        if done:
            self._finish(engine)

    def _finish(self, engine: LiveEngine) -> None:
        self.engine = None
        self._paint_timer.stop()
        self._stats_timer.stop()
        self._emit_stats(engine)
        self._set_running(False)
        if engine.error is not None:
            self.error.emit(engine.error)
        else:
            self.ended.emit()


def _model_name(pipeline) -> str:
    return str(getattr(getattr(pipeline, "classifier", None), "name", ""))


def _detector_name(pipeline) -> str:
    return str(getattr(getattr(pipeline, "detector", None), "name", ""))
