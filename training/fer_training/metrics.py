"""Confusion matrices and per-class precision/recall (plain numpy)."""

from __future__ import annotations

import numpy as np


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, k: int) -> np.ndarray:
    """Rows: true class, columns: predicted class."""
    return np.bincount(y_true * k + y_pred, minlength=k * k).reshape(k, k)


def per_class(cm: np.ndarray) -> tuple[list[float], list[float]]:
    """(precision, recall) per class; 0 where a class was never predicted / never present."""
    tp = np.diag(cm).astype(float)
    pred = cm.sum(0)
    true = cm.sum(1)
    precision = np.divide(tp, pred, out=np.zeros_like(tp), where=pred > 0)
    recall = np.divide(tp, true, out=np.zeros_like(tp), where=true > 0)
    return [round(float(v), 4) for v in precision], [round(float(v), 4) for v in recall]
