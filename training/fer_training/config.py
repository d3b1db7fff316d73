"""One typed training configuration, saved with every run (it lives in fer_desktop.core, which the
Training tab reads too; this module keeps the trainer's import path)."""

from fer_desktop.core.training.config import LEGACY_KEYS, TrainConfig

__all__ = ["LEGACY_KEYS", "TrainConfig"]
