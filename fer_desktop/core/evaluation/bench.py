"""`fer-desktop bench`: the real live pipeline (capture thread, mailbox, inference thread), no window."""

from __future__ import annotations

import tempfile
import threading
import time
from collections import deque
from pathlib import Path

import numpy as np
import psutil

from fer_desktop.core.live.engine import LiveEngine
from fer_desktop.core.live.sources import FrameSource, parse_source
from fer_desktop.core.render.overlay import draw_faces
from fer_desktop.core.sessions.live_recorder import LiveRecorder
from fer_desktop.core.sessions.recorder import SessionRecorder
from fer_desktop.core.types import FrameResult

STATS_WINDOW = 3000  # frames whose latency the percentiles describe (about 100 s at 30 fps)


class _Mean:
    """A running mean: the same figure as np.mean of a list, in constant memory."""

    def __init__(self) -> None:
        self.n, self.mean = 0, 0.0

    def add(self, v: float) -> None:
        self.n += 1
        self.mean += (v - self.mean) / self.n


def run_bench(
    source: str,
    pipeline,
    *,
    frames: int = 300,
    paced: bool | None = None,
    size: tuple[int, int] | None = None,
    record: bool | str = False,
    record_dir: str | Path | None = None,
) -> dict:
    """Play `source` (looping a file) through the live engine for `frames` captured frames.

    Files are paced at their own frame rate, like a camera, unless paced=False (as fast as possible).
    `record` (True, or "video" for annotated.mp4 too) records the session as the Live tab's Record
    does, into a temporary folder, to measure what recording costs.
    """
    src = FrameSource(parse_source(source), resize_to=size, loop=True)  # a file plays on
    # Warm up (first calls allocate and pick kernels), so the figures describe the steady state.
    first = src.read()
    if first is not None:
        for _ in range(3):
            pipeline.process(first, 0)
        pipeline.reset()
        src.unread(first)
    proc = psutil.Process()
    # Bounded figures, whatever the run's length: running means, and RSS sampled every 0.5 s
    # into a ring (the first minute's samples kept apart as the baseline of the growth figure).
    overlay_ms, record_ms = _Mean(), _Mean()
    rss: deque[float] = deque(maxlen=240)
    rss_first_minute: list[float] = []
    done = threading.Event()
    lock = threading.Lock()
    recorder = LiveRecorder()
    tmp = (
        tempfile.TemporaryDirectory(prefix="fer-bench-record-")
        if record and record_dir is None
        else None
    )
    if record:
        recorder.start(
            SessionRecorder(
                Path(record_dir) if record_dir is not None else Path(tmp.name),  # type: ignore[union-attr]
                source=parse_source(source).shown,  # a stream's password redacted
                detector=pipeline.detector.name,
                model=pipeline.classifier.name,
                fps=src.fps,
                video=record == "video",
            )
        )

    # The GUI draws the newest result on its own thread (newest wins: a result that arrives
    # while one is drawn replaces the waiting one); the same drawing runs here on a display
    # thread, so the inference thread does what it does in the app and no more (issue 29: it
    # drew every frame itself, which the app's inference thread never does).
    newest: list[FrameResult | None] = [None]
    shown = threading.Condition()

    def display() -> None:
        while True:
            with shown:
                while newest[0] is None and not done.is_set():
                    shown.wait(0.5)
                r, newest[0] = newest[0], None
            if r is None:
                return
            t0 = time.perf_counter()
            if r.frame is not None:
                draw_faces(r.frame.copy(), r.faces)
            with lock:
                overlay_ms.add((time.perf_counter() - t0) * 1000)

    def on_result(r: FrameResult) -> None:
        t1 = time.perf_counter()
        recorder.on_result(r)  # the Live tab's Record hook, on the inference thread as in the app
        if record:
            with lock:
                record_ms.add((time.perf_counter() - t1) * 1000)
        with shown:
            newest[0] = r
            shown.notify()

    errors: list = []

    def on_error(e) -> None:
        errors.append(e)
        done.set()

    engine = LiveEngine(
        src,
        pipeline,
        on_result=on_result,
        on_ended=done.set,
        on_error=on_error,
        paced=paced,
        max_frames=frames,
        stats_window=min(frames, STATS_WINDOW),  # percentiles of the last frames: bounded
    )
    t_start = time.perf_counter()
    rss_start = proc.memory_info().rss
    drawer = threading.Thread(target=display, name="bench-display", daemon=True)
    drawer.start()
    engine.start()
    while not done.wait(0.5):
        sample = proc.memory_info().rss
        if time.perf_counter() - t_start <= 60.0:
            rss_first_minute.append(sample)
        rss.append(sample)
    engine.wait(30)
    engine.stop()
    wall = time.perf_counter() - t_start
    with shown:
        shown.notify()
    drawer.join(5)
    rss_running = proc.memory_info().rss  # the recorder still open: what a long recording holds
    session = recorder.stop()
    if tmp is not None:
        tmp.cleanup()
    if errors:
        raise errors[0]
    snap = engine.snapshot()
    stage = dict(snap["stage_ms"])
    stage["overlay"] = round(overlay_ms.mean, 2)
    if record_ms.n:
        stage["record"] = round(record_ms.mean, 3)
    rss.append(proc.memory_info().rss)
    samples = list(rss)
    third = max(1, len(samples) // 3)
    early, late = float(np.mean(samples[:third])), float(np.mean(samples[-third:]))
    after_minute = None
    if wall > 90 and rss_first_minute:  # long runs: growth after the first minute (warm-up),
        base = rss_first_minute[-1]  # to the end of the run with the recorder still open (a
        # sample after it closed said -2.3% where the recording had grown +2.8%: issue 28)
        after_minute = round((max(rss_running, *samples[:-1]) - base) / base * 100, 2)
    return {
        "frames": snap["captured"],
        "inferred": snap["inferred"],
        "source_fps": round(src.fps, 2),
        "capture_fps": snap["capture_fps"],
        "inference_fps": snap["inference_fps"],
        "stage_ms": stage,
        "latency_ms": snap["latency_ms"],
        "dropped": snap["dropped"],
        "faces_per_frame": snap["faces_per_frame"],
        "peak_rss_mb": round(max([*samples, *rss_first_minute, rss_start]) / 2**20, 1),
        "rss_growth_pct": round((late - early) / early * 100, 2),
        "rss_growth_after_first_minute_pct": after_minute,
        "seconds": round(wall, 1),
        "frame_size": list(size or src.size),
        "detector": pipeline.detector.name,
        "model": pipeline.classifier.name,
        "device": str(pipeline.classifier.device),
        "precision": pipeline.classifier.precision,
        "detect_every": pipeline.detect_every,
        "full_detections": pipeline.full_detections,  # frames searched whole (warm-up excluded)
        "recording": None
        if session is None
        else {
            "frames_processed": session["frames_processed"],
            "rows": sum(t["frames"] for t in session["tracks"]),
            "video": session["outputs"]["video"] is not None,
            "video_frames_skipped": session["video_frames_skipped"],
            "status": session["status"],
        },
    }
