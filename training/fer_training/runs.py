"""Run folders: config, history (CSV + JSON), confusion matrices, checkpoints. All writes atomic."""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path

import torch

from fer_desktop.core.fileio import atomic_write, atomic_write_text
from fer_desktop.core.resources import user_data_dir

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
    atomic_write(path, lambda p: torch.save(payload, p))


def write_history(run_dir: Path, history: list[dict]) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=HISTORY_FIELDS, extrasaction="ignore")
    w.writeheader()
    for row in history:
        w.writerow(row)
    atomic_write_text(run_dir / "history.csv", buf.getvalue())
    atomic_write_text(run_dir / "history.json", json.dumps(history, indent=1))


def read_run(run_dir: str | Path) -> dict:
    """What the GUI needs to show a finished or running run: config, classes and history."""
    run_dir = Path(run_dir)
    hist_path = run_dir / "history.json"
    if not hist_path.exists():
        raise FileNotFoundError(f"{run_dir} is not a training run folder (no history.json).")
    cfg_path = run_dir / "config.json"
    meta = json.loads(cfg_path.read_text()) if cfg_path.exists() else {}
    return {
        "run_dir": str(run_dir),
        "config": meta.get("config", {}),
        "classes": meta.get("classes", []),
        "history": json.loads(hist_path.read_text()),
        "best": str(run_dir / "best.pt") if (run_dir / "best.pt").exists() else None,
    }
