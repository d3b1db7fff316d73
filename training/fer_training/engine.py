"""The training loop: train_one_epoch / evaluate / run, torchvision-reference style."""

from __future__ import annotations

import copy
import json
import math
import random
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from fer_desktop.core.datasets import (
    Split,
    load_dataset,
    match_sharpness,
    sharpness_target,
    train_val_splits,
)
from fer_desktop.core.devices import pick_device
from fer_desktop.core.emotions import CLASSES
from fer_desktop.core.errors import UserError
from fer_desktop.core.fileio import atomic_write_text
from fer_desktop.core.zoo import ARCHITECTURES, build_model

from .config import TrainConfig
from .data import BatchLoader
from .metrics import confusion_matrix, per_class
from .runs import default_run_dir, save_checkpoint, write_history

Emit = Callable[[dict], None]
MEAN, STD = 0.5, 0.5


def autocast_for(device: torch.device, precision: str):
    if precision == "fp32":
        return torch.autocast(device.type, enabled=False)
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.float16)
    if device.type == "cpu":
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return torch.autocast(device.type, enabled=False)


def train_one_epoch(model, loader, optimizer, scheduler_step, criterion, device, cfg, emit, stop, epoch,
                    ema=None, scaler=None) -> tuple[float, float, float]:
    model.train()
    total, correct, loss_sum, seen = 0, 0, 0.0, 0
    t0 = time.perf_counter()
    last_emit = t0
    n_batches = len(loader)
    gen = torch.Generator().manual_seed(cfg.seed + epoch)
    for i, (x, y) in enumerate(loader):
        if stop.is_set():
            break
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        mix = cfg.mixup > 0 and torch.rand(1, generator=gen).item() < cfg.mixup
        with autocast_for(device, cfg.precision):
            if mix:
                lam = float(np.random.default_rng(cfg.seed + epoch * 100003 + i).beta(0.4, 0.4))
                perm = torch.randperm(x.shape[0], generator=gen).to(device)
                out = model(lam * x + (1 - lam) * x[perm])
                loss = lam * criterion(out, y) + (1 - lam) * criterion(out, y[perm])
            else:
                out = model(x)
                loss = criterion(out, y)
        optimizer.zero_grad(set_to_none=True)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
        else:
            loss.backward()
            optimizer.step()
        scheduler_step()
        if ema is not None:
            ema.update(model)
        seen += x.shape[0]
        loss_sum += loss.item() * x.shape[0]
        correct += (out.argmax(1) == y).sum().item()
        total += x.shape[0]
        now = time.perf_counter()
        if now - last_emit > 1.0 or i == n_batches - 1:
            last_emit = now
            ips = seen / (now - t0)
            emit({"event": "progress", "epoch": epoch, "batch": i + 1, "batches": n_batches,
                  "images_per_second": round(ips, 1), "eta_epoch_s": round((n_batches - i - 1) * cfg.batch_size / max(ips, 1e-6), 1)})
    return loss_sum / max(total, 1), correct / max(total, 1), seen / max(time.perf_counter() - t0, 1e-6)


@torch.no_grad()
def evaluate(model, loader, device, precision: str, k: int) -> tuple[float, float, np.ndarray]:
    model.eval()
    losses, preds, trues = 0.0, [], []
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        with autocast_for(device, precision):
            out = model(x)
        losses += F.cross_entropy(out.float(), y, reduction="sum").item()
        preds.append(out.argmax(1).cpu())
        trues.append(y.cpu())
    y_true = torch.cat(trues).numpy()
    y_pred = torch.cat(preds).numpy()
    cm = confusion_matrix(y_true, y_pred, k)
    return losses / max(len(y_true), 1), float((y_true == y_pred).mean()), cm


class ModelEMA:
    """Exponential moving average of weights and buffers; evaluated and shipped instead of raw weights."""

    def __init__(self, model: nn.Module, decay: float) -> None:
        self.module = copy.deepcopy(model).eval()
        self.decay = decay
        for p in self.module.parameters():
            p.requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        for e, m in zip(self.module.state_dict().values(), model.state_dict().values()):
            if e.dtype.is_floating_point:
                e.mul_(self.decay).add_(m.detach(), alpha=1 - self.decay)
            else:
                e.copy_(m)


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def checkpoint_payload(model: nn.Module, cfg: TrainConfig, spec_size: int, in_channels: int,
                       classes: tuple[str, ...], extra: dict | None = None,
                       target_sharpness: float | None = None) -> dict:
    """The self-describing checkpoint the app's EmotionClassifier loads without guessing."""
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
        "target_sharpness": target_sharpness,  # Laplacian variance faces are blurred down to (None: off)
        "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "config": cfg.to_dict(),
        **(extra or {}),
    }


