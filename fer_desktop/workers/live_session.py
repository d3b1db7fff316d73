"""Qt side of the live engine: signals for frames, results, figures, errors; background loading.

`LiveSession` wraps `core.live.LiveEngine` (capture thread -> 1-slot mailbox -> inference thread).
The engine calls back on its own threads; those callbacks only park the newest item in a slot and
post one notification, so the GUI thread never has more than one frame and one result queued:
if painting is slow, older frames are skipped, never queued (newest frame wins).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot

from fer_desktop.core.errors import UserError
from fer_desktop.core.live import LiveEngine
from fer_desktop.core.sources import FrameSource, SourceSpec, parse_source

log = logging.getLogger(__name__)


def as_user_error(exc: BaseException, what: str) -> UserError:
    """A UserError as is; anything else wrapped with the action that failed."""
    if isinstance(exc, UserError):
        return exc
    return UserError(
        f"{what} failed: {type(exc).__name__}: {exc}",
        "Try again; if it repeats, report it together with the log file.",
    )


class BackgroundCall(QObject):
    """Runs one function at a time in a daemon thread; reports `finished(result)` / `failed(UserError)`.

    A newer `run` supersedes an older one still running: the older result is dropped, so the GUI
    only ever sees the answer to the latest request.
    """

    finished = Signal(object)
    failed = Signal(object)
    _done = Signal(int, bool, object)

    def __init__(
        self, what: str, parent: QObject | None = None, thread_name: str = "fer-background"
    ) -> None:
        super().__init__(parent)
        self.what = what
        self.thread_name = thread_name
        self._gen = 0
        self._thread: threading.Thread | None = None
        self._done.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    def run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        self._gen += 1
        gen = self._gen

        def work() -> None:
            try:
                ok, value = True, fn(*args, **kwargs)
            except BaseException as exc:
                log.debug("%s failed", self.what, exc_info=True)
                ok, value = False, as_user_error(exc, self.what)
            try:
                self._done.emit(gen, ok, value)
            except RuntimeError:  # the QObject was deleted while we worked (window closed)
                pass

        self._thread = threading.Thread(target=work, name=self.thread_name, daemon=True)
        self._thread.start()

    def cancel(self) -> None:
        """Forget the running call: its result will not be reported."""
        self._gen += 1

    @property
    def busy(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> bool:
        """Join the worker thread (True when no call is running)."""
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.busy

    @Slot(int, bool, object)
    def _deliver(self, gen: int, ok: bool, value: object) -> None:
        if gen != self._gen:
            return
        (self.finished if ok else self.failed).emit(value)


def pipeline_key(settings) -> tuple:
    """The settings a pipeline is built from; smoothing and threshold are changed in place instead."""
    s = settings
    return (
        s.detector,
        s.detector_weights,
        s.model,
        s.device,
        s.precision,
        s.tta,
        s.crop_margin,
        s.detect_every,
    )


class PipelineLoader(BackgroundCall):
    """Builds a pipeline (detector + emotion model) from settings off the GUI thread."""

    def __init__(self, parent: QObject | None = None, factory: Callable | None = None) -> None:
        super().__init__("Loading the face detector and emotion model", parent, "fer-load-pipeline")
        if factory is None:
            from fer_desktop.core.pipeline import build_pipeline as factory
        self.factory = factory

    def load(self, settings) -> None:
        self.run(self._build, settings)

    def _build(self, settings):
        pipeline = self.factory(settings)
        warm_up(pipeline)
        return pipeline


def warm_up(pipeline) -> None:
    """Run each model once on blank input, so the first real frame is not slow (lazy init, JIT)."""
    try:
        pipeline.detector.detect(np.zeros((240, 320, 3), np.uint8))
        clf = pipeline.classifier
        clf.predict_crops(np.zeros((1, clf.data_size, clf.data_size), np.uint8))
    except Exception:
        log.debug("warm-up failed", exc_info=True)


class _LatestSlot:
    """One item, overwritten by newer ones; `put` says whether a notification must be posted."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._item: tuple | None = None

    def put(self, item: tuple) -> bool:
        with self._lock:
            was_empty = self._item is None
            self._item = item
            return was_empty

    def take(self) -> tuple | None:
        with self._lock:
            item, self._item = self._item, None
            return item


