"""Batch analysis (issue 21): many videos in one job folder, on 2 worker processes, killed and run
again, and the same job on a Dask LocalCluster. Real videos (cut from the talking-head video),
the real models, the real CLI in a subprocess."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


def _cli(*args: str, **kw) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "fer_desktop", "analyze", *args], env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw,
    )  # fmt: skip


def _job(folder: Path) -> dict:
    return json.loads((folder / "job.json").read_text())


def _summary(folder: Path) -> list[dict]:
    with (folder / "summary.csv").open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _by_name(entries: list[dict]) -> dict[str, dict]:
    return {Path(e["input"]).name: e for e in entries}


def test_a_killed_job_resumes_without_redoing_finished_videos(batch_inputs, tmp_path):
    inputs = batch_inputs
    job = tmp_path / "job"
    proc = _cli(str(inputs), "-o", str(job), "--workers", "2")
    deadline = time.monotonic() + 180
    first_done = None
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            done = [e for e in _job(job)["videos"] if e["status"] in ("done", "truncated")]
        except (OSError, ValueError, KeyError):
            done = []
        if done:
            first_done = done[0]
            proc.send_signal(signal.SIGKILL)  # kill -9 of the job, videos in flight
            break
        time.sleep(0.05)
    proc.communicate(timeout=60)
    assert first_done is not None, "no video finished before the job ended"
    done_json = job / "videos" / first_done["key"] / "done.json"
    stamp = done_json.stat().st_mtime_ns
    assert not list((job / "videos").glob("*.partial-*")) or proc.returncode == -9

    proc = _cli(str(inputs), "-o", str(job), "--workers", "2", "--json")
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 1, err[-2000:]  # 1: some videos are broken, the job finished
    report = json.loads(out.strip().splitlines()[-1])
    videos = _by_name(report["videos"])
    assert set(videos) == {"a.avi", "b.avi", "c_truncated.avi", "d_broken.mp4"}
    assert videos[Path(first_done["input"]).name].get("skipped") is True  # not redone
    assert done_json.stat().st_mtime_ns == stamp
    assert videos["a.avi"]["status"] == videos["b.avi"]["status"] == "done"
    assert videos["c_truncated.avi"]["status"] == "truncated"
    assert "truncated or damaged" in videos["c_truncated.avi"]["warning"]
    assert videos["d_broken.mp4"]["status"] == "failed"
    assert "not a readable video" in videos["d_broken.mp4"]["error"]
    assert not list((job / "videos").glob("*.partial-*"))  # the killed run's leftovers are gone
    for name in ("a.avi", "b.avi", "c_truncated.avi"):  # today's session files, unchanged
        folder = job / "videos" / videos[name]["key"]
        assert (folder / "faces.csv").is_file() and (folder / "session.json").is_file()

    rows = _summary(job)
    per_video = {Path(r["video"]).name for r in rows}
    assert per_video == set(videos)  # a row per video, the broken one too
    broken = [r for r in rows if r["video"].endswith("d_broken.mp4")]
    assert broken[0]["status"] == "failed" and "not a readable video" in broken[0]["note"]
    faces = [r for r in rows if r["track_id"]]
    assert faces and all(r["dominant"] for r in faces)
    for r in faces:  # the shares of one track's labels add up to the whole
        total = sum(float(v) for k, v in r.items() if k.startswith("share_"))
        assert abs(total - 1.0) < 1e-3, r
    # a row per track: the same count as the tracks of each finished video's session.json
    for name in ("a.avi", "b.avi", "c_truncated.avi"):
        session = json.loads((job / "videos" / videos[name]["key"] / "session.json").read_text())
        got = [r for r in faces if r["video"].endswith(name)]
        assert len(got) == len(session["tracks"]) >= 1, name

    # Run a third time: everything that can be finished is; nothing is analysed again.
    proc = _cli(str(inputs), "-o", str(job), "--json")
    out, _ = proc.communicate(timeout=120)
    again = _by_name(json.loads(out.strip().splitlines()[-1])["videos"])
    assert all(again[n].get("skipped") for n in ("a.avi", "b.avi", "c_truncated.avi"))


def test_the_same_job_on_a_dask_cluster_gives_the_same_summary(batch_inputs, tmp_path):
    inputs = batch_inputs
    distributed = pytest.importorskip("distributed")
    from fer_desktop.core.jobs.runner import run_job
    from fer_desktop.core.settings import Settings

    local = run_job([inputs], tmp_path / "local", Settings(), workers=2)
    environ = dict(os.environ)  # distributed sets OMP_NUM_THREADS=1 & co. in the parent process
    try:
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      dashboard_address=None) as cluster:  # fmt: skip
            address = cluster.scheduler_address
            remote = run_job([inputs], tmp_path / "dask", Settings(), scheduler=address)
    finally:
        os.environ.clear()
        os.environ.update(environ)
    assert remote["scheduler"] == address
    workers = {e.get("worker") for e in remote["videos"]}
    assert len(workers) >= 1 and all(str(os.getpid()) not in (w or "") for w in workers)

    def comparable(folder: Path) -> list[dict]:
        return sorted(_summary(folder), key=lambda r: (r["video"], r["track_id"]))

    assert comparable(tmp_path / "dask") == comparable(tmp_path / "local")
    assert {e["status"] for e in local["videos"]} == {"done", "truncated", "failed"}