def run(cfg: TrainConfig, emit: Emit, stop: threading.Event | None = None, resume: str | None = None) -> dict:
    """Train (or resume) one run; emits JSON-able events; returns the final summary."""
    stop = stop or threading.Event()
    state = None
    if resume:
        last = Path(resume) / "last.pt"
        if not last.exists():
            raise UserError(f"Cannot resume: {last} does not exist.", "Choose a run folder that finished at least one epoch.")
        state = torch.load(last, map_location="cpu", weights_only=False)
        saved = TrainConfig.from_dict(state["config"])
        saved.epochs = max(cfg.epochs, saved.epochs) if cfg.epochs != TrainConfig.epochs else saved.epochs
        cfg = saved
        cfg.out = str(Path(resume))
    cfg.validate()
    _seed_everything(cfg.seed)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    device = pick_device(cfg.device)
    spec = ARCHITECTURES[cfg.arch]
    size = spec.input_size
    run_dir = Path(cfg.out) if cfg.out else default_run_dir(cfg.arch)
    cfg.out = str(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)

    ds = load_dataset(cfg.data, limit=cfg.limit or None, seed=cfg.seed)
    if ds.skipped:
        emit({"event": "log", "level": "warning", "message": f"skipped {ds.skipped} unreadable images (e.g. {', '.join(ds.skipped_examples)})"})
    train, val, val_name = train_val_splits(ds, cfg.val_split or None, seed=cfg.seed)
    target = sharpness_target(train.images, val.images) if cfg.match_sharpness else None
    if target is not None:
        # The training faces are blurrier than the validation faces: validate (and later classify in
        # the app) on faces brought to the same sharpness, or the model meets inputs it never saw.
        val = Split(np.stack([match_sharpness(im, target) for im in val.images]), val.labels)
        emit({"event": "log", "level": "warning", "message": f"training images are blurrier than {val_name}: "
              f"validation and the app blur sharper faces to the training sharpness ({target})"})
    k = len(CLASSES)
    counts = np.bincount(train.labels, minlength=k).astype(float)
    emit({"event": "log", "level": "info", "message": f"data {ds.summary()}; validating on {val_name}; device {device}; arch {cfg.arch}"})
    atomic_write_text(run_dir / "config.json", json.dumps({"config": cfg.to_dict(), "classes": list(CLASSES),
                                                             "train_counts": counts.astype(int).tolist(),
                                                             "val_split": val_name, "val_count": len(val)}, indent=1))

    model = build_model(cfg.arch, num_classes=k, **cfg.arch_kwargs).to(device).to(memory_format=torch.channels_last)
    class_w = None
    sample_w = None
    if cfg.balance == "weights":
        w = counts.sum() / (k * np.maximum(counts, 1))
        class_w = torch.tensor(w / w.mean(), dtype=torch.float32, device=device)
    elif cfg.balance == "sampler":
        sample_w = (1.0 / np.maximum(counts, 1))[train.labels]
    criterion = nn.CrossEntropyLoss(weight=class_w, label_smoothing=cfg.label_smoothing)

    params = [p for p in model.parameters() if p.requires_grad]
    if cfg.optimizer == "sgd":
        optimizer = torch.optim.SGD(params, lr=cfg.lr, momentum=0.9, nesterov=True, weight_decay=cfg.weight_decay)
    elif cfg.optimizer == "adamw":
        optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay, amsgrad=cfg.amsgrad)
    else:
        optimizer = torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay, amsgrad=cfg.amsgrad)
    steps_per_epoch = max(1, len(train) // cfg.batch_size)
    total_steps = cfg.epochs * steps_per_epoch
    warm = cfg.warmup_epochs * steps_per_epoch
    if cfg.schedule == "cosine":
        def lr_lambda(step: int) -> float:
            if step < warm:
                return (step + 1) / warm
            return 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warm) / max(1, total_steps - warm))))
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda)
        step_fn = scheduler.step
    else:
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min", factor=cfg.plateau_factor, patience=cfg.plateau_patience)

        def step_fn() -> None:  # plateau steps once per epoch, on the validation loss
            return None
    scaler = torch.amp.GradScaler("cuda") if device.type == "cuda" and cfg.precision != "fp32" else None
    ema = ModelEMA(model, cfg.ema) if cfg.ema > 0 else None

    history: list[dict] = []
    start_epoch, best_acc, best_epoch, stale = 1, -1.0, 0, 0
    if state is not None:
        model.load_state_dict(state["train_model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        if ema is not None and "model" in state:
            ema.module.load_state_dict(state["model"])
        history = state["history"]
        start_epoch = state["epoch"] + 1
        best_acc, best_epoch, stale = state["best_acc"], state["best_epoch"], state.get("stale", 0)
        torch.set_rng_state(state["torch_rng"])
        emit({"event": "log", "level": "info", "message": f"resumed {run_dir} after epoch {state['epoch']}"})

    tb = None
    if cfg.tensorboard:
        try:
            from torch.utils.tensorboard import SummaryWriter
            tb = SummaryWriter(str(run_dir / "tensorboard"))
        except ImportError:
            emit({"event": "log", "level": "warning", "message": "TensorBoard is not installed (pip install tensorboard); continuing without it"})

    emit({"event": "start", "run_dir": str(run_dir), "config": cfg.to_dict(), "classes": list(CLASSES),
          "train_images": len(train), "val_images": len(val), "start_epoch": start_epoch})
    t_run = time.perf_counter()
    val_loader = BatchLoader(val, cfg, size=size, mean=MEAN, std=STD, train=False)
    stopped = False
    for epoch in range(start_epoch, cfg.epochs + 1):
        t0 = time.perf_counter()
        loader = BatchLoader(train, cfg, size=size, mean=MEAN, std=STD, train=True, epoch=epoch, sample_weights=sample_w)
        tr_loss, tr_acc, ips = train_one_epoch(model, loader, optimizer, step_fn, criterion, device, cfg, emit, stop, epoch, ema, scaler)
        if stop.is_set():
            stopped = True
            emit({"event": "log", "level": "info", "message": f"stopped during epoch {epoch}; resume continues from epoch {epoch}"})
            break
        eval_model = ema.module if ema is not None else model
        va_loss, va_acc, cm = evaluate(eval_model, val_loader, device, cfg.precision, k)
        if cfg.schedule == "plateau":
            scheduler.step(va_loss)
        precision, recall = per_class(cm)
        row = {"epoch": epoch, "train_loss": round(tr_loss, 4), "train_acc": round(tr_acc, 4),
               "val_loss": round(va_loss, 4), "val_acc": round(va_acc, 4), "lr": optimizer.param_groups[0]["lr"],
               "seconds": round(time.perf_counter() - t0, 1), "images_per_second": round(ips, 1),
               "confusion_matrix": cm.tolist(), "precision": precision, "recall": recall}
        history.append(row)
        improved = va_acc > best_acc
        if improved:
            best_acc, best_epoch, stale = va_acc, epoch, 0
        else:
            stale += 1
        extra = {"epoch": epoch, "val_acc": va_acc, "best_acc": best_acc, "best_epoch": best_epoch, "stale": stale,
                 "history": history, "train_model": {k_: v.detach().cpu() for k_, v in model.state_dict().items()},
                 "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(), "torch_rng": torch.get_rng_state()}
        payload = checkpoint_payload(eval_model, cfg, size, spec.in_channels, CLASSES, extra, target)
        save_checkpoint(run_dir / "last.pt", payload)
        if improved:
            best = checkpoint_payload(eval_model, cfg, size, spec.in_channels, CLASSES,
                                      {"epoch": epoch, "val_acc": va_acc, "val_split": val_name,
                                       "confusion_matrix": cm.tolist(), "recall": recall, "precision": precision},
                                      target)
            save_checkpoint(run_dir / "best.pt", best)
        write_history(run_dir, history)
        if tb is not None:
            for key in ("train_loss", "val_loss", "train_acc", "val_acc", "lr"):
                tb.add_scalar(key, row[key], epoch)
        emit({"event": "epoch", **row, "epochs": cfg.epochs, "best_val_acc": round(best_acc, 4), "best_epoch": best_epoch,
              "classes": list(CLASSES), "elapsed_s": round(time.perf_counter() - t_run, 1)})
        if cfg.early_stop_patience and stale >= cfg.early_stop_patience:
            emit({"event": "log", "level": "info", "message": f"early stop: no improvement for {stale} epochs"})
            break
    if tb is not None:
        tb.close()
    summary = {"event": "stopped" if stopped else "finished", "run_dir": str(run_dir), "best_val_acc": round(best_acc, 4),
               "best_epoch": best_epoch, "epochs_done": len(history),
               "best_checkpoint": str(run_dir / "best.pt") if best_epoch else None,
               "seconds": round(time.perf_counter() - t_run, 1)}
    emit(summary)
    return summary
