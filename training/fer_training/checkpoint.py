"""Checkpoints: the self-describing payload the app loads, the full resume state, RNG state."""

from __future__ import annotations

import errno
import random
from pathlib import Path
from typing import cast

import numpy as np
import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel

from fer_desktop.core.classify.torch_backend import weights_sha256
from fer_desktop.core.support.errors import UserError
from fer_desktop.core.support.fileio import atomic_write
from fer_desktop.core.training.config import TrainConfig

MEAN, STD = 0.5, 0.5  # input normalisation, recorded in every checkpoint


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


def rng_state() -> dict:
    """Every random source training draws from, in a form torch.load(weights_only=True) accepts."""
    # numpy's stubs pick the dict overload; the default (legacy=True) gives the MT19937 tuple
    state = cast(tuple[str, np.ndarray, int, int, float], np.random.get_state())
    kind, keys, pos, has_gauss, gauss = state
    return {
        "torch": torch.get_rng_state(),
        "python": random.getstate(),
        "numpy": {
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "gauss": float(gauss),
        },
    }


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    if "python" in state:
        py = state["python"]
        random.setstate((py[0], tuple(py[1]), py[2]))
    if "numpy" in state:
        n = state["numpy"]
        np.random.set_state(
            ("MT19937", n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["gauss"])
        )


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def plain(model: nn.Module) -> nn.Module:
    return model.module if isinstance(model, AveragedModel) else model


def checkpoint_payload(
    model: nn.Module,
    cfg: TrainConfig,
    spec_size: int,
    in_channels: int,
    classes: tuple[str, ...],
    extra: dict | None = None,
) -> dict:
    """The self-describing checkpoint the app's EmotionClassifier loads without guessing."""
    weights = {k: v.detach().cpu() for k, v in plain(model).state_dict().items()}
    return {
        "format": "fer_desktop.checkpoint/1",
        "arch": cfg.arch,
        "arch_kwargs": dict(cfg.arch_kwargs),
        "classes": list(classes),
        "input_size": spec_size,
        "in_channels": in_channels,
        "mean": MEAN,
        "std": STD,
        "data_size": 48,  # faces are cropped at this size, as in the dataset, then resized to input_size
        "model": weights,
        "weights_sha256": weights_sha256(weights),  # checked when the app loads it
        "config": cfg.to_dict(),
        **(extra or {}),
    }


def load_resume_state(last: Path) -> dict:
    """A run folder's last.pt, loaded without running any code from it."""
    if not last.exists():
        raise UserError(
            f"Cannot resume: {last} does not exist.",
            "Choose a run folder that finished at least one epoch.",
        )
    try:
        return torch.load(last, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise UserError(
            f"Cannot resume from {last}: it is not a checkpoint this program wrote ({type(exc).__name__}).",
            "Start a new run, or pick the folder of a run made by fer-train.",
        ) from exc


def resume_state(training, epoch: int, progress: dict) -> dict:
    """What last.pt holds beyond the weights: everything `restore` needs to go on exactly."""
    t = training
    return {
        "epoch": epoch,
        **progress,  # val_acc, best_acc, best_epoch, stale, history
        "train_model": {k: v.detach().cpu() for k, v in t.model.state_dict().items()},
        "ema": t.ema.state_dict() if t.ema is not None else None,
        "scaler": t.scaler.state_dict() if t.scaler is not None else None,
        "optimizer": t.optimizer.state_dict(),
        "scheduler": t.scheduler.state_dict(),
        "rng": rng_state(),
    }


def restore(state: dict, training) -> None:
    """Put a resumed run's model, optimizer, schedule, EMA, scaler and RNG back as they were."""
    t = training
    t.model.load_state_dict(state["train_model"])
    t.optimizer.load_state_dict(state["optimizer"])
    t.scheduler.load_state_dict(state["scheduler"])
    if t.ema is not None and state.get("ema"):
        t.ema.load_state_dict(state["ema"])
    if t.scaler is not None and state.get("scaler"):
        t.scaler.load_state_dict(state["scaler"])
    set_rng_state(state.get("rng") or {"torch": state["torch_rng"]})
