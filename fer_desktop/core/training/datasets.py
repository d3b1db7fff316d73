"""Read labelled face datasets (folders, zips, fer2013.csv) into uint8 arrays. No Qt, no torch.

Layouts understood (as a folder or a zip, optionally wrapped in one top folder):
  <split>/<class>/*.jpg           e.g. train/ + test/  (the common FER2013 download)
  images/<split>/<class>/*.jpg    e.g. images/train/ + images/validation/
  <class>/*.jpg                   a single split, called "all"
  fer2013.csv                     columns emotion,pixels,Usage (Training/PublicTest/PrivateTest)
  FER2013Train/ + FER2013Valid/   FER+ (ten annotators' votes in label.csv): see ferplus.py
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import cv2
import numpy as np

from fer_desktop.core.emotions import CLASSES, normalise_class_name
from fer_desktop.core.support.errors import UserError
from fer_desktop.core.support.image_files import IMAGE_EXTS
from fer_desktop.core.training import ferplus
from fer_desktop.core.training.archive import (
    EXPECTED,
    MAX_CSV_BYTES,
    MAX_CSV_FIELD,
    BoundedTree,
    bounded_lines,
    check_bounds,
    too_big,
)

log = logging.getLogger(__name__)

_SPLIT_NAMES = {
    "train": "train",
    "training": "train",
    "test": "test",
    "publictest": "test",
    "val": "val",
    "valid": "val",
    "validation": "val",
    "privatetest": "private_test",
}
# Preferred order when a validation split must be picked automatically.
VALIDATION_PREFERENCE = ("val", "test")
_FER_CSV_LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


@dataclass
class Split:
    images: np.ndarray  # (N, size, size) uint8 grayscale
    labels: np.ndarray  # (N,) int64 indices into CLASSES
    names: list[str] | None = None  # file name of each image (None for fer2013.csv rows)
    # FER+: (N, 7) annotators' vote distribution over CLASSES; labels are then the majority
    votes: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.labels)

    def class_counts(self) -> list[int]:
        return np.bincount(self.labels, minlength=len(CLASSES)).tolist()


@dataclass
class Dataset:
    source: str
    splits: dict[str, Split]
    classes: tuple[str, ...] = CLASSES
    skipped: int = 0  # unreadable files
    skipped_examples: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"{name}: {len(s)}" for name, s in self.splits.items()]
        extra = f", {self.skipped} unreadable skipped" if self.skipped else ""
        return f"{self.source}: " + ", ".join(parts) + extra

    def default_eval_split(self) -> str:
        for name in VALIDATION_PREFERENCE:
            if name in self.splits:
                return name
        return next(iter(self.splits))


def _decode(data: bytes, size: int) -> np.ndarray | None:
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    if img is None or img.size == 0:
        return None
    if img.shape != (size, size):
        img = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)
    return img


def _find_csv(tree: BoundedTree) -> str | None:
    for name in tree.files:
        if PurePosixPath(name).name.lower().endswith(".csv") and "fer" in name.lower():
            return name
    return None


def _read_fer_csv(text: io.TextIOBase, source: str, limit: int | None, seed: int) -> Dataset:
    """Parse a fer2013.csv stream row by row (bounded: rows of at most MAX_CSV_FIELD chars)."""
    with text:
        return _parse_fer_csv(text, source, limit, seed)


def _parse_fer_csv(text: io.TextIOBase, source: str, limit: int | None, seed: int) -> Dataset:
    csv.field_size_limit(MAX_CSV_FIELD)
    rows = csv.DictReader(bounded_lines(text, source))
    need = {"emotion", "pixels"}
    try:
        fieldnames = rows.fieldnames
    except csv.Error as exc:
        raise UserError(
            f"{source} is not a CSV the app can read ({exc}).", f"Expected {EXPECTED}."
        ) from exc
    if not fieldnames or not need <= {f.strip() for f in fieldnames}:
        raise UserError(
            f"{source} is a CSV without the columns emotion,pixels[,Usage].",
            f"Expected {EXPECTED}.",
        )
    per_split: dict[str, tuple[list, list]] = {}
    skipped = 0
    while True:
        try:
            row = next(rows)
        except StopIteration:
            break
        except csv.Error as exc:
            raise UserError(
                f"{source} is not a fer2013.csv the app can read ({exc}).",
                f"Expected {EXPECTED}.",
            ) from exc
        try:
            label = int(row["emotion"])
            pix = np.array(row["pixels"].split(), dtype=np.uint8)
            side = int(round(len(pix) ** 0.5))
            img = pix.reshape(side, side)
            name = _FER_CSV_LABELS[label]
        except (ValueError, IndexError, KeyError, TypeError):
            skipped += 1
            continue
        split = _SPLIT_NAMES.get((row.get("Usage") or "Training").strip().lower(), "train")
        imgs, labels = per_split.setdefault(split, ([], []))
        if img.shape != (48, 48):
            img = cv2.resize(img, (48, 48), interpolation=cv2.INTER_AREA)
        imgs.append(img)
        labels.append(CLASSES.index(name))
    splits = {
        k: Split(np.stack(v[0]), np.array(v[1], np.int64)) for k, v in per_split.items() if v[0]
    }
    if not splits:
        raise UserError(f"{source} has no readable rows.", f"Expected {EXPECTED}.")
    return _limit(Dataset(source, splits, skipped=skipped), limit, seed)


def _limit(ds: Dataset, limit: int | None, seed: int) -> Dataset:
    """Keep at most `limit` images per split, a random but class-stratified-in-expectation subset."""
    if not limit:
        return ds
    rng = np.random.default_rng(seed)
    for name, s in ds.splits.items():
        if len(s) > limit:
            idx = np.sort(rng.permutation(len(s))[:limit])
            names = [s.names[i] for i in idx] if s.names is not None else None
            votes = s.votes[idx] if s.votes is not None else None
            ds.splits[name] = Split(s.images[idx], s.labels[idx], names, votes)
    return ds


def load_dataset(
    path: str | Path, *, size: int = 48, limit: int | None = None, seed: int = 0
) -> Dataset:
    """Load every split found at `path` (folder, zip, or .csv) as `size`x`size` grayscale arrays.

    `limit` keeps at most that many images per split (quick runs and tests). Unreadable images
    are skipped and counted. Raises UserError naming the expected layout when nothing fits.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise UserError(
            f"Dataset not found: {path}", f"Choose a dataset folder or zip; expected {EXPECTED}."
        )
    if path.suffix.lower() == ".csv":
        if path.stat().st_size > MAX_CSV_BYTES:
            raise too_big(path.name, path.name, path.stat().st_size, MAX_CSV_BYTES)
        return _read_fer_csv(
            path.open(encoding="utf-8", errors="replace", newline=""), str(path), limit, seed
        )
    tree = BoundedTree(path)
    fer_plus = ferplus.label_files(tree.files)
    if fer_plus:
        return _limit(_load_ferplus(tree, str(path), fer_plus, size), limit, seed)

    # Group image files as (split, class) from the last two folder names of each path.
    groups: dict[tuple[str, str], list[str]] = {}
    for name in tree.files:
        p = PurePosixPath(name)
        if p.suffix.lower() not in IMAGE_EXTS or any(
            part.startswith(("__MACOSX", ".")) for part in p.parts
        ):
            continue
        cls = normalise_class_name(p.parent.name) if len(p.parts) >= 2 else None
        if cls is None:
            continue
        split_dir = p.parts[-3].lower() if len(p.parts) >= 3 else ""
        split = _SPLIT_NAMES.get(split_dir, "all")
        groups.setdefault((split, cls), []).append(name)

    if not groups:
        csv_name = _find_csv(tree)
        if csv_name:
            return _read_fer_csv(tree.open_text(csv_name), f"{path}/{csv_name}", limit, seed)
        raise UserError(
            f"{path} does not look like a face-expression dataset.", f"Expected {EXPECTED}."
        )

    rng = np.random.default_rng(seed)
    splits: dict[str, Split] = {}
    skipped, examples = 0, list[str]()
    for split in sorted({s for s, _ in groups}, key=lambda s: (s != "train", s)):
        names: list[tuple[str, int]] = []
        for (s, cls), files in groups.items():
            if s == split:
                names += [(f, CLASSES.index(cls)) for f in sorted(files)]
        if limit and len(names) > limit:
            keep = np.sort(rng.permutation(len(names))[:limit])
            names = [names[i] for i in keep]
        ok, imgs = _read_faces(tree, [n for n, _ in names], size, examples)
        skipped += len(names) - len(ok)
        if imgs:
            kept = [names[i][0] for i in ok]
            splits[split] = Split(
                np.stack(imgs), np.array([names[i][1] for i in ok], np.int64), kept
            )
    if skipped:
        log.warning("skipped %d unreadable images, e.g. %s", skipped, ", ".join(examples))
    if not splits:
        raise UserError(f"No readable images in {path}.", f"Expected {EXPECTED}.")
    return Dataset(str(path), splits, skipped=skipped, skipped_examples=examples)


