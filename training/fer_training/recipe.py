"""A recipe made real: the model, loss, optimizer, schedule, scaler and EMA one run trains with."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel

from fer_desktop.core.classify.nets import build_model
from fer_desktop.core.training.config import TrainConfig


@dataclass
class Training:
    model: nn.Module
    criterion: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: Any
    step_fn: Callable[[], Any]  # the per-batch schedule step (a no-op for plateau)
    scaler: torch.amp.GradScaler | None
    ema: AveragedModel | None
    sample_weights: np.ndarray | None  # per training image, for the sampler (None: uniform)


def build_training(
    cfg: TrainConfig,
    counts: np.ndarray,
    device: torch.device,
    precision: str,
    labels: np.ndarray,
    data_weights: np.ndarray | None,
    steps_per_epoch: int,
) -> Training:
    model = (
        build_model(cfg.arch, num_classes=len(counts), **cfg.arch_kwargs)
        .to(device)
        .to(memory_format=torch.channels_last)
    )
    if cfg.init:
        load_init(model, cfg.init)
    criterion, class_sample_w = make_criterion(cfg, counts, device)
    sample_w = class_sample_w[labels] if class_sample_w is not None else None
    if data_weights is not None:
        sample_w = data_weights if sample_w is None else data_weights * sample_w
    optimizer = make_optimizer(cfg, model)
    scheduler, step_fn = make_schedule(cfg, optimizer, steps_per_epoch)
    scaler = torch.amp.GradScaler("cuda") if device.type == "cuda" and precision == "fp16" else None
    ema = make_ema(model, cfg.ema) if cfg.ema > 0 else None
    return Training(model, criterion, optimizer, scheduler, step_fn, scaler, ema, sample_w)


def load_init(model: nn.Module, path: str) -> None:
    """Start from the weights of a saved checkpoint (same architecture and shape)."""
    from fer_desktop.core.support.errors import UserError

    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        state = {k: v.float() if v.is_floating_point() else v for k, v in ckpt["model"].items()}
        model.load_state_dict(state)
    except (OSError, KeyError, RuntimeError, TypeError) as exc:
        raise UserError(
            f"Cannot start from {path}: {exc}",
            "Give --init a fer_desktop .pt of the same architecture and shape.",
        ) from exc


def make_ema(model: nn.Module, decay: float, warmup_steps: float = 2000.0) -> AveragedModel:
    """Weight EMA whose decay ramps up with the step count (decay * (1 - exp(-n / warmup_steps))),
    as timm and ultralytics do: early epochs are not frozen at the random initial weights."""

    @torch.no_grad()
    def ramped(
        ema_params: Sequence[torch.Tensor],
        params: Sequence[torch.Tensor],
        num_averaged: torch.Tensor | int,
    ) -> None:
        d = decay * (1.0 - math.exp(-float(num_averaged) / warmup_steps))
        floats = [(e, p) for e, p in zip(ema_params, params) if e.dtype.is_floating_point]
        if floats:
            torch._foreach_lerp_([e for e, _ in floats], [p for _, p in floats], 1.0 - d)
        for e, p in zip(ema_params, params):
            if not e.dtype.is_floating_point:
                e.copy_(p)

    return AveragedModel(model, multi_avg_fn=ramped, use_buffers=True)


def make_optimizer(cfg: TrainConfig, model: nn.Module) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(
            params, lr=cfg.lr, momentum=0.9, nesterov=True, weight_decay=cfg.weight_decay
        )
    opt = torch.optim.AdamW if cfg.optimizer == "adamw" else torch.optim.Adam
    return opt(params, lr=cfg.lr, weight_decay=cfg.weight_decay, amsgrad=cfg.amsgrad)


def make_schedule(cfg: TrainConfig, optimizer, steps_per_epoch: int):
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
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, mode="min", factor=cfg.plateau_factor, patience=cfg.plateau_patience
    )
    return plateau, lambda: None  # plateau steps once per epoch, on the validation loss


def make_criterion(
    cfg: TrainConfig, counts: np.ndarray, device
) -> tuple[nn.Module, np.ndarray | None]:
    k = len(counts)
    class_w, sample_w = None, None
    if cfg.balance == "weights":
        w = counts.sum() / (k * np.maximum(counts, 1))
        class_w = torch.tensor(w / w.mean(), dtype=torch.float32, device=device)
    elif cfg.balance == "sampler":
        sample_w = 1.0 / np.maximum(counts, 1)
    return nn.CrossEntropyLoss(weight=class_w, label_smoothing=cfg.label_smoothing), sample_w


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
