"""The Training tab's dataset check: a few images per split at once, then the whole dataset, in
the background; one or several datasets (";"), and the summary line the form shows."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fer_desktop.core.support.errors import UserError

QUICK_CHECK_IMAGES = 16  # per split: enough to prove the layout and that images decode


def dataset_paths(text: str) -> list[str]:
    """The datasets of the Dataset field: one path, or several separated by ";"."""
    return [p.strip() for p in str(text).split(";") if p.strip()]


class SeveralDatasets:
    """Datasets trained together (`--data A --data B`): their splits side by side, as
    "<dataset> <split>", for the summary line; each is validated on its own test split."""

    def __init__(self, paths: list[str], datasets: list) -> None:
        self.classes = datasets[0].classes
        self.splits = {
            f"{Path(p).stem} {name}": split
            for p, ds in zip(paths, datasets)
            for name, split in ds.splits.items()
        }
        self.skipped = sum(ds.skipped for ds in datasets)
        self.train_count = sum(
            len(ds.splits.get("train") or ds.splits.get("all") or []) for ds in datasets
        )

    def default_eval_split(self) -> str:
        return "each dataset's own test split"


def check_dataset(load: Callable, path: str):
    """Read a few images per split first (yielded at once), then the whole dataset (returned).

    A generator, so a newer check can stop this one between the two steps. A failure of any
    kind is about the user's file, so it becomes a UserError naming it. `path` may name several
    datasets, separated by ";".
    """
    paths = dataset_paths(path)
    try:
        if len(paths) > 1:
            yield SeveralDatasets(paths, [load(p, limit=QUICK_CHECK_IMAGES) for p in paths])
            return SeveralDatasets(paths, [load(p) for p in paths])
        yield load(path, limit=QUICK_CHECK_IMAGES)
        return load(path)
    except UserError:
        raise
    except Exception as exc:
        raise UserError(
            f"Cannot read the dataset {path}: {exc}", "Choose a dataset folder, zip or fer2013.csv."
        ) from exc


def describe_dataset(ds) -> tuple[str, str]:
    """(one-line summary, per-class tooltip) of a loaded Dataset."""
    val = (
        ds.default_eval_split()
        if len(ds.splits) > 1
        else "10% held out of " + next(iter(ds.splits))
    )
    parts = ", ".join(f"{name} {len(s):,}" for name, s in ds.splits.items())
    skipped = f"; {ds.skipped} unreadable skipped" if ds.skipped else ""
    tip = "\n".join(
        f"{name}: " + ", ".join(f"{c} {n}" for c, n in zip(ds.classes, s.class_counts()))
        for name, s in ds.splits.items()
    )
    return f"✔ {parts} images (validation: {val}){skipped}", tip
