"""A job folder's layout: what a batch analysis writes, and how a finished video is recognised.

    <job>/job.json       inputs, settings, model and detector, per-video status, timings, errors
    <job>/summary.csv    one row per video and face track (SUMMARY_COLUMNS)
    <job>/videos/<key>/  one session folder per video (faces.csv, session.json[, annotated.mp4])
                         and done.json, written last: the video is finished with these settings

A video is analysed into `<key>.partial-…` and renamed to `<key>` when it is complete, so a
killed job leaves no half-written folder under the final name.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from fer_desktop.core.emotions import CLASSES, UNCERTAIN
from fer_desktop.core.support.fileio import atomic_write_csv, atomic_write_text

JOB_JSON, SUMMARY_CSV, VIDEOS_DIR, DONE_JSON = "job.json", "summary.csv", "videos", "done.json"
LABELS = (*CLASSES, UNCERTAIN)
SUMMARY_COLUMNS: tuple[str, ...] = (
    "video",
    "status",
    "track_id",
    "video_duration_s",
    "first_s",
    "last_s",
    "frames",
    *(f"mean_{c}" for c in CLASSES),
    "dominant",
    *(f"share_{lab}" for lab in LABELS),
    "participant_id",
    "condition",
    "note",
)
# The settings that change what an analysis finds; a finished video is redone when they change.
RESULT_SETTINGS = (
    "detector", "detector_weights", "yolo_imgsz", "model", "precision", "backend", "tta",
    "crop_margin", "smoothing", "threshold", "detect_every", "accurate", "model_files",
)  # fmt: skip


def video_key(path: str | Path) -> str:
    """A stable, readable folder name per input: its name plus a short hash of its full path
    (two `interview.mp4` in different folders get different folders)."""
    p = Path(path)
    stem = re.sub(r"[^\w.-]+", "_", p.stem)[:60] or "video"
    return f"{stem}-{hashlib.sha1(str(p).encode('utf-8')).hexdigest()[:8]}"


def fingerprint(settings: dict, every: int, save_video: bool) -> str:
    relevant = {k: settings.get(k) for k in RESULT_SETTINGS}
    blob = json.dumps({"settings": relevant, "every": every, "video": save_video}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


class JobFolder:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    @property
    def job_json(self) -> Path:
        return self.path / JOB_JSON

    @property
    def summary_csv(self) -> Path:
        return self.path / SUMMARY_CSV

    @property
    def videos(self) -> Path:
        return self.path / VIDEOS_DIR

    def video_dir(self, key: str) -> Path:
        return self.videos / key

    def finished(self, key: str, fp: str) -> dict | None:
        """The done.json of a video finished with these settings, else None."""
        done = self.video_dir(key) / DONE_JSON
        try:
            info = json.loads(done.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return info if isinstance(info, dict) and info.get("fingerprint") == fp else None

    def read_job(self) -> dict:
        try:
            info = json.loads(self.job_json.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return info if isinstance(info, dict) else {}

    def write_job(self, info: dict) -> None:
        atomic_write_text(self.job_json, json.dumps(info, indent=1, ensure_ascii=False))

    def write_summary(self, rows: list[dict]) -> None:
        atomic_write_csv(self.summary_csv, SUMMARY_COLUMNS, rows)


def model_files_digest(settings) -> str:
    """The sha256 of the model files the settings name (the emotion model, or the shipped one,
    and a detector weights file): the job fingerprint changes when a file changes under the same
    name, so a rerun after a new model analyses again (issue 28; it kept the old results)."""
    from fer_desktop.core.classify.classifier import default_model_path
    from fer_desktop.core.classify.onnx_backend import sha256_of

    h = hashlib.sha256()
    model = Path(settings.model) if settings.model else default_model_path()
    for path in dict.fromkeys(
        (model, model.with_suffix(".onnx"), Path(settings.detector_weights or ""))
    ):
        try:
            if path.name and path.is_file():
                h.update(sha256_of(path).encode())
        except OSError:
            continue
    return h.hexdigest()[:16]
