"""Batches for training: in-memory uint8 faces, batched augmentation, prefetched by a DataLoader worker."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, IterableDataset

from fer_desktop.core.training.config import TrainConfig
from fer_desktop.core.training.datasets import Split

# (images, labels), or while training with teachers or vote targets (images, labels, soft, targets)
Batch = (
    tuple[torch.Tensor, torch.Tensor]
    | tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None]
)


def augment(x: torch.Tensor, cfg: TrainConfig, gen: torch.Generator) -> torch.Tensor:
    """Random zoom/shift/rotation/flip (one affine warp), brightness/contrast and erasing, in [0,1]."""
    n = x.shape[0]

    def u(lo: float, hi: float) -> torch.Tensor:
        return torch.rand(n, generator=gen) * (hi - lo) + lo

    scale = u(1 - cfg.zoom, 1 + cfg.zoom)
    angle = u(-cfg.rotation, cfg.rotation) * math.pi / 180
    flip = torch.where(torch.rand(n, generator=gen) < 0.5, -1.0, 1.0) if cfg.flip else torch.ones(n)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = cos * flip
    theta[:, 0, 1] = -sin
    theta[:, 1, 0] = sin * flip
    theta[:, 1, 1] = cos
    theta[:, 0, 2] = u(-cfg.shift, cfg.shift) * 2
    theta[:, 1, 2] = u(-cfg.shift, cfg.shift) * 2
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
    if cfg.brightness or cfg.contrast:
        mean = x.mean(dim=(1, 2, 3), keepdim=True)
        c = u(1 - cfg.contrast, 1 + cfg.contrast).view(n, 1, 1, 1)
        b = u(-cfg.brightness, cfg.brightness).view(n, 1, 1, 1) * 0.5
        x = ((x - mean) * c + mean + b).clamp_(0, 1)
    if cfg.lowres:
        x = _lowres(x, cfg.lowres, gen)
    if cfg.gamma:
        x = x.clamp(1e-4, 1).pow(u(1 - cfg.gamma, 1 + cfg.gamma).view(n, 1, 1, 1))
    if cfg.noise:
        x = (x + torch.randn(x.shape, generator=gen) * u(0, cfg.noise).view(n, 1, 1, 1)).clamp_(
            0, 1
        )
    if cfg.erasing:
        h, w = x.shape[-2:]
        for i in torch.nonzero(torch.rand(n, generator=gen) < cfg.erasing).flatten().tolist():
            eh = int(h * (0.1 + 0.3 * torch.rand(1, generator=gen).item()))
            ew = int(w * (0.1 + 0.3 * torch.rand(1, generator=gen).item()))
            y0 = int(torch.randint(0, h - eh + 1, (1,), generator=gen))
            x0 = int(torch.randint(0, w - ew + 1, (1,), generator=gen))
            x[i, :, y0 : y0 + eh, x0 : x0 + ew] = torch.rand(1, generator=gen).item()
    return x


def _lowres(x: torch.Tensor, share: float, gen: torch.Generator) -> torch.Tensor:
    """Shrink a share of the faces to 12-36 px and scale them back: the soft, small faces a webcam
    or a group photo gives the classifier after the detector's crop."""
    n, size = x.shape[0], x.shape[-1]
    picked = torch.nonzero(torch.rand(n, generator=gen) < share).flatten()
    if not len(picked):
        return x
    x = x.clone()
    sizes = torch.randint(12, 37, (len(picked),), generator=gen)
    for s in sizes.unique().tolist():
        idx = picked[sizes == s]
        small = F.interpolate(x[idx], size=(s, s), mode="area")
        x[idx] = F.interpolate(small, size=(size, size), mode="bilinear", align_corners=False)
    return x


class BatchLoader:
    """Iterates (inputs, labels) batches; a background thread prepares the next ones."""

    def __init__(
        self,
        split: Split,
        cfg: TrainConfig,
        *,
        size: int,
        mean: float,
        std: float,
        train: bool,
        epoch: int = 0,
        sample_weights: np.ndarray | None = None,
        soft: np.ndarray | None = None,
        targets: np.ndarray | None = None,
    ) -> None:
        self.split, self.cfg, self.size, self.mean, self.std, self.train = (
            split,
            cfg,
            size,
            mean,
            std,
            train,
        )
        self.epoch = epoch
        self.sample_weights = sample_weights
        self.soft = soft  # (N, classes) teacher probabilities: batches are (x, y, soft, target)
        self.targets = targets  # (N, classes) label distributions (FER+ votes) or None
        self.batch_size = cfg.batch_size if train else max(256, cfg.batch_size)

    def __len__(self) -> int:
        n = len(self.split)
        return n // self.batch_size if self.train else math.ceil(n / self.batch_size)

    def _order(self) -> np.ndarray:
        n = len(self.split)
        rng = np.random.default_rng(self.cfg.seed * 1000 + self.epoch)
        if not self.train:
            return np.arange(n)
        if self.sample_weights is not None:
            p = self.sample_weights / self.sample_weights.sum()
            return rng.choice(n, size=n, replace=True, p=p)
        return rng.permutation(n)

    def _batches(self) -> Iterator[Batch]:
        order = self._order()
        gen = torch.Generator().manual_seed(self.cfg.seed * 1000 + self.epoch)
        images = torch.from_numpy(self.split.images)
        labels = torch.from_numpy(self.split.labels)
        for b in range(len(self)):
            idx = torch.from_numpy(order[b * self.batch_size : (b + 1) * self.batch_size])
            x = images[idx].float().div_(255.0).unsqueeze(1)
            if x.shape[-1] != self.size:
                x = F.interpolate(
                    x, size=(self.size, self.size), mode="bilinear", align_corners=False
                )
            if self.train and self.cfg.augment:
                x = augment(x, self.cfg, gen)
            x = x.sub_(self.mean).div_(self.std).contiguous(memory_format=torch.channels_last)
            if (self.soft is not None or self.targets is not None) and self.train:
                i = idx.numpy()
                soft = torch.from_numpy(self.soft[i]) if self.soft is not None else None
                target = torch.from_numpy(self.targets[i]) if self.targets is not None else None
                yield x, labels[idx], soft, target
            else:
                yield x, labels[idx]

    def __iter__(self) -> Iterator[Batch]:
        if self.cfg.prefetch <= 0 or not self.train:
            yield from self._batches()
            return
        # One worker process prepares (augments) the next batches while the model trains on this
        # one; it replays exactly the sequence _batches() gives in-process.
        loader = DataLoader(
            _Batches(self), batch_size=None, num_workers=1, prefetch_factor=self.cfg.prefetch
        )
        yield from loader


class _Batches(IterableDataset):
    """The epoch's batches as a dataset, so torch's DataLoader can prefetch them in a worker."""

    def __init__(self, loader: BatchLoader) -> None:
        self.loader = loader

    def __iter__(self) -> Iterator[Batch]:
        return iter(self.loader._batches())
