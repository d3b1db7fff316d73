"""The figures of a set of frames, by one rule (issue 33): how many frames, the mean displayed
probabilities, the dominant class, the share of frames shown with each label and the mean
valence. Every writer and reader takes them from here: the live recorder's session.json (from
running totals), the session reader (per track), segments.csv (per segment), a batch job's
summary.csv (per video and track) and the study table.

- `dominant`: the class with the highest mean probability; "uncertain" when there are no frames.
- `shares`: frames shown with each label (CLASSES, then "uncertain") over all frames.
- `mean_valence`: the mean of each frame's valence (emotions.valence), not the valence of the
  mean probabilities (valence takes a maximum, so the two differ).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from fer_desktop.core.emotions import CLASSES, UNCERTAIN, valence

LABELS: tuple[str, ...] = (*CLASSES, UNCERTAIN)


def dominant(mean_probabilities) -> str | None:
    """The class with the highest mean probability (None for no frames)."""
    mean = np.asarray(mean_probabilities, dtype=float)
    return CLASSES[int(np.argmax(mean))] if mean.size and mean.sum() > 0 else None


@dataclass(frozen=True)
class Figures:
    frames: int
    mean: np.ndarray  # (7,) CLASSES order; zeros for no frames
    dominant: str  # a class, or "uncertain" for no frames
    shares: dict[str, float]  # LABELS -> share of frames
    mean_valence: float

    def columns(self) -> dict[str, object]:
        """The CSV cells every table shares: frames, mean_*, dominant, share_*, mean_valence."""
        return {
            "frames": self.frames,
            **{f"mean_{c}": f"{p:.4f}" for c, p in zip(CLASSES, self.mean)},
            "dominant": self.dominant,
            **{f"share_{lab}": f"{self.shares[lab]:.4f}" for lab in LABELS},
            "mean_valence": f"{self.mean_valence:.4f}",
        }


@dataclass
class Totals:
    """Running totals of frames, from which `figures()` gives the same figures as `of_frames`
    (the live recorder keeps these instead of every frame)."""

    frames: int = 0
    prob_sum: np.ndarray = field(default_factory=lambda: np.zeros(len(CLASSES)))
    label_counts: np.ndarray = field(default_factory=lambda: np.zeros(len(LABELS), np.int64))
    valence_sum: float = 0.0

    def add(self, probs, label: str) -> None:
        p = np.asarray(probs, dtype=np.float64)
        self.frames += 1
        self.prob_sum += p
        self.label_counts[label_code(label)] += 1
        self.valence_sum += float(valence(p))

    def figures(self) -> Figures:
        n = self.frames
        mean = self.prob_sum / n if n else np.zeros(len(CLASSES))
        shares = {lab: float(c) / n if n else 0.0 for lab, c in zip(LABELS, self.label_counts)}
        return Figures(n, mean, dominant(mean) or UNCERTAIN, shares,
                       self.valence_sum / n if n else 0.0)  # fmt: skip


def label_code(label: str) -> int:
    """The index of a shown label in LABELS; anything else counts as "uncertain"."""
    try:
        return LABELS.index(label)
    except ValueError:
        return len(LABELS) - 1


def of_frames(probs, labels: Sequence[str] | Iterable[str]) -> Figures:
    """The figures of frames given as (n, 7) probabilities and their n shown labels."""
    p = np.asarray(probs, dtype=np.float64).reshape(-1, len(CLASSES))
    codes = np.array([label_code(lab) for lab in labels], np.int64)
    if len(codes) != len(p):
        raise ValueError(f"{len(p)} rows of probabilities but {len(codes)} labels")
    t = Totals(len(p), p.sum(axis=0), np.bincount(codes, minlength=len(LABELS)),
               float(valence(p).sum()) if len(p) else 0.0)  # fmt: skip
    return t.figures()
