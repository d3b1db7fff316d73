"""The training loop: train_one_epoch / evaluate / run, torchvision-reference style."""

from __future__ import annotations

import dataclasses
import json
import logging
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
from torch.optim.swa_utils import AveragedModel

from fer_desktop.core.classify.nets import ARCHITECTURES, build_model
from fer_desktop.core.classify.torch_backend import weights_sha256
from fer_desktop.core.emotions import CLASSES
from fer_desktop.core.support.devices import pick_device, resolve_precision
from fer_desktop.core.support.errors import UserError
from fer_desktop.core.support.fileio import atomic_write_text
from fer_training.config import TrainConfig
from fer_training.data import BatchLoader
from fer_training.metrics import confusion_matrix, per_class
from fer_training.multidata import load_training_data, scores, selection_score
from fer_training.runs import default_run_dir, save_checkpoint, write_history

Emit = Callable[[dict], None]
log = logging.getLogger("fer_training")


def attach_run_log(run_dir: Path) -> None:
    """Log this run to <run_dir>/train.log (tracebacks of failures included)."""
    path = (run_dir / "train.log").resolve()
    root = logging.getLogger()
    if any(getattr(h, "baseFilename", None) == str(path) for h in root.handlers):
        return
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)


MEAN, STD = 0.5, 0.5


def autocast_for(device: torch.device, precision: str):
    """Autocast for a resolved precision (bf16 | fp16 | fp32) on `device`."""
    if precision == "bf16" and device.type in ("cpu", "cuda"):
        return torch.autocast(device.type, dtype=torch.bfloat16)
    if precision == "fp16" and device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.float16)
    return torch.autocast(device.type, enabled=False)


def train_one_epoch(
    model,
    loader,
    optimizer,
    scheduler_step,
    criterion,
    device,
    cfg,
    emit,
    stop,
    epoch,
    ema=None,
    scaler=None,
) -> tuple[float, float, float]:
    model.train()
    total, correct, loss_sum, seen = 0, 0, 0.0, 0
    t0 = time.perf_counter()
    last_emit = t0
    n_batches = len(loader)
    gen = torch.Generator().manual_seed(cfg.seed + epoch)
    for i, batch in enumerate(loader):
        if stop.is_set():
            break
        x, y = batch[0].to(device, non_blocking=True), batch[1].to(device, non_blocking=True)
        soft = batch[2].to(device) if len(batch) > 2 else None  # the teachers' ensemble
        mix = cfg.mixup > 0 and torch.rand(1, generator=gen).item() < cfg.mixup
        with autocast_for(device, cfg.precision):
            if mix:
                lam = float(np.random.default_rng(cfg.seed + epoch * 100003 + i).beta(0.4, 0.4))
                perm = torch.randperm(x.shape[0], generator=gen).to(device)
                out = model(lam * x + (1 - lam) * x[perm])
                loss = lam * criterion(out, y) + (1 - lam) * criterion(out, y[perm])
                if soft is not None:
                    soft = lam * soft + (1 - lam) * soft[perm]
            else:
                out = model(x)
                loss = criterion(out, y)
            if soft is not None:  # distillation (Hinton et al. 2015): KL at temperature T
                t = cfg.kd_temperature
                kd = F.kl_div(F.log_softmax(out.float() / t, 1), soft, reduction="batchmean")
                loss = cfg.kd_alpha * kd * t * t + (1 - cfg.kd_alpha) * loss
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
            ema.update_parameters(model)
        seen += x.shape[0]
        loss_sum += loss.item() * x.shape[0]
        correct += (out.argmax(1) == y).sum().item()
        total += x.shape[0]
        now = time.perf_counter()
        if now - last_emit > 1.0 or i == n_batches - 1:
            last_emit = now
            ips = seen / (now - t0)
            emit(
                {
                    "event": "progress",
                    "epoch": epoch,
                    "batch": i + 1,
                    "batches": n_batches,
                    "images_per_second": round(ips, 1),
                    "eta_epoch_s": round((n_batches - i - 1) * cfg.batch_size / max(ips, 1e-6), 1),
                }
            )
    return (
        loss_sum / max(total, 1),
        correct / max(total, 1),
        seen / max(time.perf_counter() - t0, 1e-6),
    )


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


