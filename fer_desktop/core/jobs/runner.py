"""Run a batch job: plan (skip what is finished), run the videos on worker processes or a Dask
cluster, keep job.json and summary.csv current after every video.

Local: a `ProcessPoolExecutor` (spawn) of N workers, each with 1/N of the cores for ONNX Runtime
and OpenCV. Cluster: `--scheduler ADDRESS` submits the same task function to an existing
`dask.distributed` scheduler; its workers must see the job folder at the same path (a shared
file system). Nothing here schedules by itself: the executor or Dask does.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from datetime import datetime
from multiprocessing import get_context
from pathlib import Path

from fer_desktop.core.jobs.cluster import connect, dask_module
from fer_desktop.core.jobs.inputs import expand_inputs_with_study, probe_seconds
from fer_desktop.core.jobs.layout import JobFolder, fingerprint, model_files_digest, video_key
from fer_desktop.core.jobs.summary import FINISHED, summary_rows
from fer_desktop.core.jobs.worker import analyze_one, init_worker
from fer_desktop.core.settings import Settings
from fer_desktop.core.support.errors import UserError
from fer_desktop.core.support.fileio import make_private_dir
from fer_desktop.core.support.folder_lock import FolderLock
from fer_desktop.core.support.progress import drain
from fer_desktop.core.support.resources import user_data_dir


@dataclass
class JobProgress:
    """After each finished video: counts, video seconds, wall time, the video just finished."""

    done: int
    total: int
    video_s_done: float
    video_s_total: float
    elapsed_s: float
    last: dict | None = None
    skipped: int = 0  # finished in an earlier run of the job

    @property
    def eta_s(self) -> float | None:
        left = self.video_s_total - self.video_s_done
        rate = self.video_s_done / self.elapsed_s if self.elapsed_s > 0 else 0.0
        return left / rate if rate > 0 and left >= 0 else None


@dataclass
class JobPlan:
    folder: JobFolder
    fingerprint: str
    entries: list[dict]  # one per input video, in input order (job.json "videos")
    tasks: list[dict] = field(default_factory=list)  # the videos still to analyse
    lock: FolderLock | None = None  # held while this run writes the folder


def jobs_dir() -> Path:
    return user_data_dir() / "jobs"


def new_job_dir() -> Path:
    return jobs_dir() / datetime.now().strftime("%Y-%m-%d_%H-%M-%S")


def default_workers() -> int:
    """Worker processes this machine can use: one per core available to this process."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def plan_job(
    inputs: list[str | Path], job_dir: str | Path, settings: Settings, *, every: int = 1,
    save_video: bool = False,
) -> JobPlan:  # fmt: skip
    videos, study = expand_inputs_with_study(inputs)
    if not videos:
        raise UserError(
            "No video found in " + ", ".join(str(i) for i in inputs) + ".",
            "Give video files, folders holding videos, or a text file listing them.",
        )
    folder = JobFolder(job_dir)
    if folder.path.exists() and not folder.path.is_dir():
        raise UserError(f"{folder.path} is a file, not a folder.", "Choose a folder for the job.")
    try:
        make_private_dir(folder.path)
        make_private_dir(folder.videos)
    except OSError as exc:
        raise UserError(
            f"Could not create the job folder {folder.path}: {exc.strerror or exc}.",
            "Choose a folder you can write to (-o).",
        ) from exc
    lock = FolderLock(folder.path).acquire()  # a second run says who holds it and stops here
    try:
        for stale in folder.videos.glob("*.partial-*"):  # a killed run's half-written videos
            shutil.rmtree(stale, ignore_errors=True)
        return _plan(folder, videos, settings, every, save_video, lock, study)
    except BaseException:
        lock.release()
        raise


def _plan(folder: JobFolder, videos: list, settings: Settings, every: int, save_video: bool,
          lock: FolderLock, study: dict | None = None) -> JobPlan:  # fmt: skip
    s = asdict(settings)
    # a new model file at the same path redoes the videos (the workers get `s` as it was)
    fp = fingerprint({**s, "model_files": model_files_digest(settings)}, every, save_video)
    plan = JobPlan(folder, fp, [], lock=lock)
    for path in videos:
        key = video_key(path)
        done = folder.finished(key, fp)
        if done is not None:
            plan.entries.append(done | {"skipped": True})
            continue
        entry = {
            "input": str(path),
            "key": key,
            "status": "pending",
            "video_s": probe_seconds(path),
        }
        plan.entries.append(entry)
        plan.tasks.append(
            {
                "input": str(path),
                "key": key,
                "job_dir": str(folder.path),
                "settings": s,
                "study": (study or {}).get(path, {}),  # participant, condition, note (issue 30)
                "every": every,
                "save_video": save_video,
                "fingerprint": fp,
            }  # fmt: skip
        )
    return plan


def run_job(
    inputs: list[str | Path],
    job_dir: str | Path,
    settings: Settings,
    *,
    progress: Callable[[JobProgress], None] | None = None,
    **kwargs,
) -> dict:
    """Analyse every input video into `job_dir` (see `iter_job`); returns job.json's contents,
    calling `progress` after each finished video."""
    return drain(iter_job(inputs, job_dir, settings, **kwargs), progress)


