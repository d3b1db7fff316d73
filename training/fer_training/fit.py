"""One run from start to end: set up (config, resume, device, run folder, data), build the recipe
(`recipe.py`), restore a resumed state (`checkpoint.py`), then epoch after epoch: train, validate
on every dataset's test split, pick raw or EMA weights, save last.pt/best.pt and the history, and
report (`reporting.py`; the events of `fer_desktop.core.training.events`). Then export best.onnx.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from fer_desktop.core.classify.nets import ARCHITECTURES
from fer_desktop.core.emotions import CLASSES
from fer_desktop.core.support.devices import pick_device, resolve_precision
from fer_desktop.core.support.errors import UserError
from fer_desktop.core.training import events
from fer_desktop.core.training.config import TrainConfig
from fer_desktop.core.training.datasets import Split
from fer_desktop.core.training.metrics import per_class
from fer_desktop.core.training.run_folder import RunFolder, new_run_dir
from fer_training.checkpoint import (
    MEAN,
    STD,
    checkpoint_payload,
    load_resume_state,
    restore,
    resume_state,
    save_checkpoint,
    seed_everything,
)
from fer_training.data import BatchLoader
from fer_training.engine import pick_weights, train_one_epoch
from fer_training.multidata import load_training_data
from fer_training.recipe import Training, build_training, teacher_targets
from fer_training.reporting import Emit, attach_run_log, logged, tensorboard


@dataclass
class _Best:
    """The run's best so far. score: the best selection score (for one validation set, its
    accuracy); val_acc: the validation accuracy of that epoch (what the curves show)."""

    score: float = -1.0
    epoch: int = 0
    stale: int = 0
    val_acc: float = 0.0
    history: list[dict] = field(default_factory=list)


@dataclass
class _Run:
    """What every epoch of one run reads (set up once by `run`)."""

    cfg: TrainConfig
    run_cfg: TrainConfig  # cfg with the resolved precision
    folder: RunFolder
    train: Split
    soft: np.ndarray | None
    targets: np.ndarray | None  # FER+ vote distributions (label_mode "votes") or None
    val_loaders: list
    val_name: str
    val_count: int
    device: torch.device
    precision: str
    emit: Emit
    stop: threading.Event
    t_run: float


def _resolve_config(cfg: TrainConfig, resume: str | None, overrides: dict | None):
    """The config to run: on resume, the saved one with the user's explicit settings on top."""
    if not resume:
        return cfg, None
    state = load_resume_state(RunFolder(resume).last)
    saved = TrainConfig.from_dict(state["config"]).to_dict()
    saved.update({k: v for k, v in (overrides or {}).items() if k not in ("out", "data") or v})
    cfg = TrainConfig.from_dict(saved)
    cfg.out = str(Path(resume))
    return cfg, state


def _open_run_folder(cfg: TrainConfig) -> RunFolder:
    folder = RunFolder(cfg.out or new_run_dir(cfg.arch))
    cfg.out = str(folder.path)
    try:
        folder.path.mkdir(parents=True, exist_ok=True)
        attach_run_log(folder.log)
    except OSError as exc:
        raise UserError(
            f"Cannot write the run folder {folder.path}: {exc.strerror or exc}.",
            "Choose an output folder you can write to (--out).",
        ) from exc
    return folder


