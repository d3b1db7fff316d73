"""A training run folder: one type that knows its files, for the trainer that writes them and the
app that reads them (neither imports the other).

    request.json  the settings the Training tab asked for (fer-train --config request.json)
    config.json   the run's resolved settings, classes and class counts (written at start)
    history.json  one row per epoch (curves, matrices); history.csv the same rows, flat
    last.pt       the full state after the last complete epoch (resume)
    best.pt       the best epoch's weights; best.onnx its export (the app runs it without torch)
    train.log     the run's log, tracebacks included
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from fer_desktop.core.support.fileio import atomic_write_csv, atomic_write_text, unique_path
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


class RunFolder:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r})"

    @property
    def request(self) -> Path:
        return self.path / "request.json"

    @property
    def config(self) -> Path:
        return self.path / "config.json"

    @property
    def history(self) -> Path:
        return self.path / "history.json"

    @property
    def history_csv(self) -> Path:
        return self.path / "history.csv"

    @property
    def last(self) -> Path:
        return self.path / "last.pt"

    @property
    def best(self) -> Path:
        return self.path / "best.pt"

    @property
    def best_onnx(self) -> Path:
        return self.path / "best.onnx"

    @property
    def log(self) -> Path:
        return self.path / "train.log"

    def best_if_saved(self) -> Path | None:
        return self.best if self.best.is_file() else None

    def saved_config(self) -> dict:
        """The run's settings from config.json ({} when the run has not started)."""
        if not self.config.is_file():
            return {}
        return json.loads(self.config.read_text(encoding="utf-8")).get("config", {})

    def read(self) -> dict:
        """What the GUI needs to show a finished or running run: config, classes and history."""
        if not self.history.exists():
            raise FileNotFoundError(f"{self.path} is not a training run folder (no history.json).")
        meta = json.loads(self.config.read_text(encoding="utf-8")) if self.config.exists() else {}
        best = self.best_if_saved()
        return {
            "run_dir": str(self.path),
            "config": meta.get("config", {}),
            "classes": meta.get("classes", []),
            "history": json.loads(self.history.read_text(encoding="utf-8")),
            "best": str(best) if best else None,
        }

    # --- writing (the trainer; the tab writes request.json) --------------------------------

    def write_request(self, config: dict) -> Path:
        self.path.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.request, json.dumps(config, indent=1))
        return self.request

    def write_config(self, meta: dict) -> None:
        atomic_write_text(self.config, json.dumps(meta, indent=1))

    def write_history(self, history: list[dict]) -> None:
        atomic_write_csv(self.history_csv, HISTORY_FIELDS, history)
        atomic_write_text(self.history, json.dumps(history, indent=1))


def runs_root() -> Path:
    """Where runs go when the user names no folder: <user data>/runs."""
    return user_data_dir() / "runs"


def new_run_dir(arch: str, root: str | Path | None = None) -> Path:
    """A fresh folder name for a run: <root>/<YYYYmmdd-HHMMSS>-<arch> (made unique)."""
    base = Path(root).expanduser() if root else runs_root()
    return unique_path(base / f"{time.strftime('%Y%m%d-%H%M%S')}-{arch}")


def read_run(run_dir: str | Path) -> dict:
    return RunFolder(run_dir).read()