def iter_job(
    inputs: list[str | Path],
    job_dir: str | Path,
    settings: Settings,
    *,
    every: int = 1,
    save_video: bool = False,
    workers: int | None = None,
    scheduler: str | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Generator[JobProgress, None, dict]:
    """Analyse every input video into `job_dir`, yielding a JobProgress after each finished
    video; returns job.json's contents. Videos finished with the same settings in an earlier run
    are skipped; a broken video is reported and the others go on. `should_stop()` True: no new
    video starts and those in flight stop at their next frame (their folders are dropped)."""
    if scheduler:
        dask_module()  # says what to install before any folder is made
    plan = plan_job(inputs, job_dir, settings, every=every, save_video=save_video)
    try:
        return (yield from _run_plan(plan, inputs, settings, every, save_video, workers,
                                     scheduler, should_stop))  # fmt: skip
    finally:
        if plan.lock is not None:
            plan.lock.release()


def _run_plan(plan: JobPlan, inputs, settings: Settings, every: int, save_video: bool,
              workers: int | None, scheduler: str | None,
              should_stop: Callable[[], bool] | None) -> Generator[JobProgress, None, dict]:  # fmt: skip
    n = max(1, min(workers or default_workers(), max(1, len(plan.tasks))))
    threads = max(1, default_workers() // n)
    by_key = {e["key"]: e for e in plan.entries}
    info = {
        "version": 1,
        "created": plan.folder.read_job().get("created")
        or datetime.now().isoformat(timespec="seconds"),
        "inputs": [str(i) for i in inputs],
        "settings": asdict(settings),
        "every": every,
        "save_video": save_video,
        "fingerprint": plan.fingerprint,
        "workers": n if scheduler is None else None,
        "scheduler": scheduler,
        "videos": plan.entries,
    }
    t0 = time.perf_counter()
    skipped = len(plan.entries) - len(plan.tasks)
    rows = summary_rows(plan.folder, plan.entries)
    _save(plan.folder, info, rows, t0)

    stop = should_stop or (lambda: False)
    results: Iterator[dict]
    if scheduler:
        for task in plan.tasks:  # a Dask worker process takes its share of its machine's cores
            task["threads"] = 1
        results = _run_dask(scheduler, plan.tasks, stop)
    elif n == 1:  # in this process, with the thread counts it already has
        results = (analyze_one(t, should_stop=stop) for t in plan.tasks if not stop())
    else:
        results = _run_local(n, threads, plan.tasks, stop)
    for entry in results:
        by_key[entry["key"]].clear()
        by_key[entry["key"]].update(entry)
        rows[entry["key"]] = summary_rows(plan.folder, [entry])[entry["key"]]
        _save(plan.folder, info, rows, t0)
        done = sum(e["status"] != "pending" for e in plan.entries)
        seconds = sum(float(e.get("video_s") or 0) for e in plan.entries)
        got = sum(float(e.get("video_s") or 0) for e in plan.entries if e["status"] != "pending")
        yield JobProgress(done, len(plan.entries), got, seconds, time.perf_counter() - t0,
                          entry, skipped)  # fmt: skip
    for e in plan.entries:  # what never started after a cancel
        if e["status"] == "pending":
            e["status"] = "cancelled"
    _save(plan.folder, info, rows, t0, final=True)
    return info


def _run_local(n: int, threads: int, tasks: list[dict], stop) -> Iterator[dict]:
    ctx = get_context("spawn")  # fresh interpreters: no threads or locks copied by fork
    cancel = ctx.Event()
    with ProcessPoolExecutor(n, mp_context=ctx, initializer=init_worker,
                             initargs=(threads, cancel)) as pool:  # fmt: skip
        task_of = {pool.submit(analyze_one, t): t for t in tasks}
        pending: set[Future] = set(task_of)
        while pending:
            done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            for fut in done:
                if not fut.cancelled():
                    yield _result(fut, task_of[fut])
            if stop() and not cancel.is_set():
                cancel.set()  # the videos in flight stop at their next frame, their folder goes
                for fut in pending:
                    fut.cancel()


def _run_dask(address: str, tasks: list[dict], stop) -> Iterator[dict]:
    distributed = dask_module()
    as_completed = distributed.as_completed
    client = connect(distributed, address)
    try:
        futures = [
            client.submit(analyze_one, t, key=f"fer-{t['key']}-{t['fingerprint']}", pure=False)
            for t in tasks
        ]
        by_future = dict(zip(futures, tasks))
        for fut in as_completed(futures):
            if stop():
                client.cancel([f for f in futures if not f.done()])
                break
            try:
                yield fut.result()
            except Exception as exc:  # noqa: BLE001 - the worker died (memory, a killed node): that video fails
                t = by_future[fut]
                yield {"input": t["input"], "key": t["key"], "status": "failed",
                       "error": f"{type(exc).__name__}: {exc}"}  # fmt: skip
    finally:
        client.close()


def _result(fut: Future, task: dict) -> dict:
    try:
        return fut.result()
    except Exception as exc:  # noqa: BLE001 - a worker process died (e.g. out of memory): that video fails
        return {"input": task["input"], "key": task["key"], "status": "failed",
                "error": f"the worker process failed ({type(exc).__name__}: {exc})"}  # fmt: skip


def _save(folder: JobFolder, info: dict, rows: dict, t0: float, final: bool = False) -> None:
    entries = info["videos"]
    wall = time.perf_counter() - t0
    video_s = sum(
        float(e.get("video_s") or 0)
        for e in entries
        if e["status"] in FINISHED and not e.get("skipped")
    )
    info["updated"] = datetime.now().isoformat(timespec="seconds")
    info["state"] = "finished" if final else "running"
    info["totals"] = {
        "videos": len(entries),
        **{
            s: sum(e["status"] == s for e in entries)
            for s in ("done", "truncated", "failed", "cancelled", "pending")
        },
        "skipped": sum(bool(e.get("skipped")) for e in entries),
        "wall_s": round(wall, 2),
        "video_s_analysed": round(video_s, 2),
        "throughput": round(video_s / wall, 2)
        if wall > 0
        else 0.0,  # video seconds per wall second
    }
    folder.write_job(info)
    folder.write_summary([r for e in entries for r in rows.get(e["key"], [])])