def _read_faces(
    tree: BoundedTree,
    members: list[str],
    size: int,
    examples: list[str],
    present: set[str] | None = None,
) -> tuple[list[int], list[np.ndarray]]:
    """Decode `members` (absent from `present`, when given, or unreadable: skipped, the first
    five named in `examples`); returns (indices of the readable ones, their images)."""
    ok, imgs = [], []
    for i, name in enumerate(members):
        img = _decode(tree.read(name), size) if present is None or name in present else None
        if img is None:
            if len(examples) < 5:
                examples.append(name)
            continue
        ok.append(i)
        imgs.append(img)
    return ok, imgs


def _load_ferplus(tree: BoundedTree, source: str, label_csvs: dict[str, str], size: int) -> Dataset:
    """The FER+ splits: faces with a 7-class majority label, with their vote distributions."""
    splits: dict[str, Split] = {}
    skipped, examples = 0, list[str]()
    present = set(tree.files)
    for split, csv_name in sorted(label_csvs.items(), key=lambda kv: (kv[0] != "train", kv[0])):
        names, counts, bad = ferplus.read_labels(tree.open_text(csv_name))
        skipped += bad
        labels = ferplus.majority(counts)
        dist = ferplus.distribution(counts)
        folder = PurePosixPath(csv_name).parent
        # tied, or contempt / unknown / not a face on top (label -1): no label of ours
        rows = [i for i in range(len(names)) if labels[i] >= 0]
        members = [(folder / PurePosixPath(names[i]).name).as_posix() for i in rows]
        ok, imgs = _read_faces(tree, members, size, examples, present)
        skipped += len(members) - len(ok)
        if imgs:
            idx = [rows[i] for i in ok]
            splits[split] = Split(np.stack(imgs), labels[idx], [members[i] for i in ok], dist[idx])
    if not splits:
        raise UserError(f"No readable labelled faces in {source}.", f"Expected {EXPECTED}.")
    return Dataset(source, splits, skipped=skipped, skipped_examples=examples)


