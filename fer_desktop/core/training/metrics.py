"""Confusion matrices and per-class precision/recall (plain numpy), for training and evaluation."""

from __future__ import annotations

import numpy as np


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, k: int) -> np.ndarray:
    """Rows: true class, columns: predicted class (int64 counts, shape (k, k))."""
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    return np.bincount(y_true * k + y_pred, minlength=k * k).reshape(k, k)


def per_class(cm: np.ndarray) -> tuple[list[float], list[float]]:
    """(precision, recall) per class; 0 where a class was never predicted / never present."""
    cm = np.asarray(cm)
    tp = np.diag(cm).astype(float)
    pred = cm.sum(0)
    true = cm.sum(1)
    precision = np.divide(tp, pred, out=np.zeros_like(tp), where=pred > 0)
    recall = np.divide(tp, true, out=np.zeros_like(tp), where=true > 0)
    return [round(float(v), 4) for v in precision], [round(float(v), 4) for v in recall]


def row_normalised(matrix) -> list[list[float]]:
    """Each row divided by its sum: the share of a true class predicted as each class."""
    m = np.asarray(matrix, dtype=float)
    sums = m.sum(1, keepdims=True)
    return np.divide(m, sums, out=np.zeros_like(m), where=sums > 0).tolist()
