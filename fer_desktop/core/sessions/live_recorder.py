"""The Record switch of a live view: a thread-safe holder of the current SessionRecorder that the
inference thread feeds. Qt-free (the benchmark records through it too)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from fer_desktop.core.sessions.recorder import SessionRecorder
from fer_desktop.core.support.errors import UserError
from fer_desktop.core.types import FrameResult


class LiveRecorder:
    """The Record switch of a live view: the GUI thread starts and stops a SessionRecorder while
    the inference thread feeds it every processed frame (`on_result`). Times count from the first
    frame recorded. A write error stops the recording and is passed to `on_error` (the live view
    itself goes on)."""

    def __init__(
        self,
        on_error: Callable[[UserError], None] | None = None,
        on_warning: Callable[[UserError], None] | None = None,
    ) -> None:
        self.on_error = on_error or (lambda err: None)
        self.on_warning = on_warning or (lambda err: None)  # the video stopped, the CSV goes on
        self._lock = threading.Lock()
        self._recorder: SessionRecorder | None = None
        self._t0: float | None = None

    @property
    def recording(self) -> bool:
        return self._recorder is not None

    @property
    def folder(self) -> Path | None:
        rec = self._recorder
        return rec.folder if rec is not None else None

    def start(self, recorder: SessionRecorder) -> None:
        """Record from the next processed frame on (finishes a recording still running)."""
        self.stop()
        recorder.on_video_error = self.on_warning
        with self._lock:
            self._recorder, self._t0 = recorder, None

    def stop(self) -> dict | None:
        """Finish the recording; returns its session.json contents (None when not recording)."""
        with self._lock:
            rec, self._recorder = self._recorder, None
        # Outside the lock: finishing waits for the video encoder, inference must not.
        return rec.finish() if rec is not None else None

    def add_marker(self, name: str | None = None, now: float | None = None):
        """A marker at this moment of the recording (None when not recording)."""
        now = time.perf_counter() if now is None else now
        with self._lock:
            rec = self._recorder
            if rec is None:
                return None
            t = max(0.0, now - self._t0) if self._t0 is not None else 0.0
            return rec.add_marker(t, name)

    def on_result(self, result: FrameResult) -> None:
        """Called by the inference thread for every processed frame."""
        with self._lock:
            rec = self._recorder
            if rec is None:
                return
            if self._t0 is None:
                self._t0 = result.captured_at
            try:
                rec.add(result, max(0.0, result.captured_at - self._t0))
                return
            except UserError as err:
                self._recorder = None
                error = err
        rec.finish()
        self.on_error(error)
