"""`fer-desktop bench`: the real live pipeline (capture thread, mailbox, inference thread), no window."""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil

from .live import LiveEngine
from .overlay import draw_faces
from .recording import LiveRecorder, SessionRecorder
from .sources import FrameSource, parse_source
from .types import FrameResult


def run_bench(
    source: str,
    pipeline,
    *,
    frames: int = 300,
    paced: bool | None = None,
    size: tuple[int, int] | None = None,
    record: bool | str = False,
) -> dict:
    """Play `source` (looping a file) through the live engine for `frames` captured frames.

    Files are paced at their own frame rate, like a camera, unless paced=False (as fast as possible).
    `record` (True, or "video" for annotated.mp4 too) records the session as the Live tab's Record
    does, into a temporary folder, to measure what recording costs.
    """
    src = FrameSource(parse_source(source), resize_to=size)
    # Warm up (first calls allocate and pick kernels), so the figures describe the steady state.
    first = src.read()
    if first is not None:
        for _ in range(3):
            pipeline.process(first, 0)
        pipeline.reset()
        src.unread(first)
    proc = psutil.Process()
    overlay_ms: list[float] = []
    rss: list[float] = []
    done = threading.Event()
    lock = threading.Lock()
    record_ms: list[float] = []
    recorder = LiveRecorder()
    tmp = tempfile.TemporaryDirectory(prefix="fer-bench-record-") if record else None
    if tmp is not None:
        recorder.start(
            SessionRecorder(
                Path(tmp.name),
                source=str(source),
                detector=pipeline.detector.name,
                model=pipeline.classifier.name,
                fps=src.fps,
                video=record == "video",
            )
        )

    def on_result(r: FrameResult) -> None:
        # The GUI draws the newest results on the newest frame; time the same drawing here.
        t0 = time.perf_counter()
        draw_faces(r.frame.copy(), r.faces)
        t1 = time.perf_counter()
        recorder.on_result(r)  # the Live tab's Record hook, on the inference thread too
        with lock:
            overlay_ms.append((t1 - t0) * 1000)
            if tmp is not None:
                record_ms.append((time.perf_counter() - t1) * 1000)

    engine = LiveEngine(
        src,
        pipeline,
        on_result=on_result,
        on_ended=done.set,
        on_error=lambda e: done.set(),
        loop=True,
        paced=paced,
        max_frames=frames,
        stats_window=frames,  # keep every frame for the final figures
    )
    errors: list = []
    engine.on_error = lambda e: (errors.append(e), done.set())
    t_start = time.perf_counter()
    rss_start = proc.memory_info().rss
    engine.start()
    while not done.wait(0.5):
        rss.append(proc.memory_info().rss)
    engine.wait(30)
    engine.stop()
    wall = time.perf_counter() - t_start
    session = recorder.stop()
    if tmp is not None:
        tmp.cleanup()
    if errors:
        raise errors[0]
    snap = engine.snapshot()
    stage = dict(snap["stage_ms"])
    stage["overlay"] = round(float(np.mean(overlay_ms)), 2) if overlay_ms else 0.0
    if record_ms:
        stage["record"] = round(float(np.mean(record_ms)), 3)
    rss.append(proc.memory_info().rss)
    third = max(1, len(rss) // 3)
    early, late = float(np.mean(rss[:third])), float(np.mean(rss[-third:]))
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
        "peak_rss_mb": round(max(rss + [rss_start]) / 2**20, 1),
        "rss_growth_pct": round((late - early) / early * 100, 2),
        "seconds": round(wall, 1),
        "frame_size": list(size or src.size),
        "detector": pipeline.detector.name,
        "model": pipeline.classifier.name,
        "device": str(pipeline.classifier.device),
        "precision": pipeline.classifier.precision,
        "detect_every": pipeline.detect_every,
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
