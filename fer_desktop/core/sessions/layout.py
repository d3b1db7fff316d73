"""A session folder's layout: its file names, the faces.csv columns and rows, where folders go.

`<user data>/sessions/<YYYY-MM-DD_HH-MM-SS>/`:
- `faces.csv`: one row per processed frame per tracked face (`CSV_COLUMNS`); the probabilities are
  the ones shown (after smoothing).
- `session.json`: source, detector, model, settings, start/end time, frames processed and
  dropped, a summary per track.
- `annotated.mp4`: the frames with the overlay as seen (optional).
The recorder (`recorder.py`) writes them, the reader (`reader.py`) and the analysis read them.
"""

from __future__ import annotations

import errno
import os
from datetime import datetime
from pathlib import Path

import numpy as np

from fer_desktop.core.classify.action_names import ACTION_COLUMNS, action_cells
from fer_desktop.core.emotions import CLASSES, valence
from fer_desktop.core.support.errors import UserError
from fer_desktop.core.support.fileio import PRIVATE_FILE, make_private_dir
from fer_desktop.core.support.resources import user_data_dir
from fer_desktop.core.types import FaceResult

CSV_NAME, JSON_NAME, VIDEO_NAME = "faces.csv", "session.json", "annotated.mp4"


CSV_COLUMNS: tuple[str, ...] = (
    "time_s",
    "frame",
    "track_id",
    "x1",
    "y1",
    "x2",
    "y2",
    *CLASSES,
    "label",
    "confidence",
    "valence",  # derived from the 7 probabilities (emotions.VALENCE_NOTE)
    "detector_score",  # how sure the face detector was of this box (0-1; 1 for reused boxes)
    # what the face does (issue 31): yaw, pitch, roll, blink_left, blink_right, bs_<52 names>;
    # empty cells when facial actions were off or the landmark model saw no face
    *ACTION_COLUMNS,
)
# Older sessions, still opened: before facial actions (issue 31), before the detector score
# (round 3), before valence (round 2; the reader computes valence from the probabilities).
V4_CSV_COLUMNS: tuple[str, ...] = CSV_COLUMNS[: -len(ACTION_COLUMNS)]
V3_CSV_COLUMNS: tuple[str, ...] = V4_CSV_COLUMNS[:-1]
LEGACY_CSV_COLUMNS: tuple[str, ...] = V4_CSV_COLUMNS[:-2]
READABLE_CSV_COLUMNS = (CSV_COLUMNS, V4_CSV_COLUMNS, V3_CSV_COLUMNS, LEGACY_CSV_COLUMNS)
MARKERS_NAME = "markers.csv"  # time_s,name: the session's markers (also in session.json)


def make_private_file(path: Path) -> None:
    try:
        os.chmod(path, PRIVATE_FILE)
    except OSError:  # a test's fake file, a file system without permissions
        pass


def sessions_dir() -> Path:
    """Where recorded sessions are kept: `<user data>/sessions` (created on demand)."""
    return make_private_dir(user_data_dir() / "sessions")


def new_session_dir(
    root: Path | None = None, now: datetime | None = None, suffix: str = ""
) -> Path:
    """A new, empty `<root>/<YYYY-MM-DD_HH-MM-SS><suffix>` folder (`-2`, `-3`… if taken);
    `suffix`: StudyInfo.folder_suffix(), e.g. "_P01_A"."""
    root = Path(root) if root is not None else sessions_dir()
    name = (now or datetime.now()).strftime("%Y-%m-%d_%H-%M-%S") + suffix
    for i in range(1, 1000):
        path = root / (name if i == 1 else f"{name}-{i}")
        try:
            return make_private_dir(path, exist_ok=False)
        except FileExistsError:
            continue
    raise UserError(f"Could not create a session folder in {root}.", "Check the folder.")


def disk_error(exc: OSError, path: Path, again: str = "press Record again") -> UserError:
    """The message a user sees when a recording (or an analysis: `again` says what to redo)
    cannot be written."""
    if exc.errno == errno.ENOSPC:
        return UserError(
            f"The disk is full: the recording in {path} stopped.",
            f"Free some space and {again}; what was recorded so far is kept.",
        )
    return UserError(
        f"The recording in {path} stopped: {exc.strerror or exc}.",
        f"Check that the folder is writable, then {again}.",
    )


def face_probs(face: FaceResult) -> np.ndarray:
    """The face's probabilities in CLASSES order (0 for a class the model does not have)."""
    return np.array([float(face.probabilities.get(c, 0.0)) for c in CLASSES])


def csv_row(time_s: float, frame: int, face: FaceResult) -> list:
    x1, y1, x2, y2 = (int(v) for v in face.box)
    p = face_probs(face)
    probs = [f"{v:.4f}" for v in p]
    return [f"{time_s:.3f}", frame, face.track_id, x1, y1, x2, y2, *probs, face.label] + [
        f"{face.confidence:.4f}",
        f"{float(valence(p)):.4f}",
        f"{float(face.detector_score):.4f}",
        *action_cells(face.actions),
    ]