def run(
    cfg: TrainConfig,
    emit: Emit,
    stop: threading.Event | None = None,
    resume: str | None = None,
    overrides: dict | None = None,
) -> dict:
    """Train (or resume) one run; emits JSON-able events; returns the final summary.

    On resume, the saved config is used and `overrides` (the settings the user gave explicitly,
    e.g. more epochs) are applied on top of it."""
    stop = stop or threading.Event()
    cfg, state = _resolve_config(cfg, resume, overrides)
    cfg.validate()
    seed_everything(cfg.seed)
    device = pick_device(cfg.device)
    precision = resolve_precision(device.type, cfg.precision)
    folder = _open_run_folder(cfg)
    emit = logged(emit)

    train, data_w, vals, data_summary, skipped = load_training_data(cfg)
    soft = teacher_targets(cfg, train) if cfg.teachers else None
    if skipped:
        emit(events.log_event("warning", f"skipped {skipped} unreadable images"))
    val_name = " + ".join(f"{v.name} {v.split_name}" for v in vals)
    k = len(CLASSES)
    counts = np.bincount(train.labels, minlength=k).astype(float)
    emit(
        events.log_event(
            "info",
            f"data {data_summary}; validating on {val_name}; device {device} ({precision}); arch {cfg.arch}",
        )
    )
    folder.write_config(
        {
            "config": cfg.to_dict(),
            "classes": list(CLASSES),
            "train_counts": counts.astype(int).tolist(),
            "val_split": val_name,
            "val_count": len(vals[0].split),
        }
    )
    steps = max(1, len(train) // cfg.batch_size)
    t = build_training(cfg, counts, device, precision, train.labels, data_w, steps)
    best, start_epoch = _Best(), 1
    if state is not None:
        restore(state, t)
        start_epoch = state["epoch"] + 1
        best = _Best(state["best_acc"], state["best_epoch"], state.get("stale", 0), 0.0)
        best.history = state["history"]
        best.val_acc = next(
            (r["val_acc"] for r in best.history if r["epoch"] == best.epoch), best.score
        )
        emit(
            events.log_event(
                "info", f"resumed {folder.path} after epoch {state['epoch']} (of {cfg.epochs})"
            )
        )
    emit(
        {
            "event": "start",
            "run_dir": str(folder.path),
            "config": cfg.to_dict(),
            "classes": list(CLASSES),
            "train_images": len(train),
            "val_images": sum(len(v.split) for v in vals),
            "start_epoch": start_epoch,
            "precision": precision,
        }
    )
    val_loaders = [
        (v.name, BatchLoader(v.split, cfg, size=_size(cfg), mean=MEAN, std=STD, train=False))
        for v in vals
    ]
    run_cfg = dataclasses.replace(cfg, precision=precision)
    t_run = time.perf_counter()
    targets = train.votes if cfg.label_mode == "votes" else None
    r = _Run(cfg, run_cfg, folder, train, soft, targets, val_loaders, val_name, len(vals[0].split),
             device, precision, emit, stop, t_run)  # fmt: skip
    stopped = _fit(t, r, best, start_epoch)
    if best.epoch:  # best.onnx beside best.pt: "Use this model" then runs without torch
        from fer_training.export import export_after_run

        export_after_run(folder.best, emit)
    summary = {
        "event": "stopped" if stopped else "finished",
        "run_dir": str(folder.path),
        "best_val_acc": round(best.val_acc, 4),
        "best_score": round(best.score, 4),
        "best_epoch": best.epoch,
        "epochs_done": len(best.history),
        "best_checkpoint": str(folder.best) if best.epoch else None,
        "seconds": round(time.perf_counter() - t_run, 1),
    }
    emit(summary)
    return summary


def _size(cfg: TrainConfig) -> int:
    return ARCHITECTURES[cfg.arch].input_size


def _fit(t: Training, r: _Run, best: _Best, start_epoch: int) -> bool:
    """The epochs; True when a stop request ended them."""
    cfg, folder, emit, device, precision = r.cfg, r.folder, r.emit, r.device, r.precision
    spec = ARCHITECTURES[cfg.arch]
    k = len(CLASSES)
    tb = tensorboard(cfg, folder.path, emit)
    try:
        for epoch in range(start_epoch, cfg.epochs + 1):
            t0 = time.perf_counter()
            loader = BatchLoader(
                r.train, cfg, size=spec.input_size, mean=MEAN, std=STD, train=True, epoch=epoch,
                sample_weights=t.sample_weights, soft=r.soft, targets=r.targets,
            )  # fmt: skip
            tr_loss, tr_acc, ips = train_one_epoch(
                t, loader, device, epoch, r.run_cfg, emit=emit, stop=r.stop
            )
            if r.stop.is_set():
                emit(
                    events.log_event(
                        "info", f"stopped during epoch {epoch}; resume continues from epoch {epoch}"
                    )
                )
                return True
            chosen, source, raw_acc, va_loss, va_acc, cm, per_set, score = pick_weights(
                t.model, t.ema, r.val_loaders, device, precision, k, cfg.select_weights
            )
            if cfg.schedule == "plateau":
                t.scheduler.step(va_loss)
            prec, recall = per_class(cm)
            row = {
                "epoch": epoch,
                "train_loss": round(tr_loss, 4),
                "train_acc": round(tr_acc, 4),
                "val_loss": round(va_loss, 4),
                "val_acc": round(va_acc, 4),
                "raw_val_acc": round(raw_acc, 4),
                "weights": source,
                "lr": t.optimizer.param_groups[0]["lr"],
                "seconds": round(time.perf_counter() - t0, 1),
                "images_per_second": round(ips, 1),
                "confusion_matrix": cm.tolist(),
                "precision": prec,
                "recall": recall,
                "val_sets": per_set,
                "select_score": round(score, 4),
            }
            best.history.append(row)
            improved = score > best.score
            if improved:
                best.score, best.epoch, best.stale, best.val_acc = score, epoch, 0, va_acc
            else:
                best.stale += 1
            progress = {
                "val_acc": va_acc,
                "best_acc": best.score,
                "best_epoch": best.epoch,
                "stale": best.stale,
                "history": best.history,
            }
            save_checkpoint(
                folder.last,
                checkpoint_payload(
                    chosen, cfg, spec.input_size, spec.in_channels, CLASSES,
                    resume_state(t, epoch, progress),
                ),
            )  # fmt: skip
            if improved:
                meta = {
                    "epoch": epoch,
                    "val_acc": va_acc,
                    "val_split": r.val_name,
                    "val_count": r.val_count,
                    "weights": source,
                    "confusion_matrix": cm.tolist(),
                    "recall": recall,
                    "precision": prec,
                    "val_sets": per_set,
                    "select_score": round(score, 4),
                }
                save_checkpoint(
                    folder.best,
                    checkpoint_payload(
                        chosen, cfg, spec.input_size, spec.in_channels, CLASSES, meta
                    ),
                )
                emit(events.best_event(epoch, str(folder.best)))
            folder.write_history(best.history)
            if tb is not None:
                for key in ("train_loss", "val_loss", "train_acc", "val_acc", "lr"):
                    tb.add_scalar(key, row[key], epoch)
            emit(
                {
                    "event": "epoch",
                    **row,
                    "epochs": cfg.epochs,
                    "best_val_acc": round(best.val_acc, 4),
                    "best_score": round(best.score, 4),
                    "best_epoch": best.epoch,
                    "classes": list(CLASSES),
                    "elapsed_s": round(time.perf_counter() - r.t_run, 1),
                }
            )
            if cfg.early_stop_patience and best.stale >= cfg.early_stop_patience:
                emit(
                    events.log_event("info", f"early stop: no improvement for {best.stale} epochs")
                )
                return False
    finally:
        if tb is not None:
            tb.close()
    return False