def train_val_splits(
    ds: Dataset, val_split: str | None = None, holdout: float = 0.1, seed: int = 0
) -> tuple[Split, Split, str]:
    """Pick the train split and a validation split; hold one out of train when there is none."""
    if val_split and val_split not in ds.splits:
        raise UserError(
            f"The dataset has no split '{val_split}'.", f"Splits found: {', '.join(ds.splits)}."
        )
    train_name = "train" if "train" in ds.splits else ("all" if "all" in ds.splits else None)
    if train_name is None:
        raise UserError(
            f"The dataset has no training split ({', '.join(ds.splits)}).", f"Expected {EXPECTED}."
        )
    train = ds.splits[train_name]
    if val_split is None:
        val_split = next((n for n in VALIDATION_PREFERENCE if n in ds.splits), None)
    if val_split is not None:
        return train, ds.splits[val_split], val_split
    rng = np.random.default_rng(seed)
    idx = rng.permutation(len(train))
    n_val = max(1, int(len(train) * holdout))
    v, t = np.sort(idx[:n_val]), np.sort(idx[n_val:])
    votes = train.votes
    return (
        Split(train.images[t], train.labels[t], None, None if votes is None else votes[t]),
        Split(train.images[v], train.labels[v], None, None if votes is None else votes[v]),
        f"{train_name} (held out {holdout:.0%})",
    )


__all__ = ["EXPECTED", "Dataset", "Split", "check_bounds", "load_dataset", "train_val_splits"]
