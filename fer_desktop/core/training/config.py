"""One typed training configuration, saved with every run.

In the core because both sides read it: the Training tab builds one from its form and writes it
to the run folder (`request.json`), and the trainer (`fer-train --config request.json`) runs it;
neither imports the other.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from fer_desktop.core import choices
from fer_desktop.core.support.errors import UserError

LEGACY_KEYS = frozenset({"match_sharpness"})  # settings older runs saved that no longer exist

# The allowed values of the training settings that take one of a few words: the one list that
# validation, fer-train's --help/argparse and the Training tab's combo boxes all read.
CHOICES: dict[str, tuple[str, ...]] = {
    "optimizer": choices.OPTIMIZERS,
    "schedule": choices.SCHEDULES,
    "balance": choices.BALANCES,
    "precision": choices.TORCH_PRECISIONS,
    "label_mode": ("majority", "votes"),
}


@dataclass
class TrainConfig:
    data: str | list = ""  # one dataset (folder, zip, csv) or a list of them trained together
    # Share of each epoch's samples drawn from each dataset (same order as data); [] = by size.
    data_mix: list = field(default_factory=list)
    # Images named like CK+ sequence frames (S005_001_00000011.png) share one sample weight per
    # sequence: its near-copy frames count as one sample, not three.
    sequence_weight: bool = True
    # Model selection: each dataset's validation split scores (accuracy + mean class recall) / 2;
    # the selection score is their mean weighted by this list ([] = equal weights).
    select_weights: list = field(default_factory=list)
    arch: str = "fer_net"
    arch_kwargs: dict = field(default_factory=dict)
    epochs: int = 10  # ~17 min for fer_net on FER2013 on a 2-core CPU; recipes set their own
    batch_size: int = 64
    lr: float = 1e-3
    optimizer: str = "adamw"  # adam | adamw | sgd
    amsgrad: bool = False
    weight_decay: float = 1e-4
    schedule: str = "cosine"  # cosine | plateau
    warmup_epochs: int = 1
    plateau_factor: float = 0.2
    plateau_patience: int = 5
    early_stop_patience: int = 0  # 0 = off; epochs without val-accuracy improvement
    balance: str = "none"  # none | weights | sampler
    label_smoothing: float = 0.1
    augment: bool = True
    zoom: float = 0.15
    rotation: float = 10.0
    shift: float = 0.08
    flip: bool = True
    brightness: float = 0.25
    contrast: float = 0.25
    erasing: float = 0.25
    mixup: float = 0.0  # probability of a mixup batch
    # Distillation: soft-target files of teachers (python -m fer_training.soft_targets, same
    # --data); the loss is kd_alpha * T^2 * KL(student || ensemble at T) + (1 - kd_alpha) * CE.
    teachers: list = field(default_factory=list)
    kd_temperature: float = 4.0
    kd_alpha: float = 0.7
    # FER+ data (ten annotators' votes): learn the majority label, or the vote distribution over
    # the 7 classes as a soft target (contempt / unknown / not-a-face votes dropped). Datasets
    # without votes (CK+, FER2013) take their one label as a one-hot target in "votes" mode.
    label_mode: str = "majority"
    # Start from these weights (a fer_desktop .pt of the same arch and shape): fine-tuning.
    init: str = ""
    lowres: float = (
        0.0  # share of faces shrunk to 12-36 px and scaled back (small, soft webcam faces)
    )
    noise: float = 0.0  # largest sensor-noise standard deviation (0-1 intensity scale)
    gamma: float = 0.0  # lighting: gamma drawn from [1 - gamma, 1 + gamma]
    ema: float = 0.0  # weight EMA decay per step, 0 = off
    seed: int = 0
    limit: int = 0  # max images per split, 0 = all
    val_split: str = ""  # "" = automatic
    precision: str = (
        "auto"  # auto | bf16 | fp16 | fp32 (auto: fp16 on CUDA, bf16 on a CPU with native bf16)
    )
    device: str = "auto"
    threads: int = 0  # torch threads, 0 = default
    prefetch: int = 2  # batches prepared in a background thread
    out: str = ""  # run folder; "" = <user data>/runs/<timestamp>-<arch>
    tensorboard: bool = False

    def data_paths(self) -> list[str]:
        if isinstance(self.data, str):
            return [self.data] if self.data else []
        return [str(d) for d in self.data]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        d = {k: v for k, v in d.items() if k not in LEGACY_KEYS}
        unknown = sorted(set(d) - known)
        if unknown:
            raise UserError(
                f"Unknown training setting(s): {', '.join(unknown)}.",
                f"Known settings: {', '.join(sorted(known))}.",
            )
        cfg = cls(**d)
        cfg.validate()
        return cfg

    @classmethod
    def from_file(cls, path: str | Path) -> TrainConfig:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
            d = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
        except (OSError, ValueError) as exc:
            raise UserError(
                f"Cannot read the config file {path}: {exc}", "Use a JSON or TOML file."
            ) from exc
        return cls.from_dict(d)

    def validate(self) -> None:
        from fer_desktop.core.classify.arch_names import ARCH_INFO as ARCHITECTURES

        problems = []
        if self.arch not in ARCHITECTURES:
            problems.append(f"arch '{self.arch}' is not one of {', '.join(ARCHITECTURES)}")
        if self.epochs < 1:
            problems.append("epochs must be at least 1")
        if self.batch_size < 2:
            problems.append("batch size must be at least 2")
        if not self.lr > 0:
            problems.append("learning rate must be positive")
        for name, allowed in CHOICES.items():
            if getattr(self, name) not in allowed:
                problems.append(f"{name} must be one of {', '.join(allowed)}")
        if not 0.0 <= self.kd_alpha <= 1.0 or not self.kd_temperature > 0:
            problems.append("kd_alpha must be in [0, 1] and kd_temperature positive")
        n = len(self.data_paths())
        for name in ("data_mix", "select_weights"):
            v = getattr(self, name)
            if v and n and (len(v) != n or any(not isinstance(x, int | float) or x < 0 for x in v)):
                problems.append(f"{name} needs one non-negative number per dataset ({n})")
        if problems:
            raise UserError(
                "Invalid training settings: " + "; ".join(problems) + ".",
                "Fix them and start again.",
            )
