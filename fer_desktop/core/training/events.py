"""The training events: what `fer-train` prints, one JSON object per line, and the app reads.

The one definition of their shapes. The trainer builds every event with a constructor below; the
Training tab's runner (`workers/training_runner.py`), fer-train's progress bar and the tab read
them by these keys. `KINDS` lists every kind; a test checks the runner handles each of them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal, TypedDict

KINDS = ("start", "progress", "epoch", "log", "best", "finished", "stopped", "error")
Level = Literal["info", "warning", "debug", "output"]


class LogEvent(TypedDict):
    event: Literal["log"]
    level: Level
    message: str


class StartEvent(TypedDict):
    event: Literal["start"]
    run_dir: str
    config: dict[str, Any]  # TrainConfig.to_dict()
    classes: list[str]
    train_images: int
    val_images: int
    start_epoch: int
    precision: str


class ProgressEvent(TypedDict):
    event: Literal["progress"]
    epoch: int
    batch: int
    batches: int
    images_per_second: float
    eta_epoch_s: float


class EpochEvent(TypedDict, total=False):
    """One finished epoch: the history row (`HISTORY_FIELDS` and the matrices) plus the run's best."""

    event: Literal["epoch"]
    epoch: int
    epochs: int
    train_loss: float
    train_acc: float
    val_loss: float
    val_acc: float
    raw_val_acc: float
    weights: str  # "raw" or "ema": which weights were validated and saved
    lr: float
    seconds: float
    images_per_second: float
    confusion_matrix: list[list[int]]
    precision: list[float]
    recall: list[float]
    val_sets: dict[str, dict[str, Any]]
    select_score: float
    best_val_acc: float
    best_score: float
    best_epoch: int
    classes: list[str]
    elapsed_s: float


class BestEvent(TypedDict):
    event: Literal["best"]
    epoch: int
    path: str  # the new best.pt


class EndEvent(TypedDict, total=False):
    event: Literal["finished", "stopped"]
    run_dir: str | None
    best_val_acc: float
    best_score: float
    best_epoch: int
    epochs_done: int
    best_checkpoint: str | None
    seconds: float
    forced: bool  # stopped: killed after the stop timeout


class ErrorEvent(TypedDict):
    event: Literal["error"]
    message: str
    hint: str


Event = LogEvent | StartEvent | ProgressEvent | EpochEvent | BestEvent | EndEvent | ErrorEvent


def log_event(level: Level, message: str) -> LogEvent:
    return {"event": "log", "level": level, "message": message}


def error_event(message: str, hint: str = "") -> ErrorEvent:
    return {"event": "error", "message": message, "hint": hint}


def best_event(epoch: int, path: str) -> BestEvent:
    return {"event": "best", "epoch": epoch, "path": path}


def progress_event(
    epoch: int, batch: int, batches: int, images_per_second: float, eta_epoch_s: float
) -> ProgressEvent:
    return {
        "event": "progress",
        "epoch": epoch,
        "batch": batch,
        "batches": batches,
        "images_per_second": round(images_per_second, 1),
        "eta_epoch_s": round(eta_epoch_s, 1),
    }


def to_line(ev: Mapping[str, Any]) -> str:
    return json.dumps(ev) + "\n"


def parse_line(line: str) -> dict | None:
    """An event from one output line; None for anything else (a stray print of a library)."""
    try:
        ev = json.loads(line)
    except ValueError:
        return None
    if not isinstance(ev, dict) or ev.get("event") not in KINDS:
        return None
    return ev
