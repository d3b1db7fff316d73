"""One video of a job, in a worker process (or in the job's own process for one worker).

Each process loads the models once (`_PIPELINES`) and keeps its thread counts to its share of the
cores. A video is analysed into a `.partial-…` folder and renamed when complete; any failure of
one video is returned as its status, never raised, so the job goes on with the others.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import sys
import time
import uuid
from pathlib import Path

from fer_desktop.core.jobs.layout import DONE_JSON, JobFolder
from fer_desktop.core.support.errors import UserError
from fer_desktop.core.support.fileio import atomic_write_text
from fer_desktop.core.support.threads import limit_threads

_PIPELINES: dict[str, object] = {}  # per process: fingerprint -> Pipeline (models load once)
_CANCEL = None  # a multiprocessing Event the job sets to drop the videos in flight


def init_worker(threads: int, cancel=None) -> None:
    """Run once in every worker process: thread limits, the job's cancel flag, and (Linux) die
    with the job, so `kill -9` of the job loses only the videos in flight."""
    global _CANCEL
    _CANCEL = cancel
    limit_threads(threads)
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass


def _pipeline(settings: dict, key: str):
    if key not in _PIPELINES:
        from fer_desktop.core.pipeline.pipeline import build_pipeline
        from fer_desktop.core.settings import Settings

        _PIPELINES.clear()  # one set of models per process
        _PIPELINES[key] = build_pipeline(Settings.from_dict(settings))
    return _PIPELINES[key]


def analyze_one(task: dict, should_stop=None) -> dict:
    """Analyse `task["input"]` into its video folder of the job. Returns the video's entry for
    job.json: status "done", "truncated", "failed" or "cancelled", timings, the error if any."""
    from fer_desktop.core.sessions.analyze import analyze_video
    from fer_desktop.core.sessions.study import StudyInfo

    if task.get("threads"):
        limit_threads(int(task["threads"]))
    stop = should_stop or (lambda: _CANCEL is not None and _CANCEL.is_set())
    key, fp = task["key"], task["fingerprint"]
    final = JobFolder(task["job_dir"]).video_dir(key)
    partial = final.with_name(f"{key}.partial-{os.getpid()}-{uuid.uuid4().hex[:6]}")
    entry = {"input": task["input"], "key": key, "worker": f"{platform.node()}:{os.getpid()}"}
    t0 = time.perf_counter()
    try:
        pipeline = _pipeline(task["settings"], fp)
        r = analyze_video(
            task["input"],
            pipeline,
            out_dir=partial,
            every=task["every"],
            save_video=task["save_video"],
            settings=task["settings"],
            should_stop=stop,
            study=StudyInfo.from_json(task.get("study")),
        )
        if r.cancelled:
            shutil.rmtree(partial, ignore_errors=True)
            return entry | {"status": "cancelled", "seconds": round(time.perf_counter() - t0, 2)}
        entry |= {
            "status": "truncated" if r.warning else "done",
            "warning": r.warning,
            "fingerprint": fp,
            "video_s": r.duration_s,
            "frames": r.frames,
            "tracks": len(r.tracks),
            "detector": pipeline.detector.name,
            "model": pipeline.classifier.name,
            "seconds": round(time.perf_counter() - t0, 2),
        }
        atomic_write_text(partial / DONE_JSON, json.dumps(entry, indent=1, ensure_ascii=False))
        _publish(partial, final, fp)
        return entry
    except UserError as exc:
        shutil.rmtree(partial, ignore_errors=True)
        return entry | {"status": "failed", "error": exc.message, "hint": exc.hint,
                        "seconds": round(time.perf_counter() - t0, 2)}  # fmt: skip
    except Exception as exc:  # noqa: BLE001 - a bug or a library failure on one file: reported, never fatal
        shutil.rmtree(partial, ignore_errors=True)
        return entry | {"status": "failed", "error": f"{type(exc).__name__}: {exc}",
                        "seconds": round(time.perf_counter() - t0, 2)}  # fmt: skip


def _publish(partial: Path, final: Path, fp: str) -> None:
    """Rename the finished folder to its final name (an older result with other settings goes;
    one with the same settings, finished meanwhile by another process, stays)."""
    if final.exists():
        if JobFolder(final.parent.parent).finished(final.name, fp):
            shutil.rmtree(partial, ignore_errors=True)
            return
        shutil.rmtree(final)
    os.replace(partial, final)
