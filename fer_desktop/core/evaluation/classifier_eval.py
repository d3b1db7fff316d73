"""Score an emotion classifier on labelled face crops (`<split>/<class>/*.jpg`, folder or zip)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np

from fer_desktop.core.classify.classifier import EmotionClassifier
from fer_desktop.core.emotions import CLASSES
from fer_desktop.core.support.errors import UserError
from fer_desktop.core.training.datasets import load_dataset
from fer_desktop.core.training.metrics import confusion_matrix

if TYPE_CHECKING:
    from fer_desktop.core.classify.ensemble import EnsembleClassifier


def evaluate_classifier(
    clf: EmotionClassifier | EnsembleClassifier,
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
    all_probs = []
    t0 = time.perf_counter()
    for i in range(0, len(s), batch):
        probs = clf.predict_crops(s.images[i : i + batch])
        all_probs.append(probs[:, order])
    total_s = time.perf_counter() - t0
    p = np.concatenate(all_probs)
    y = s.labels
    return {
        "n": len(y),
        "split": name,
        **scores(y, p),
        **(vote_scores(p, s.votes) if s.votes is not None else {}),
        # As in a live frame: one face cropped from a frame, preprocessed and classified alone.
        "ms_per_face": round(frame_latency_ms(clf, s.images), 4),
        "ms_per_face_batched": round(total_s * 1000 / max(len(y), 1), 4),
        "model": clf.name,
        "precision_mode": clf.precision,
        "tta": clf.tta,
    }


def scores(y: np.ndarray, probs: np.ndarray | None, y_pred: np.ndarray | None = None) -> dict:
    """Accuracy, mean class recall (over the classes the split has: CK+ has no neutral), recall
    per class (None for an absent class), the confusion matrix (rows true) and, with
    probabilities, the expected calibration error (15 equal-width confidence bins)."""
    k = len(CLASSES)
    if y_pred is None:
        assert probs is not None, "scores() needs probabilities or predictions"
        y_pred = probs.argmax(1)
    cm = confusion_matrix(y, y_pred, k)
    present = [i for i in range(k) if cm[i].sum() > 0]
    recall = {
        c: (round(float(cm[i, i] / cm[i].sum()), 4) if cm[i].sum() else None)
        for i, c in enumerate(CLASSES)
    }
    out = {
        "accuracy": round(float((y_pred == y).mean()) if len(y) else 0.0, 4),
        "mean_recall": round(float(np.mean([cm[i, i] / cm[i].sum() for i in present])), 4)
        if present
        else 0.0,
        "per_class_recall": recall,
        "confusion_matrix": cm.tolist(),
        "classes": list(CLASSES),
    }
    if probs is not None and len(y):
        out["ece"] = round(expected_calibration_error(probs, y), 4)
    return out


def vote_scores(probs: np.ndarray, votes: np.ndarray) -> dict:
    """How the model's probabilities fit the annotators' vote distributions (FER+: ten people per
    face, over the 7 classes): mean cross-entropy and mean KL divergence (nats) against the votes,
    the mean probability the model gives the majority class, and the share of faces whose top
    class got at least one vote ("a human saw it too")."""
    p = np.clip(np.asarray(probs, np.float64), 1e-7, 1.0)
    q = np.asarray(votes, np.float64)
    q = q / np.maximum(q.sum(1, keepdims=True), 1e-12)
    ce = -(q * np.log(p)).sum(1)
    entropy = -(q * np.log(np.where(q > 0, q, 1.0))).sum(1)
    top = p.argmax(1)
    return {
        "label_source": "FER+ majority of ten annotators (7 classes)",
        "votes_cross_entropy": round(float(ce.mean()), 4),
        "votes_kl": round(float((ce - entropy).mean()), 4),
        "prob_on_majority": round(float(p[np.arange(len(p)), q.argmax(1)].mean()), 4),
        "top_class_voted": round(float((q[np.arange(len(q)), top] > 0).mean()), 4),
    }


def expected_calibration_error(probs: np.ndarray, y: np.ndarray, bins: int = 15) -> float:
    """Mean |accuracy - confidence| over confidence bins, weighted by their share of faces
    (Guo et al. 2017): how far "87%" is from being right 87% of the time."""
    conf = probs.max(1)
    right = probs.argmax(1) == y
    edges = np.linspace(0.0, 1.0, bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        inside = (conf > lo) & (conf <= hi)
        if inside.any():
            ece += inside.mean() * abs(right[inside].mean() - conf[inside].mean())
    return float(ece)


def evaluate_photos(pipeline, folder: str, limit: int | None = None) -> dict:
    """The whole path a user's photo takes (detector, crop, classifier) on a folder of labelled
    photos (`<class>/*.jpg`, any size): the largest face of each photo is its answer; a photo
    where no face is found counts as wrong and is listed."""
    from pathlib import Path

    from fer_desktop.core.emotions import normalise_class_name
    from fer_desktop.core.photos.io import collect_images, load_image

    root = Path(folder).expanduser()
    if not root.is_dir():
        raise UserError(
            f"{root} is not a folder.", "Give a folder with one sub-folder of photos per class."
        )
    items: list[tuple[Path, int]] = []
    for sub in sorted(p for p in root.iterdir() if p.is_dir()):
        cls = normalise_class_name(sub.name)
        if cls is not None:
            items += [(f, CLASSES.index(cls)) for f in collect_images([sub])]
    if not items:
        raise UserError(
            f"No labelled photos in {root}.",
            f"Expected sub-folders named after the classes ({', '.join(CLASSES)}) holding photos.",
        )
    if limit:
        items = items[:limit]
    order = [pipeline.classifier.classes.index(c) for c in CLASSES]
    y, pred, probs, no_face, unreadable = [], [], [], [], []
    t0 = time.perf_counter()
    for path, label in items:
        try:
            img = load_image(path)
        except UserError:
            unreadable.append(str(path))
            continue
        faces = pipeline.process(img, track=False).faces
        y.append(label)
        if not faces:
            no_face.append(str(path))
            pred.append(-1)
            probs.append(np.full(len(CLASSES), 1.0 / len(CLASSES)))
            continue
        face = max(faces, key=lambda f: f.area)
        p = np.array([face.probabilities[c] for c in pipeline.classifier.classes])[order]
        probs.append(p)
        pred.append(int(p.argmax()))
    total_s = time.perf_counter() - t0
    y_arr, pred_arr = np.array(y, np.int64), np.array(pred, np.int64)
    found = pred_arr >= 0
    out = (
        scores(y_arr[found], np.array(probs)[found])
        if found.any()
        else scores(y_arr, None, pred_arr)
    )
    # Accuracy and recall over every photo: a photo without a face is a wrong answer. The
    # confusion matrix holds the photos with a face; `no_face_per_class` the others.
    right = (pred_arr == y_arr) & found
    out["accuracy"] = round(float(right.mean()) if len(y_arr) else 0.0, 4)
    recall = {}
    for i, c in enumerate(CLASSES):
        n = int((y_arr == i).sum())
        recall[c] = round(float(right[y_arr == i].mean()), 4) if n else None
    out["per_class_recall"] = recall
    present = [v for v in recall.values() if v is not None]
    out["mean_recall"] = round(float(np.mean(present)), 4) if present else 0.0
    out["no_face_per_class"] = {
        c: int(((y_arr == i) & ~found).sum()) for i, c in enumerate(CLASSES)
    }
    return {
        "n": len(y),
        "split": f"photos in {root}",
        **out,
        "faces_found": int(found.sum()),
        "no_face": no_face,
        "unreadable": unreadable,
        "ms_per_photo": round(total_s * 1000 / max(len(y), 1), 1),
        "model": pipeline.classifier.name,
        "detector": pipeline.detector.name,
    }


def frame_latency_ms(
    clf: EmotionClassifier | EnsembleClassifier, images: np.ndarray, faces: int = 1, runs: int = 200
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
