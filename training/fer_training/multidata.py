"""Several datasets in one run: one combined training split with sampling weights, and one
validation split per dataset, each scored on its own, selected on a documented mix.

Sampling weight of a training image = its dataset's share of the epoch (`data_mix`, default: by
size) spread over the dataset's *effective* size, where the near-copy frames of one CK+-style
sequence (`S005_001_00000011.png`, `S005_001_00000012.png`, ...) count as one sample together.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np

from fer_desktop.core.emotions import CLASSES
from fer_desktop.core.training.config import TrainConfig
from fer_desktop.core.training.datasets import Dataset, Split, load_dataset, train_val_splits
from fer_desktop.core.training.metrics import confusion_matrix, per_class

_SEQUENCE = re.compile(r"^(S\d+_\d+)_\d+$")


@dataclass
class ValSet:
    name: str  # short name shown in curves and history ("fer2013", "ckplus48")
    split_name: str
    split: Split


def short_name(path: str) -> str:
    return Path(path).stem or str(path)


def sequence_groups(names: list[str] | None) -> np.ndarray | None:
    """Group id per image: the frames of one sequence share an id, other images get their own."""
    if not names:
        return None
    ids: dict[str, int] = {}
    out = np.empty(len(names), np.int64)
    for i, n in enumerate(names):
        m = _SEQUENCE.match(PurePosixPath(n).stem)
        key = f"{PurePosixPath(n).parent}/{m.group(1)}" if m else f"#{i}"
        out[i] = ids.setdefault(key, len(ids))
    return out


def image_weights(split: Split, by_sequence: bool) -> np.ndarray:
    """1 per image, or 1/len(sequence) for the frames of a sequence (weights sum to the
    dataset's effective size)."""
    w = np.ones(len(split), np.float64)
    groups = sequence_groups(split.names) if by_sequence else None
    if groups is not None:
        counts = np.bincount(groups)
        w = 1.0 / counts[groups]
    return w


def load_training_data(cfg: TrainConfig) -> tuple[Split, np.ndarray | None, list[ValSet], str, int]:
    """(combined train split, per-image sampling weights or None, validation sets, summary,
    skipped images)."""
    paths = cfg.data_paths()
    trains: list[Split] = []
    weights: list[np.ndarray] = []
    vals: list[ValSet] = []
    summaries, skipped = [], 0
    for path in paths:
        ds: Dataset = load_dataset(path, limit=cfg.limit or None, seed=cfg.seed)
        skipped += ds.skipped
        train, val, val_name = train_val_splits(
            ds, (cfg.val_split or None) if len(paths) == 1 else None, seed=cfg.seed
        )
        trains.append(train)
        weights.append(image_weights(train, cfg.sequence_weight))
        vals.append(ValSet(short_name(path), val_name, val))
        summaries.append(ds.summary())
    if len(trains) == 1 and not cfg.sequence_weight:
        return trains[0], None, vals, "; ".join(summaries), skipped
    mix = np.array(cfg.data_mix or [w.sum() for w in weights], np.float64)
    mix = mix / mix.sum()
    per_image = np.concatenate([m * w / w.sum() for m, w in zip(mix, weights)])
    combined = Split(
        np.concatenate([t.images for t in trains]),
        np.concatenate([t.labels for t in trains]),
        [n for i, t in enumerate(trains) for n in (t.names or [f"{i}"] * len(t))],
        combined_votes(trains),
    )
    uniform = len(trains) == 1 and np.allclose(per_image, per_image[0])
    return combined, None if uniform else per_image, vals, "; ".join(summaries), skipped


def combined_votes(trains: list[Split]) -> np.ndarray | None:
    """The vote distributions of several training splits (a split without votes contributes its
    labels one-hot), or None when no split has votes."""
    if all(t.votes is None for t in trains):
        return None
    eye = np.eye(len(CLASSES), dtype=np.float32)
    return np.concatenate([t.votes if t.votes is not None else eye[t.labels] for t in trains])


def scores(cm: np.ndarray) -> dict:
    """Accuracy, mean recall over the classes present in the split, and recall per class."""
    total = cm.sum()
    acc = float(np.trace(cm) / total) if total else 0.0
    _, recall = per_class(cm)
    present = [i for i in range(len(cm)) if cm[i].sum() > 0]
    mean_recall = float(np.mean([recall[i] for i in present])) if present else 0.0
    return {"acc": round(acc, 4), "mean_recall": round(mean_recall, 4), "recall": recall}


def selection_score(results: list[dict], weights: list[float]) -> float:
    """Weighted mean over the validation sets of (accuracy + mean class recall) / 2; with a
    single validation set and no weights, its accuracy (the selection of single-dataset runs)."""
    if len(results) == 1 and not weights:
        return float(results[0]["acc"])
    w = np.array(weights or [1.0] * len(results), np.float64)
    s = np.array([(r["acc"] + r["mean_recall"]) / 2 for r in results])
    return float((w * s).sum() / w.sum())


def confusion(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    return confusion_matrix(y_true, y_pred, len(CLASSES))
