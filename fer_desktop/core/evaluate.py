"""Score an emotion classifier on labelled face crops (`<split>/<class>/*.jpg`, folder or zip)."""

from __future__ import annotations

import time

import numpy as np

from .classifier import EmotionClassifier
from .datasets import load_dataset
from .emotions import CLASSES
from .errors import UserError
from .metrics import confusion_matrix


def evaluate_classifier(
    clf: EmotionClassifier,
    data: str,
    split: str | None = None,
    batch: int = 256,
    limit: int | None = None,
) -> dict:
    """Accuracy, per-class recall, confusion matrix (rows true) and ms per face (live-frame style)."""
    ds = load_dataset(data, size=clf.data_size, limit=limit)
    name = split or ds.default_eval_split()
    if name not in ds.splits:
        raise UserError(
            f"The dataset has no split '{name}'.", f"Splits found: {', '.join(ds.splits)}."
        )
    s = ds.splits[name]
    order = [clf.classes.index(c) if c in clf.classes else -1 for c in CLASSES]
    if min(order) < 0:
        raise UserError(
            f"The model's classes {clf.classes} do not cover {CLASSES}.",
            "Choose a 7-class emotion model.",
        )
    clf.predict_crops(s.images[:8])  # warm-up: first call pays one-off allocation costs
    preds = []
    t0 = time.perf_counter()
    for i in range(0, len(s), batch):
        probs = clf.predict_crops(s.images[i : i + batch])
        preds.append(probs[:, order].argmax(1))
    total_s = time.perf_counter() - t0
    y_pred = np.concatenate(preds)
    y = s.labels
    k = len(CLASSES)
    cm = confusion_matrix(y, y_pred, k)
    recall = {c: round(float(cm[i, i] / max(cm[i].sum(), 1)), 4) for i, c in enumerate(CLASSES)}
    return {
        "n": len(y),
        "split": name,
        "accuracy": round(float((y_pred == y).mean()), 4),
        "per_class_recall": recall,
        "confusion_matrix": cm.tolist(),
        "classes": list(CLASSES),
        # As in a live frame: one face cropped from a frame, preprocessed and classified alone.
        "ms_per_face": round(frame_latency_ms(clf, s.images), 4),
        "ms_per_face_batched": round(total_s * 1000 / max(len(y), 1), 4),
        "model": clf.name,
        "precision_mode": clf.precision,
        "tta": clf.tta,
    }


def frame_latency_ms(
    clf: EmotionClassifier, images: np.ndarray, faces: int = 1, runs: int = 200
) -> float:
    """Median ms per face when a live frame's faces (`faces` at a time) are classified, preprocessing included."""
    import cv2

    frame = cv2.cvtColor(cv2.resize(images[0], (480, 480)), cv2.COLOR_GRAY2BGR)
    boxes = [(40 + 10 * i, 40, 440 - 10 * i, 440) for i in range(faces)]
    times = []
    for i in range(runs + 10):
        t0 = time.perf_counter()
        clf.predict_crops(clf.preprocess(frame, boxes))
        if i >= 10:
            times.append(time.perf_counter() - t0)
    return float(np.median(times)) * 1000 / faces
