"""How the app names a model's measured accuracy, in the README's words: the status bar's
"66.6% on FER2013 PublicTest, 96.7% on CK+ test" and the Live panel's narrow
"66.6% FER2013, 96.7% CK+", both from one list of (accuracy, where) figures.

Only a model whose checksum proves it is the one measured has figures (`val_acc` is None
otherwise). No Qt, no torch.
"""

from __future__ import annotations

DATASET_NAMES = {"ckplus48": "CK+", "fer2013": "FER2013", "ferplus": "FER+"}  # as labels name them
SHORT_NAMES = {"FER2013 PublicTest": "FER2013", "CK+ test": "CK+", "FER+ Valid": "FER+"}  # narrow
# FER+ Valid is scored against the majority of ten annotators over the 7 classes (model card).
_NBSP = "\u00a0"  # a figure and its dataset never part when a line wraps


def headline_split(val_split: object, trained_on: str) -> str:
    """Where `val_acc` was measured: several validation sets ("fer2013 test + ckplus48 test")
    give the first one's name; FER2013's splits by their challenge names."""
    split = str(val_split or "validation").split(" + ")[0]
    split = {"fer2013 test": "test", "fer2013 train": "train"}.get(split, split)
    if "ferplus" in trained_on.lower() and split in ("val", "ferplus val"):
        return "FER+ Valid"
    if "fer2013" in trained_on.lower():
        split = {"test": "FER2013 PublicTest", "train": "FER2013 Training"}.get(split, split)
    return split


def figures(clf) -> list[tuple[float, str]]:
    """(accuracy, where) per validation set, the headline first; [] for no verified figure or
    for a quick run scored on a slice (no accuracy figure)."""
    if not isinstance(clf.val_acc, float) or clf.sliced:
        return []
    out = [(clf.val_acc, headline_split(clf.val_split, clf.trained_on))]
    for key, v in list(clf.val_sets.items())[1:]:  # the first is val_acc's
        if isinstance(v, dict) and isinstance(v.get("acc"), float):
            out.append((v["acc"], f"{DATASET_NAMES.get(key, key)} test"))
    return out


def accuracy_text(clf) -> str:
    """E.g. "66.6% on FER2013 PublicTest, 96.7% on CK+ test"; "" without a verified figure."""
    if not isinstance(clf.val_acc, float):
        return ""
    if clf.sliced:  # a quick run's score on a few hundred faces is no accuracy figure
        size = f"{clf.val_count}-face " if isinstance(clf.val_count, int) else ""
        split = headline_split(clf.val_split, clf.trained_on)
        return f"{clf.val_acc:.1%} on a {size}slice of {split}"
    return ", ".join(f"{acc:.1%} on {where}" for acc, where in figures(clf))


def accuracy_short(clf) -> str:
    """The Live panel's narrow form, e.g. "66.6% FER2013, 96.7% CK+" (other sets keep "on")."""
    if not figures(clf):
        return accuracy_text(clf)
    return ", ".join(
        f"{acc:.1%}{_NBSP}{SHORT_NAMES[where]}" if where in SHORT_NAMES else f"{acc:.1%} on {where}"
        for acc, where in figures(clf)
    )