class LiveSession(QObject):
    """Start/stop a live source through a pipeline; all signals arrive on the GUI thread."""

    frame_ready = Signal(object, int)  # BGR ndarray, frame index
    result_ready = Signal(object)  # FrameResult
    stats_ready = Signal(dict)  # LiveEngine.snapshot() + "source"
    error = Signal(object)  # UserError
    ended = Signal()  # the video file reached its end
    state_changed = Signal(bool)  # running

    _frame_posted = Signal()
    _result_posted = Signal()
    _opened = Signal(int, object)  # generation, FrameSource or UserError
    _finished = Signal(int, object)  # generation, UserError or None (= ended)

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        source_factory: Callable = FrameSource,
        engine_factory: Callable = LiveEngine,
        stats_interval_ms: int = 500,
        stop_timeout: float = 5.0,
    ) -> None:
        super().__init__(parent)
        self.source_factory = source_factory
        self.engine_factory = engine_factory
        self.stop_timeout = stop_timeout
        self.engine: LiveEngine | None = None
        self.spec: SourceSpec | None = None
        self._pipeline = None
        self._gen = 0
        self._running = False
        self._opener: threading.Thread | None = None
        self._frames = _LatestSlot()
        self._results = _LatestSlot()
        self._timer = QTimer(self)
        self._timer.setInterval(stats_interval_ms)
        self._timer.timeout.connect(self._emit_stats)
        queued = Qt.ConnectionType.QueuedConnection
        self._frame_posted.connect(self._deliver_frame, queued)
        self._result_posted.connect(self._deliver_result, queued)
        self._opened.connect(self._on_opened, queued)
        self._finished.connect(self._on_finished, queued)

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
        self._pipeline = pipeline
        if self.engine is not None:
            self.engine.pipeline = pipeline

    def start(self, source: str | int | SourceSpec, pipeline) -> None:
        """Open `source` ("0", a video path, a URL) in the background and run it through `pipeline`."""
        self.stop()
        self.spec = source if isinstance(source, SourceSpec) else parse_source(source)
        self._pipeline = pipeline
        self._gen += 1
        gen = self._gen
        self._set_running(True)
        spec = self.spec

        def open_source() -> None:
            try:
                result: object = self.source_factory(spec)
            except BaseException as exc:  # noqa: BLE001
                result = as_user_error(exc, f"Opening {spec.label}")
            try:
                self._opened.emit(gen, result)
            except RuntimeError:  # session deleted meanwhile
                if isinstance(result, FrameSource):
                    result.release()

        # Opening a camera or a URL can take seconds; never on the GUI thread.
        self._opener = threading.Thread(target=open_source, name="fer-open-source", daemon=True)
        self._opener.start()

    def stop(self) -> bool:
        """Cooperative stop: flag, wake, join (never terminate). True when every thread ended."""
        self._gen += 1  # anything still in flight from the old run is ignored
        ok = True
        if self._opener is not None:
            self._opener.join(1.0)  # a file opens in ms; a hanging URL is abandoned (daemon)
            self._opener = None
        engine, self.engine = self.engine, None
        if engine is not None:
            ok = engine.stop(self.stop_timeout)
            if not ok:
                log.warning("live threads did not stop within %.1f s", self.stop_timeout)
            self._flush()
            self._emit_stats(engine)
        self._timer.stop()
        self._set_running(False)
        return ok

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

    @Slot(int, object)
    def _on_opened(self, gen: int, source: object) -> None:
        if gen != self._gen:  # stopped or restarted while opening
            if not isinstance(source, UserError):
                source.release()
            return
        if isinstance(source, UserError):
            self._set_running(False)
            self.error.emit(source)
            return
        engine = self.engine_factory(
            source,
            self._pipeline,
            on_frame=lambda frame, index, t: self._post_frame(gen, frame, index),
            on_result=lambda result: self._post_result(gen, result),
            on_error=lambda err: self._finished.emit(gen, err),
            on_ended=lambda: self._finished.emit(gen, None),
        )
        self.engine = engine
        engine.start()
        self._timer.start()

    # The engine's threads call these: park the item, post a notification only if none is pending.
    def _post_frame(self, gen: int, frame: np.ndarray, index: int) -> None:
        # cv2.VideoCapture.read() returns a fresh array per frame, so no copy is needed here; the
        # view draws its overlay on its own copy.
        if self._frames.put((gen, frame, index)):
            self._frame_posted.emit()

    def _post_result(self, gen: int, result) -> None:
        if self._results.put((gen, result)):
            self._result_posted.emit()

    @Slot()
    def _deliver_frame(self) -> None:
        item = self._frames.take()
        if item is not None and item[0] == self._gen:
            self.frame_ready.emit(item[1], item[2])

    @Slot()
    def _deliver_result(self) -> None:
        item = self._results.take()
        if item is not None and item[0] == self._gen:
            self.result_ready.emit(item[1])

    def _flush(self) -> None:
        """Deliver what the threads produced before they stopped (the last result of a video)."""
        self._deliver_frame()
        self._deliver_result()

    @Slot(int, object)
    def _on_finished(self, gen: int, err: object) -> None:
        if gen != self._gen or self.engine is None:
            return
        engine, self.engine = self.engine, None
        engine.stop(self.stop_timeout)
        self._flush()
        self._emit_stats(engine)
        self._timer.stop()
        self._gen += 1
        self._set_running(False)
        if err is None:
            self.ended.emit()
        else:
            self.error.emit(err)
