"""The live engine: capture thread -> one-slot mailbox (newest frame wins) -> inference thread.

Qt-free so the benchmark runs exactly what the GUI runs; the GUI pulls the newest frame and result
at its own paint rate. Latency cannot grow: a frame that arrives while inference is busy replaces the
waiting one, and the replaced frame is counted as dropped.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from fer_desktop.core.live.sources import FrameSource
from fer_desktop.core.pipeline.pipeline import Pipeline
from fer_desktop.core.support.errors import UserError, as_user_error
from fer_desktop.core.types import FrameResult


class LatestFrameMailbox:
    """Holds at most one item; `put` overwrites (counting a drop), `get` waits for a new one."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._item = None
        self._closed = False
        self.dropped = 0

    def put(self, item) -> None:
        with self._cond:
            if self._item is not None:
                self.dropped += 1
            self._item = item
            self._cond.notify()

    def get(self, timeout: float | None = None):
        """The newest item, or None when closed or on timeout."""
        with self._cond:
            if self._item is None and not self._closed:
                self._cond.wait(timeout)
            item, self._item = self._item, None
            self._cond.notify_all()  # a capture waiting for the slot to empty (wait_empty)
            return item

    def wait_empty(self, stop: threading.Event) -> None:
        """Return once the item was taken (or on close or stop): an unpaced file decodes its
        next frame only when inference took the last one, so no decoded frame is thrown away."""
        with self._cond:
            while self._item is not None and not self._closed and not stop.is_set():
                self._cond.wait(0.1)

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()


@dataclass
class LiveStats:
    """Rolling figures over the last `window` frames, as shown in the live tab and the benchmark."""

    window: int = 120
    captured: int = 0
    inferred: int = 0
    dropped: int = 0
    source_fps: float = 0.0
    capture_times: collections.deque = field(init=False)
    infer_times: collections.deque = field(init=False)
    latencies: collections.deque = field(init=False)
    faces: collections.deque = field(init=False)
    stage_ms: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("capture_times", "infer_times", "latencies", "faces"):
            setattr(self, name, collections.deque(maxlen=self.window))

    @staticmethod
    def _rate(times) -> float:
        return (
            (len(times) - 1) / (times[-1] - times[0])
            if len(times) > 1 and times[-1] > times[0]
            else 0.0
        )

    def add_stage(self, name: str, ms: float) -> None:
        q = self.stage_ms.setdefault(name, collections.deque(maxlen=self.window))
        q.append(ms)

    def snapshot(self) -> dict:
        lat = np.array(self.latencies) if self.latencies else np.zeros(1)
        return {
            "captured": self.captured,
            "inferred": self.inferred,
            "dropped": self.dropped,
            "source_fps": round(self.source_fps, 2),
            "capture_fps": round(self._rate(self.capture_times), 2),
            "inference_fps": round(self._rate(self.infer_times), 2),
            "latency_ms": {
                "p50": round(float(np.percentile(lat, 50)), 2),
                "p95": round(float(np.percentile(lat, 95)), 2),
            },
            "stage_ms": {k: round(float(np.mean(v)), 2) for k, v in self.stage_ms.items() if v},
            "faces_per_frame": round(float(np.mean(self.faces)), 2) if self.faces else 0.0,
        }


@dataclass(frozen=True)
class LiveConfig:
    """What the GUI may swap while inference runs: the pipeline, smoothing and threshold.
    Immutable: the engine swaps it whole, and only the inference thread copies it into the
    pipeline, between two frames. (A file's looping is the source's: FrameSource(loop=).)"""

    pipeline: Pipeline
    smoothing: float
    threshold: float


