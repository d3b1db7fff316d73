"""Confusion matrices and per-class precision/recall: one implementation, in fer_desktop.core."""

from fer_desktop.core.training.metrics import confusion_matrix, per_class

__all__ = ["confusion_matrix", "per_class"]
