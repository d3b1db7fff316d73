"""The heart of "latency cannot grow": the one-slot mailbox and the live engine, driven directly
with a list-backed source and a slow pipeline (no Qt, no models)."""

from __future__ import annotations

import threading
import time

import numpy as np

from fer_desktop.core.live.engine import LatestFrameMailbox, LiveEngine
from fer_desktop.core.live.sources import SourceSpec
from fer_desktop.core.types import FrameResult


def test_mailbox_keeps_only_the_newest_item_and_counts_each_overwrite():
    box = LatestFrameMailbox()
    for i in range(5):
        box.put(i)
    assert box.dropped == 4
    assert box.get(timeout=0) == 4
    assert box.get(timeout=0.01) is None  # empty: the timeout path returns None


def test_mailbox_get_after_close_still_returns_the_pending_item():
    box = LatestFrameMailbox()
    box.put("last frame")
    box.close()
    assert box.closed
    assert box.get(timeout=0) == "last frame"
    assert box.get(timeout=None) is None  # closed and empty: never blocks


def test_mailbox_get_wakes_as_soon_as_an_item_arrives():
    box = LatestFrameMailbox()
    threading.Timer(0.05, box.put, args=("x",)).start()
    t0 = time.perf_counter()
    assert box.get(timeout=5) == "x"
    assert time.perf_counter() - t0 < 2


class ListSource:
    """A file-like source of N small frames at 100 fps, read as fast as asked."""

    def __init__(self, n: int, fps: float = 100.0, paced: bool = True) -> None:
        self.spec = SourceSpec("file", "frames.mp4")
        self.fps, self.paced = fps, paced
        self.frames = [np.full((8, 8, 3), i % 255, np.uint8) for i in range(n)]
        self.released = False

    def read(self):
        return self.frames.pop(0) if self.frames else None

    def release(self) -> None:
        self.released = True


class SlowPipeline:
    """Takes `seconds` per frame, like a model slower than the camera."""

    def __init__(self, seconds: float) -> None:
        self.seconds, self.smoothing, self.threshold = seconds, 0.0, 0.0
        self.seen: list[int] = []

    def process(self, frame, index, captured_at) -> FrameResult:
        time.sleep(self.seconds)
        self.seen.append(index)
        return FrameResult(
            index, [], {"classify": self.seconds * 1000}, captured_at, time.perf_counter()
        )


def test_a_slow_pipeline_drops_frames_and_latency_stays_bounded():
    source, pipeline = ListSource(60), SlowPipeline(0.05)  # 100 fps in, 20 fps out
    ended = threading.Event()
    engine = LiveEngine(source, pipeline, on_ended=ended.set, stats_window=60)
    engine.start()
    assert ended.wait(30), "the engine did not end after the last frame"
    engine.stop()
    s = engine.snapshot()
    assert s["captured"] == 60
    assert s["inferred"] < 40, s  # the pipeline could not have kept up
    assert s["dropped"] == s["captured"] - s["inferred"], s  # every frame is inferred or dropped
    # Newest frame wins: no frame waits for more than about one pipeline call (a queue would
    # make the last frames wait for every frame before them: about 3 s here).
    assert s["latency_ms"]["p95"] < 250, s
    assert pipeline.seen == sorted(pipeline.seen) and pipeline.seen[-1] == 59  # the last is shown
    assert source.released and engine.ended


def test_stop_returns_while_the_pipeline_is_still_busy_and_the_source_is_released():
    source, pipeline = ListSource(1000), SlowPipeline(1.0)
    engine = LiveEngine(source, pipeline)
    engine.start()
    time.sleep(0.2)  # inference is inside its 1 s call
    t0 = time.perf_counter()
    engine.request_stop()
    assert time.perf_counter() - t0 < 0.1
    deadline = time.monotonic() + 0.5
    while not source.released and time.monotonic() < deadline:
        time.sleep(0.01)
    assert source.released and engine.running  # the camera is free; inference is still busy
    assert engine.wait(5)


def test_an_unpaced_file_decodes_a_frame_only_when_inference_took_the_last_one():
    """`bench --unpaced` measures what the pipeline can do: the capture waits for the slot to
    empty instead of decoding frames only to drop them (which took a core from inference,
    issue 29); a paced camera still drops (the test above)."""
    source, pipeline = ListSource(40), SlowPipeline(0.01)
    ended = threading.Event()
    engine = LiveEngine(source, pipeline, on_ended=ended.set, paced=False, stats_window=60)
    engine.start()
    assert ended.wait(30)
    engine.stop()
    s = engine.snapshot()
    assert s["captured"] == 40 and s["inferred"] == 40 and s["dropped"] == 0, s
    assert pipeline.seen == list(range(40))


def test_waiting_for_an_empty_slot_ends_on_stop_and_on_close():
    box, stop = LatestFrameMailbox(), threading.Event()
    box.put(1)
    t = threading.Thread(target=box.wait_empty, args=(stop,))
    t.start()
    stop.set()
    t.join(2)
    assert not t.is_alive()
    stop.clear()
    t = threading.Thread(target=box.wait_empty, args=(stop,))
    t.start()
    box.close()
    t.join(2)
    assert not t.is_alive()
    box2 = LatestFrameMailbox()
    box2.put(1)
    t = threading.Thread(target=box2.wait_empty, args=(threading.Event(),))
    t.start()
    assert box2.get(1) == 1
    t.join(2)
    assert not t.is_alive()  # woken as the item was taken