class LiveEngine:
    """Runs a source through a pipeline on two threads; reports via callbacks (any thread).

    Besides the callbacks, the newest frame and result can be read at any time (`latest_frame`,
    `latest_result`): the GUI pulls them at its own rate, so nothing queues up between threads.
    """

    def __init__(
        self,
        source: FrameSource,
        pipeline: Pipeline,
        *,
        on_frame: Callable[[np.ndarray, int, float], None] | None = None,
        on_result: Callable[[FrameResult], None] | None = None,
        on_error: Callable[[UserError], None] | None = None,
        on_ended: Callable[[], None] | None = None,
        paced: bool | None = None,
        max_frames: int = 0,
        stats_window: int = 120,
    ) -> None:
        self.source = source
        self.tuning = LiveConfig(pipeline, pipeline.smoothing, pipeline.threshold)
        self.on_frame = on_frame or (lambda *a: None)
        self.on_result = on_result or (lambda r: None)
        self.on_error = on_error or (lambda e: None)
        self.on_ended = on_ended or (lambda: None)
        self.paced = source.paced if paced is None else paced
        self.max_frames = max_frames
        self.mailbox = LatestFrameMailbox()
        self.stats = LiveStats(window=stats_window)
        self.stats.source_fps = source.fps
        self.error: UserError | None = None  # why the engine stopped by itself, if it failed
        self.ended = False  # the file (or max_frames) ended and every frame was processed
        self._stop = threading.Event()
        self._capture_done = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._latest_frame: tuple[np.ndarray, int] | None = None
        self._latest_result: FrameResult | None = None

    @property
    def pipeline(self):
        return self.tuning.pipeline

    def retune(self, **changes: Any) -> None:
        """Change `pipeline`, `smoothing` or `threshold` while running (from one thread, the GUI).

        A new immutable `LiveConfig` replaces the old one in one assignment; the inference thread
        picks it up before its next frame. The old pipeline is never touched again.
        """
        self.tuning = replace(self.tuning, **changes)

    def start(self) -> None:
        self._threads = [
            threading.Thread(
                target=self._guard(self._capture_loop), name="fer-capture", daemon=True
            ),
            threading.Thread(
                target=self._guard(self._inference_loop), name="fer-inference", daemon=True
            ),
        ]
        for t in self._threads:
            t.start()

    def request_stop(self) -> None:
        """Ask both threads to stop and return at once (the GUI never waits).

        The capture thread releases the source as it exits, even if inference is still busy.
        """
        self._stop.set()
        self.mailbox.close()

    def stop(self, timeout: float = 5.0) -> bool:
        """Cooperative stop: flag, wake, join. True when both threads ended."""
        self.request_stop()
        return self.wait(timeout)

    @property
    def running(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    def wait(self, timeout: float | None = None) -> bool:
        """Join both threads within `timeout` seconds in total; True when both ended."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for t in self._threads:
            if t is not threading.current_thread():
                t.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return not self.running

    def latest_frame(self) -> tuple[np.ndarray, int] | None:
        """The newest captured (frame, index), or None before the first frame."""
        with self._lock:
            return self._latest_frame

    def latest_result(self) -> FrameResult | None:
        with self._lock:
            return self._latest_result

    def _guard(self, fn: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                fn()
            except Exception as exc:  # noqa: BLE001 - never die silently; the traceback travels with the error
                self.error = as_user_error(exc, "Live processing")
                self._stop.set()
                self.mailbox.close()
                self.on_error(self.error)

        return run

    def _capture_loop(self) -> None:
        try:
            self._capture()
        finally:
            # The capture thread is the only one using the source, so it releases it: a camera is
            # freed even when the inference thread is still inside a slow model call.
            self.source.release()

    def _end_capture(self) -> None:
        self._capture_done.set()
        self.mailbox.close()

    def _capture(self) -> None:
        period = 1.0 / self.source.fps
        next_due = time.perf_counter()
        index = 0
        failures = 0
        while not self._stop.is_set():
            if not self.paced:  # as fast as inference takes frames: none decoded in vain
                self.mailbox.wait_empty(self._stop)
            t0 = time.perf_counter()
            frame = self.source.read()
            decode_ms = (time.perf_counter() - t0) * 1000
            if frame is None:
                if self.source.spec.kind == "file":  # the end (a looping file loops in read())
                    self._end_capture()
                    return
                failures += 1
                if failures >= 10:
                    kind = "Camera" if self.source.spec.kind == "camera" else "Stream"
                    raise UserError(
                        f"{kind} {self.source.spec.shown} stopped delivering frames.",
                        "It may have been unplugged or the stream ended; reconnect it and press Start.",
                    )
                time.sleep(0.05)
                continue
            failures = 0
            now = time.perf_counter()
            with self._lock:
                self.stats.captured += 1
                self.stats.capture_times.append(now)
                self.stats.add_stage("decode", decode_ms)
                self._latest_frame = (frame, index)
            self.mailbox.put((frame, index, now))
            self.on_frame(frame, index, now)
            index += 1
            if self.max_frames and index >= self.max_frames:
                self._end_capture()
                return
            if self.paced:
                next_due += period
                delay = next_due - time.perf_counter()
                if delay > 0:
                    self._stop.wait(delay)
                else:
                    next_due = time.perf_counter()

    def _inference_loop(self) -> None:
        applied: LiveConfig | None = None
        while not self._stop.is_set():
            item = self.mailbox.get(timeout=0.5)
            if item is None:
                if self._capture_done.is_set():  # the last frame is processed: a clean end
                    self.ended = True
                    self.on_ended()
                    return
                if self.mailbox.closed:
                    return
                continue
            tuning = self.tuning  # one read: pipeline, smoothing and threshold belong together
            if tuning is not applied:
                tuning.pipeline.smoothing = tuning.smoothing
                tuning.pipeline.threshold = tuning.threshold
                applied = tuning
            frame, index, captured_at = item
            result = tuning.pipeline.process(frame, index, captured_at)
            with self._lock:
                s = self.stats
                s.inferred += 1
                s.dropped = self.mailbox.dropped
                s.infer_times.append(result.finished_at)
                s.latencies.append(result.latency_ms)
                s.faces.append(len(result.faces))
                for k, v in result.stage_ms.items():
                    s.add_stage(k, v)
                self._latest_result = result
            self.on_result(result)

    def snapshot(self) -> dict:
        with self._lock:
            return self.stats.snapshot()
