"""How a run reports: its train.log, the JSON events echoed there, and TensorBoard when asked."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from fer_desktop.core.training.config import TrainConfig
from fer_desktop.core.training.events import log_event

Emit = Callable[[Mapping[str, Any]], None]  # an event (events.py) or a plain dict
log = logging.getLogger("fer_training")


def attach_run_log(path: Path) -> None:
    """Log this run to `path` (the run folder's train.log; tracebacks of failures included)."""
    path = path.resolve()
    root = logging.getLogger()
    if any(getattr(h, "baseFilename", None) == str(path) for h in root.handlers):
        return
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)


def logged(emit: Emit) -> Emit:
    """The same events, also written to the run's train.log (progress events excepted)."""

    def both(ev: Mapping[str, Any]) -> None:
        kind = ev.get("event")
        if kind == "log":
            log.log(
                logging.WARNING if ev.get("level") == "warning" else logging.INFO, ev["message"]
            )
        elif kind == "epoch":
            log.info(
                "epoch %d/%d: train loss %.4f acc %.4f, val loss %.4f acc %.4f (%s weights; raw %.4f), %.0f s",
                ev["epoch"],
                ev["epochs"],
                ev["train_loss"],
                ev["train_acc"],
                ev["val_loss"],
                ev["val_acc"],
                ev["weights"],
                ev["raw_val_acc"],
                ev["seconds"],
            )
        elif kind in ("start", "finished", "stopped", "best"):
            log.info("%s: %s", kind, {k: v for k, v in ev.items() if k not in ("event", "config")})
        emit(ev)

    return both


def tensorboard(cfg: TrainConfig, run_dir: Path, emit: Emit):
    """A SummaryWriter when the recipe asks for one and TensorBoard is installed, else None."""
    if not cfg.tensorboard:
        return None
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        emit(
            log_event(
                "warning",
                "TensorBoard is not installed (pip install tensorboard); continuing without it",
            )
        )
        return None
    return SummaryWriter(str(run_dir / "tensorboard"))
