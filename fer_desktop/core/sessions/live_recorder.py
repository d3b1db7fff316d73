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
        self._video_fps: float | None = None
        self._first_index: int | None = None
        self._last: tuple[float, float] | None = None

    @property
    def recording(self) -> bool:
        return self._recorder is not None

    @property
    def folder(self) -> Path | None:
        rec = self._recorder
        return rec.folder if rec is not None else None

    def start(self, recorder: SessionRecorder, video_fps: float | None = None) -> None:
        """Record from the next processed frame on (finishes a recording still running).

        `video_fps`: the source is a video file with this frame rate: times are the file's own
        (frame number / fps, so a 47.7 s video gives a 47.7 s session however fast the machine
        is); None (camera, stream): the wall clock."""
        self.stop()
        recorder.on_video_error = self.on_warning
        with self._lock:
            self._recorder, self._t0 = recorder, None
            self._video_fps = video_fps if video_fps and video_fps > 0 else None
            self._first_index = None
            self._last = None  # (session time, captured_at of the last recorded frame)

    def stop(self) -> dict | None:
        """Finish the recording; returns its session.json contents (None when not recording)."""
        with self._lock:
            rec, self._recorder = self._recorder, None
        # Outside the lock: finishing waits for the video encoder, inference must not.
        return rec.finish() if rec is not None else None

    def add_marker(self, name: str | None = None, now: float | None = None, kind: int = 0):
        """A marker (of `kind`, 0-9) at this moment of the recording (None when not recording)."""
        now = time.perf_counter() if now is None else now
        with self._lock:
            rec = self._recorder
            if rec is None:
                return None
            return rec.add_marker(self._time_at(now), name, kind)

    def add_marker_at(self, marker) -> None:
        """An imported marker (its own time, kind and end) into the running recording."""
        with self._lock:
            if self._recorder is not None:
                self._recorder.add_marker(marker.time_s, marker.name, marker.kind, marker.end_s)

    def add_setting_change(self, setting: str, old: object, new: object,
                           now: float | None = None) -> None:  # fmt: skip
        """A setting changed at this moment of the recording (nothing when not recording)."""
        now = time.perf_counter() if now is None else now
        with self._lock:
            rec = self._recorder
            if rec is not None:
                rec.add_setting_change(self._time_at(now), setting, old, new)

    def _time_at(self, now: float) -> float:
        """Session time of the moment `now` (perf_counter): the last recorded frame's session
        time plus the wall time since it (the file's clock between frames)."""
        if self._last is None:
            return 0.0
        t, captured = self._last
        return max(0.0, t + max(0.0, now - captured))

    def on_result(self, result: FrameResult) -> None:
        """Called by the inference thread for every processed frame."""
        with self._lock:
            rec = self._recorder
            if rec is None:
                return
            if self._t0 is None:
                self._t0, self._first_index = result.captured_at, result.frame_index
            if self._video_fps is not None:  # the file's own clock
                t = max(0.0, (result.frame_index - (self._first_index or 0)) / self._video_fps)
            else:
                t = max(0.0, result.captured_at - self._t0)
            self._last = (t, result.captured_at)
            try:
                rec.add(result, t)
                return
            except UserError as err:
                self._recorder = None
                error = err
        rec.finish()
        self.on_error(error)
