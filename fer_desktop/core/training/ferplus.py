"""FER+ (Barsoum et al. 2016) in the layout its tools write: `FER2013Train/`, `FER2013Valid/`,
`FER2013Test/`, each with `ferNNNNNNN.png` faces and a header-less `label.csv`:

    file, box, neutral, happiness, surprise, sadness, anger, disgust, fear, contempt, unknown, NF

Ten annotators' vote counts per face. What this module makes of them (no Qt, no torch):

- the **majority label** (the FER+ paper's protocol): the column with strictly the most votes;
  a face whose top column is tied, or is contempt, unknown or NF (not a face), has no label among
  our 7 classes and is left out of every split;
- the **vote distribution**: the votes over our 7 classes, normalised to sum to 1. Contempt,
  unknown and NF votes are dropped (the app has no such class) and the rest renormalised; faces
  without a majority label are left out here too, so both ways learn from the same faces.
"""

from __future__ import annotations

import csv
import io
from pathlib import PurePosixPath

import numpy as np

from fer_desktop.core.emotions import CLASSES

# label.csv's vote columns, in order, as CLASSES names (None: no class of ours).
VOTE_COLUMNS: tuple[str | None, ...] = (
    "neutral", "happy", "surprise", "sad", "angry", "disgust", "fear", None, None, None,
)  # fmt: skip
_TO_CLASS = np.array([CLASSES.index(c) if c else -1 for c in VOTE_COLUMNS])
SPLIT_FOLDERS = {"fer2013train": "train", "fer2013valid": "val", "fer2013test": "private_test"}
LABEL_MODES = ("majority", "votes")


def label_files(files: list[str]) -> dict[str, str]:
    """{split name: label.csv path} for the FER+ folders among `files` (empty: not FER+)."""
    found = {}
    for name in files:
        p = PurePosixPath(name)
        if p.name.lower() == "label.csv" and p.parent.name.lower() in SPLIT_FOLDERS:
            found[SPLIT_FOLDERS[p.parent.name.lower()]] = name
    return found


def majority(votes: np.ndarray) -> np.ndarray:
    """Per row of (N, 10) vote counts: the CLASSES index of the strict majority, or -1 (a tie,
    or contempt / unknown / NF on top, or no votes)."""
    votes = np.asarray(votes, np.float64)
    top = votes.max(1)
    arg = votes.argmax(1)
    unique = (votes == top[:, None]).sum(1) == 1
    out = np.where(unique & (top > 0), _TO_CLASS[arg], -1)
    return out.astype(np.int64)


def distribution(votes: np.ndarray) -> np.ndarray:
    """(N, 10) vote counts -> (N, 7) probabilities over CLASSES (other votes dropped, renormalised;
    a row with no vote among the 7 classes becomes all zeros)."""
    votes = np.asarray(votes, np.float64)
    out = np.zeros((len(votes), len(CLASSES)), np.float64)
    for col, cls in enumerate(_TO_CLASS):
        if cls >= 0:
            out[:, cls] += votes[:, col]
    s = out.sum(1, keepdims=True)
    return (out / np.where(s > 0, s, 1)).astype(np.float32)


def read_labels(text: io.TextIOBase) -> tuple[list[str], np.ndarray, int]:
    """(image file names, (N, 10) vote counts, malformed rows skipped) of one label.csv."""
    names, rows, bad = [], [], 0
    with text:
        for row in csv.reader(text):
            if not row:
                continue
            try:
                counts = [float(v) for v in row[2:12]]
            except ValueError:
                bad += 1
                continue
            if len(counts) != 10 or min(counts) < 0 or not row[0].strip():
                bad += 1
                continue
            names.append(row[0].strip())
            rows.append(counts)
    return names, np.array(rows, np.float64).reshape(-1, 10), bad


__all__ = ["LABEL_MODES", "SPLIT_FOLDERS", "distribution", "label_files", "majority", "read_labels"]