def make_ema(model: nn.Module, decay: float, warmup_steps: float = 2000.0) -> AveragedModel:
    """Weight EMA whose decay ramps up with the step count (decay * (1 - exp(-n / warmup_steps))),
    as timm and ultralytics do: early epochs are not frozen at the random initial weights."""

    @torch.no_grad()
    def ramped(ema_params: list, params: list, num_averaged) -> None:
        d = decay * (1.0 - math.exp(-float(num_averaged) / warmup_steps))
        floats = [(e, p) for e, p in zip(ema_params, params) if e.dtype.is_floating_point]
        if floats:
            torch._foreach_lerp_([e for e, _ in floats], [p for _, p in floats], 1.0 - d)
        for e, p in zip(ema_params, params):
            if not e.dtype.is_floating_point:
                e.copy_(p)

    return AveragedModel(model, multi_avg_fn=ramped, use_buffers=True)


def _rng_state() -> dict:
    """Every random source training draws from, in a form torch.load(weights_only=True) accepts."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
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


def _set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    if "python" in state:
        py = state["python"]
        random.setstate((py[0], tuple(py[1]), py[2]))
    if "numpy" in state:
        n = state["numpy"]
        np.random.set_state(
            ("MT19937", n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["gauss"])
        )


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _plain(model: nn.Module) -> nn.Module:
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
    weights = {k: v.detach().cpu() for k, v in _plain(model).state_dict().items()}
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


def _optimizer(cfg: TrainConfig, model: nn.Module) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(
            params, lr=cfg.lr, momentum=0.9, nesterov=True, weight_decay=cfg.weight_decay
        )
    opt = torch.optim.AdamW if cfg.optimizer == "adamw" else torch.optim.Adam
    return opt(params, lr=cfg.lr, weight_decay=cfg.weight_decay, amsgrad=cfg.amsgrad)


def _schedule(cfg: TrainConfig, optimizer, steps_per_epoch: int):
    """(scheduler, per-step hook). Cosine is a closed-form LambdaLR (linear warm-up, then cosine) so
    that a resumed run given more epochs follows the longer curve; SequentialLR(LinearLR,
    CosineAnnealingLR) keeps T_max in its saved state and would follow the old one."""
    if cfg.schedule == "cosine":
        total = cfg.epochs * steps_per_epoch
        warm = cfg.warmup_epochs * steps_per_epoch

        def lr_lambda(step: int) -> float:
            if step < warm:
                return (step + 1) / warm
            return 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warm) / max(1, total - warm))))

        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda)
        return scheduler, scheduler.step
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, mode="min", factor=cfg.plateau_factor, patience=cfg.plateau_patience
    )
    return scheduler, lambda: None  # plateau steps once per epoch, on the validation loss


def _criterion(cfg: TrainConfig, counts: np.ndarray, device) -> tuple[nn.Module, np.ndarray | None]:
    k = len(counts)
    class_w, sample_w = None, None
    if cfg.balance == "weights":
        w = counts.sum() / (k * np.maximum(counts, 1))
        class_w = torch.tensor(w / w.mean(), dtype=torch.float32, device=device)
    elif cfg.balance == "sampler":
        sample_w = 1.0 / np.maximum(counts, 1)
    return nn.CrossEntropyLoss(weight=class_w, label_smoothing=cfg.label_smoothing), sample_w


def load_resume_state(run_dir: str | Path) -> dict:
    """last.pt of a run folder, loaded without running any code from it."""
    last = Path(run_dir) / "last.pt"
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


def teacher_targets(cfg: TrainConfig, train) -> np.ndarray:
    """The teachers' ensemble for every training image: the mean of their probabilities at the
    distillation temperature, from their saved logits (checked against these images' names)."""
    from fer_training.soft_targets import load

    names = list(train.names or [])
    probs = []
    for path in cfg.teachers:
        z = torch.from_numpy(load(path, names)) / cfg.kd_temperature
        probs.append(torch.softmax(z, 1))
    return torch.stack(probs).mean(0).numpy().astype(np.float32)


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


def _pick_weights(model, ema, val_loaders, device, precision: str, k: int, weights=()):
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
    state = None
    if resume:
        state = load_resume_state(resume)
        saved = TrainConfig.from_dict(state["config"]).to_dict()
        saved.update(
            {k_: v for k_, v in (overrides or {}).items() if k_ not in ("out", "data") or v}
        )
        cfg = TrainConfig.from_dict(saved)
        cfg.out = str(Path(resume))
    cfg.validate()
    _seed_everything(cfg.seed)
    device = pick_device(cfg.device)
    precision = resolve_precision(device.type, cfg.precision)
    spec = ARCHITECTURES[cfg.arch]
    size = spec.input_size
    run_dir = Path(cfg.out) if cfg.out else default_run_dir(cfg.arch)
    cfg.out = str(run_dir)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        attach_run_log(run_dir)
    except OSError as exc:
        raise UserError(
            f"Cannot write the run folder {run_dir}: {exc.strerror or exc}.",
            "Choose an output folder you can write to (--out).",
        ) from exc
    emit = _logged(emit)

    train, data_w, vals, summary, skipped = load_training_data(cfg)
    soft = teacher_targets(cfg, train) if cfg.teachers else None
    if skipped:
        emit(
            {"event": "log", "level": "warning", "message": f"skipped {skipped} unreadable images"}
        )
    val = vals[0].split
    val_name = " + ".join(f"{v.name} {v.split_name}" for v in vals)
    k = len(CLASSES)
    counts = np.bincount(train.labels, minlength=k).astype(float)
    emit(
        {
            "event": "log",
            "level": "info",
            "message": f"data {summary}; validating on {val_name}; device {device} ({precision}); arch {cfg.arch}",
        }
    )
    atomic_write_text(
        run_dir / "config.json",
        json.dumps(
            {
                "config": cfg.to_dict(),
                "classes": list(CLASSES),
                "train_counts": counts.astype(int).tolist(),
                "val_split": val_name,
                "val_count": len(val),
            },
            indent=1,
        ),
    )

    model = (
        build_model(cfg.arch, num_classes=k, **cfg.arch_kwargs)
        .to(device)
        .to(memory_format=torch.channels_last)
    )
    criterion, class_sample_w = _criterion(cfg, counts, device)
    sample_w = class_sample_w[train.labels] if class_sample_w is not None else None
    if data_w is not None:
        sample_w = data_w if sample_w is None else data_w * sample_w
    optimizer = _optimizer(cfg, model)
    scheduler, step_fn = _schedule(cfg, optimizer, max(1, len(train) // cfg.batch_size))
    scaler = torch.amp.GradScaler("cuda") if device.type == "cuda" and precision == "fp16" else None
    ema = make_ema(model, cfg.ema) if cfg.ema > 0 else None

    history: list[dict] = []
    # best_acc: the best selection score (for one validation set, its accuracy); best_val: the
    # validation accuracy of that epoch (what the curves and the status line show).
    start_epoch, best_acc, best_epoch, stale, best_val = 1, -1.0, 0, 0, 0.0
    if state is not None:
        model.load_state_dict(state["train_model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        if ema is not None and state.get("ema"):
            ema.load_state_dict(state["ema"])
        if scaler is not None and state.get("scaler"):
            scaler.load_state_dict(state["scaler"])
        history = state["history"]
        start_epoch = state["epoch"] + 1
        best_acc, best_epoch, stale = state["best_acc"], state["best_epoch"], state.get("stale", 0)
        best_val = next((r["val_acc"] for r in history if r["epoch"] == best_epoch), best_acc)
        _set_rng_state(state.get("rng") or {"torch": state["torch_rng"]})
        emit(
            {
                "event": "log",
                "level": "info",
                "message": f"resumed {run_dir} after epoch {state['epoch']} (of {cfg.epochs})",
            }
        )

    tb = _tensorboard(cfg, run_dir, emit)
    emit(
        {
            "event": "start",
            "run_dir": str(run_dir),
            "config": cfg.to_dict(),
            "classes": list(CLASSES),
            "train_images": len(train),
            "val_images": sum(len(v.split) for v in vals),
            "start_epoch": start_epoch,
            "precision": precision,
        }
    )
    t_run = time.perf_counter()
    val_loaders = [
        (v.name, BatchLoader(v.split, cfg, size=size, mean=MEAN, std=STD, train=False))
        for v in vals
    ]
    stopped = False
    run_cfg = dataclasses.replace(cfg, precision=precision)
    for epoch in range(start_epoch, cfg.epochs + 1):
        t0 = time.perf_counter()
        loader = BatchLoader(
            train,
            cfg,
            size=size,
            mean=MEAN,
            std=STD,
            train=True,
            epoch=epoch,
            sample_weights=sample_w,
            soft=soft,
        )
        tr_loss, tr_acc, ips = train_one_epoch(
            model,
            loader,
            optimizer,
            step_fn,
            criterion,
            device,
            run_cfg,
            emit,
            stop,
            epoch,
            ema,
            scaler,
        )
        if stop.is_set():
            stopped = True
            emit(
                {
                    "event": "log",
                    "level": "info",
                    "message": f"stopped during epoch {epoch}; resume continues from epoch {epoch}",
                }
            )
            break
        chosen, source, raw_acc, va_loss, va_acc, cm, per_set, score = _pick_weights(
            model, ema, val_loaders, device, precision, k, cfg.select_weights
        )
        if cfg.schedule == "plateau":
            scheduler.step(va_loss)
        prec, recall = per_class(cm)
        row = {
            "epoch": epoch,
            "train_loss": round(tr_loss, 4),
            "train_acc": round(tr_acc, 4),
            "val_loss": round(va_loss, 4),
            "val_acc": round(va_acc, 4),
            "raw_val_acc": round(raw_acc, 4),
            "weights": source,
            "lr": optimizer.param_groups[0]["lr"],
            "seconds": round(time.perf_counter() - t0, 1),
            "images_per_second": round(ips, 1),
            "confusion_matrix": cm.tolist(),
            "precision": prec,
            "recall": recall,
            "val_sets": per_set,
            "select_score": round(score, 4),
        }
        history.append(row)
        improved = score > best_acc
        if improved:
            best_acc, best_epoch, stale, best_val = score, epoch, 0, va_acc
        else:
            stale += 1
        extra = {
            "epoch": epoch,
            "val_acc": va_acc,
            "best_acc": best_acc,
            "best_epoch": best_epoch,
            "stale": stale,
            "history": history,
            "train_model": {k_: v.detach().cpu() for k_, v in model.state_dict().items()},
            "ema": ema.state_dict() if ema is not None else None,
            "scaler": scaler.state_dict() if scaler is not None else None,
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "rng": _rng_state(),
        }
        save_checkpoint(
            run_dir / "last.pt",
            checkpoint_payload(chosen, cfg, size, spec.in_channels, CLASSES, extra),
        )
        if improved:
            best = checkpoint_payload(
                chosen,
                cfg,
                size,
                spec.in_channels,
                CLASSES,
                {
                    "epoch": epoch,
                    "val_acc": va_acc,
                    "val_split": val_name,
                    "val_count": len(val),
                    "weights": source,
                    "confusion_matrix": cm.tolist(),
                    "recall": recall,
                    "precision": prec,
                    "val_sets": per_set,
                    "select_score": round(score, 4),
                },
            )
            save_checkpoint(run_dir / "best.pt", best)
            emit({"event": "best", "epoch": epoch, "path": str(run_dir / "best.pt")})
        write_history(run_dir, history)
        if tb is not None:
            for key in ("train_loss", "val_loss", "train_acc", "val_acc", "lr"):
                tb.add_scalar(key, row[key], epoch)
        emit(
            {
                "event": "epoch",
                **row,
                "epochs": cfg.epochs,
                "best_val_acc": round(best_val, 4),
                "best_score": round(best_acc, 4),
                "best_epoch": best_epoch,
                "classes": list(CLASSES),
                "elapsed_s": round(time.perf_counter() - t_run, 1),
            }
        )
        if cfg.early_stop_patience and stale >= cfg.early_stop_patience:
            emit(
                {
                    "event": "log",
                    "level": "info",
                    "message": f"early stop: no improvement for {stale} epochs",
                }
            )
            break
    if tb is not None:
        tb.close()
    if best_epoch:  # best.onnx beside best.pt: "Use this model" then runs without torch
        from fer_training.export import export_after_run

        export_after_run(run_dir / "best.pt", emit)
    summary = {
        "event": "stopped" if stopped else "finished",
        "run_dir": str(run_dir),
        "best_val_acc": round(best_val, 4),
        "best_score": round(best_acc, 4),
        "best_epoch": best_epoch,
        "epochs_done": len(history),
        "best_checkpoint": str(run_dir / "best.pt") if best_epoch else None,
        "seconds": round(time.perf_counter() - t_run, 1),
    }
    emit(summary)
    return summary


def _logged(emit: Emit) -> Emit:
    """The same events, also written to the run's train.log (progress events excepted)."""

    def both(ev: dict) -> None:
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


def _tensorboard(cfg: TrainConfig, run_dir: Path, emit: Emit):
    if not cfg.tensorboard:
        return None
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        emit(
            {
                "event": "log",
                "level": "warning",
                "message": "TensorBoard is not installed (pip install tensorboard); continuing without it",
            }
        )
        return None
    return SummaryWriter(str(run_dir / "tensorboard"))
