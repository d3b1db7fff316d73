"""Run folders: config, history (CSV + JSON), confusion matrices, checkpoints. All writes atomic.

Reading a run folder is `fer_desktop.core.training.run_folder.read_run` (the app reads runs without the trainer).
"""

from __future__ import annotations

import csv
import errno
import io
import json
import time
from pathlib import Path

import torch

from fer_desktop.core.support.errors import UserError
from fer_desktop.core.support.fileio import atomic_write, atomic_write_text
from fer_desktop.core.support.resources import user_data_dir

HISTORY_FIELDS = (
    "epoch",
    "train_loss",
    "train_acc",
    "val_loss",
    "val_acc",
    "lr",
    "seconds",
    "images_per_second",
)


def default_run_dir(arch: str) -> Path:
    return user_data_dir() / "runs" / f"{time.strftime('%Y%m%d-%H%M%S')}-{arch}"


def save_checkpoint(path: Path, payload: dict) -> None:
    """Write a checkpoint atomically; a full or read-only disk is a UserError (the run's last
    complete checkpoint stays in place)."""
    try:
        atomic_write(path, lambda p: torch.save(payload, p))
    except (OSError, RuntimeError) as exc:  # torch reports a full disk as RuntimeError
        full = "unexpected pos" in str(exc) or getattr(exc, "errno", None) == errno.ENOSPC
        raise UserError(
            f"Could not save {path.name} in {path.parent}: "
            + ("the disk is full." if full else f"{exc}."),
            "Free some space (or choose another --out folder), then resume the run: "
            f"fer-train --resume {path.parent}",
        ) from exc


def write_history(run_dir: Path, history: list[dict]) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=HISTORY_FIELDS, extrasaction="ignore")
    w.writeheader()
    for row in history:
        w.writerow(row)
    atomic_write_text(run_dir / "history.csv", buf.getvalue())
    atomic_write_text(run_dir / "history.json", json.dumps(history, indent=1))
