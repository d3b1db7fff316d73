"""One epoch, torchvision-reference style: `train_one_epoch`, `evaluate`, `pick_weights`.

The run around them (set-up, resume, the epochs, checkpoints, export) is `fit.run`."""

from __future__ import annotations

import threading
import time

import numpy as np
import torch
import torch.nn.functional as F

from fer_desktop.core.training import events
from fer_desktop.core.training.config import TrainConfig
from fer_desktop.core.training.metrics import confusion_matrix
from fer_training.multidata import scores, selection_score
from fer_training.recipe import Training, make_ema
from fer_training.reporting import Emit

__all__ = ["evaluate", "make_ema", "pick_weights", "train_one_epoch"]


def autocast_for(device: torch.device, precision: str):
    """Autocast for a resolved precision (bf16 | fp16 | fp32) on `device`."""
    if precision == "bf16" and device.type in ("cpu", "cuda"):
        return torch.autocast(device.type, dtype=torch.bfloat16)
    if precision == "fp16" and device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.float16)
    return torch.autocast(device.type, enabled=False)


def train_one_epoch(
    t: Training,
    loader,
    device: torch.device,
    epoch: int,
    cfg: TrainConfig,
    *,
    emit: Emit,
    stop: threading.Event,
) -> tuple[float, float, float]:
    """One pass over `loader`: (mean loss, accuracy, images per second). Stops after the batch
    in progress when `stop` is set."""
    model, criterion, optimizer = t.model, t.criterion, t.optimizer
    model.train()
    total, correct, loss_sum = 0, 0, 0.0
    t0 = last_emit = time.perf_counter()
    n_batches = len(loader)
    gen = torch.Generator().manual_seed(cfg.seed + epoch)
    for i, batch in enumerate(loader):
        if stop.is_set():
            break
        x, y = batch[0].to(device, non_blocking=True), batch[1].to(device, non_blocking=True)
        soft = batch[2].to(device) if len(batch) > 2 and batch[2] is not None else None  # teachers
        if len(batch) > 3 and batch[3] is not None:  # label distributions (FER+ votes)
            y_loss = batch[3].to(device)
        else:
            y_loss = y
        mix = cfg.mixup > 0 and torch.rand(1, generator=gen).item() < cfg.mixup
        with autocast_for(device, cfg.precision):
            if mix:
                lam = float(np.random.default_rng(cfg.seed + epoch * 100003 + i).beta(0.4, 0.4))
                perm = torch.randperm(x.shape[0], generator=gen).to(device)
                out = model(lam * x + (1 - lam) * x[perm])
                loss = lam * criterion(out, y_loss) + (1 - lam) * criterion(out, y_loss[perm])
                if soft is not None:
                    soft = lam * soft + (1 - lam) * soft[perm]
            else:
                out = model(x)
                loss = criterion(out.float(), y_loss) if y_loss is not y else criterion(out, y)
            if soft is not None:  # distillation (Hinton et al. 2015): KL at temperature T
                temp = cfg.kd_temperature
                kd = F.kl_div(F.log_softmax(out.float() / temp, 1), soft, reduction="batchmean")
                loss = cfg.kd_alpha * kd * temp * temp + (1 - cfg.kd_alpha) * loss
        optimizer.zero_grad(set_to_none=True)
        if t.scaler is not None:
            t.scaler.scale(loss).backward()
            t.scaler.step(optimizer)
            t.scaler.update()
        else:
            loss.backward()
            optimizer.step()
        t.step_fn()
        if t.ema is not None:
            t.ema.update_parameters(model)
        loss_sum += loss.item() * x.shape[0]
        correct += (out.argmax(1) == y).sum().item()
        total += x.shape[0]
        now = time.perf_counter()
        if now - last_emit > 1.0 or i == n_batches - 1:
            last_emit = now
            ips = total / (now - t0)
            eta = (n_batches - i - 1) * cfg.batch_size / max(ips, 1e-6)
            emit(events.progress_event(epoch, i + 1, n_batches, ips, eta))
    return (
        loss_sum / max(total, 1),
        correct / max(total, 1),
        total / max(time.perf_counter() - t0, 1e-6),
    )


@torch.no_grad()
def evaluate(model, loader, device, precision: str, k: int) -> tuple[float, float, np.ndarray]:
    """(mean loss, accuracy, confusion matrix) of `model` on `loader`."""
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


def _score_sets(net, val_loaders, device, precision, k, weights):
    """Every validation set scored alone; the first one's loss/accuracy/matrix are the curves'."""
    per_set, first = {}, None
    for name, loader in val_loaders:
        loss, acc, cm = evaluate(net, loader, device, precision, k)
        sc = scores(cm)
        per_set[name] = {
            "acc": sc["acc"],
            "mean_recall": sc["mean_recall"],
            "recall": sc["recall"],
            "confusion_matrix": cm.tolist(),
        }
        if first is None:
            first = (loss, acc, cm)
    return first, per_set, selection_score(list(per_set.values()), weights)


def pick_weights(model, ema, val_loaders, device, precision: str, k: int, weights=()):
    """Validate the raw weights and, when kept, their EMA; the one with the better selection
    score (multidata.selection_score) is shown and shipped."""
    (va_loss, va_acc, cm), per_set, score = _score_sets(
        model, val_loaders, device, precision, k, weights
    )
    chosen, source = model, "raw"
    raw_acc = va_acc
    if ema is not None:
        (e_loss, e_acc, e_cm), e_set, e_score = _score_sets(
            ema.module, val_loaders, device, precision, k, weights
        )
        if e_score >= score:
            va_loss, va_acc, cm, chosen, source = e_loss, e_acc, e_cm, ema.module, "ema"
            per_set, score = e_set, e_score
    return chosen, source, raw_acc, va_loss, va_acc, cm, per_set, score
