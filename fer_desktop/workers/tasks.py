"""The one way the GUI runs work in the background: superqt workers, newest request wins.

`LatestTask` wraps superqt's `create_worker` (the worker napari and pymmcore-widgets use) with the
three rules every tab needs:

- newest request wins: `run` supersedes the call still running; only the newest call's result,
  error or progress reaches the GUI;
- cooperative cancel: a generator function stops at its next `yield` once it is superseded or
  cancelled (its `finally` blocks run, so files and cameras are closed); a plain function runs to
  its end and its result goes to `dropped` instead of `finished` (so an opened camera can be
  released);
- results and errors arrive as signals on the GUI thread; an error always arrives as a `UserError`
  whose `__cause__` keeps the original exception and traceback for the log;
- a worker's Qt objects (its QRunnable and its signals' QObject, made on the GUI thread) die on
  the GUI thread: this task keeps every worker it started until the worker's `finished` signal
  was handled here *and* its thread left `run` (pruned one event later), so the pool thread
  never drops the last reference (issue 35; garbage collection itself runs on the GUI thread
  only, `workers/gui_gc.py`).

Long jobs should be generators that yield progress (any object) between steps, so they can be
cancelled: `task.run(analyse_video, path)` with `def analyse_video(path): ... yield i / n ...`.
"""

from __future__ import annotations

import inspect
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, Signal, Slot
from superqt.utils import FunctionWorker, GeneratorWorker, WorkerBase, create_worker

from fer_desktop.core.support.errors import as_user_error

log = logging.getLogger(__name__)

MIN_POOL_THREADS = 8  # camera probe, download, model load, photos, video analysis may all overlap


class _Tracked:
    """Mixin for superqt's workers: a `done` event set after the worker's last signal (so `wait`
    can join it), after the kind-specific `_cleanup`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.done = threading.Event()

    def run(self) -> None:
        try:
            super().run()  # type: ignore[misc]  # WorkerBase.run, after this mixin in the MRO
        finally:
            self._cleanup()
            self.done.set()

    def _cleanup(self) -> None:
        pass


class _FunctionWorker(_Tracked, FunctionWorker):
    pass


class _GeneratorWorker(_Tracked, GeneratorWorker):
    def _cleanup(self) -> None:
        try:
            self._gen.close()  # an aborted generator runs its finally blocks here, not at GC
        except Exception:  # cleanup of a cancelled job must not raise (logged)
            log.exception("closing a cancelled background job failed")


def _ensure_pool_capacity() -> None:
    pool = QThreadPool.globalInstance()
    if pool.maxThreadCount() < MIN_POOL_THREADS:
        pool.setMaxThreadCount(MIN_POOL_THREADS)


class LatestTask(QObject):
    """Runs a function in superqt's thread pool; only the newest call's outcome is reported.

    `what` names the action in error messages ("Loading the emotion model").
    """

    finished = Signal(object)  # the newest call's return value
    failed = Signal(object)  # UserError (its __cause__ is the original exception)
    progress = Signal(object)  # a value the newest call's generator yielded
    dropped = Signal(object)  # the return value of a superseded or cancelled plain function

    def __init__(self, what: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.what = what
        self._current: WorkerBase | None = None
        # every worker started and not yet pruned; pruned only on the GUI thread, after its
        # `finished` was handled (in `_handled`) and its thread ended `run` (`done`)
        self._workers: list[_Tracked] = []
        self._handled: set[int] = set()  # id() of workers whose `finished` reached this task
        _ensure_pool_capacity()

    # ----------------------------------------------------------------------------------- API
    def run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Start `fn(*args, **kwargs)` in the background; supersedes (and cancels) the last call."""
        self.cancel()
        worker_class = _GeneratorWorker if inspect.isgeneratorfunction(fn) else _FunctionWorker
        worker = create_worker(
            fn,
            *args,
            _worker_class=worker_class,
            _start_thread=False,
            _ignore_errors=True,
            **kwargs,
        )
        worker.returned.connect(self._on_returned)
        worker.errored.connect(self._on_errored)
        worker.warned.connect(self._on_warned)
        worker.finished.connect(self._on_worker_finished)
        if isinstance(worker, GeneratorWorker):
            worker.yielded.connect(self._on_yielded)
        self._current = worker
        assert isinstance(worker, _Tracked)
        self._prune()
        self._workers.append(worker)
        worker.start()  # type: ignore[attr-defined]  # WorkerBase.start

    def cancel(self) -> None:
        """Forget the running call (its outcome is dropped); a generator stops at its next yield."""
        if isinstance(self._current, GeneratorWorker):
            self._current.quit()  # superqt then also suppresses its return value
        self._current = None

    @property
    def busy(self) -> bool:
        """True while any call started here (superseded ones included) is still running."""
        return any(not w.done.is_set() for w in self._workers)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every call started here ended (True) or `timeout` seconds passed (False).

        For shutdown and tests; the GUI otherwise never waits, it reacts to the signals.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        for w in list(self._workers):
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not w.done.wait(left):
                return False
        return True  # the workers are pruned by `_on_worker_finished`, on this thread

    # ------------------------------------------------------------------------------ internals
    def _prune(self) -> None:
        """Forget the workers whose `finished` was handled in an earlier event and whose thread
        is done: the last reference to their Qt objects drops here, on the GUI thread."""
        keep = []
        for w in self._workers:
            if id(w) in self._handled and w.done.is_set():
                self._handled.discard(id(w))
            else:
                keep.append(w)
        self._workers = keep

    @Slot()
    def _on_worker_finished(self) -> None:
        self._prune()  # the earlier ones; the sender itself is pruned at the next event
        sender = self.sender()
        for w in self._workers:
            if w.signals is sender:  # type: ignore[attr-defined]  # WorkerBase.signals
                self._handled.add(id(w))

    def _is_current(self) -> bool:
        current = self._current
        return current is not None and self.sender() is current.signals

    @Slot(object)
    def _on_returned(self, value: object) -> None:
        if self._is_current():
            self._current = None
            self.finished.emit(value)
        else:
            self.dropped.emit(value)

    @Slot(object)
    def _on_errored(self, exc: object) -> None:
        if not isinstance(exc, BaseException):  # superqt always sends the exception
            exc = RuntimeError(str(exc))
        current = self._is_current()
        if not current:
            log.info("%s (superseded) failed", self.what, exc_info=exc)
            return
        self._current = None
        self.failed.emit(as_user_error(exc, self.what))

    @Slot(object)
    def _on_yielded(self, value: object) -> None:
        if self._is_current():
            self.progress.emit(value)

    @Slot(tuple)
    def _on_warned(self, w: tuple) -> None:
        message, category = w[0], w[1]
        log.warning("%s: %s: %s", self.what, getattr(category, "__name__", category), message)
