"""The frames the session window shows: `annotated.mp4` when the session has one; for a video
file analysed without it (the Videos tab's default, `analyze` without `--video`), the source
video itself with the overlay drawn from `faces.csv` (issue 30). Reading is thread-safe (the
window decodes off the GUI thread, newest seek first)."""

from __future__ import annotations

import csv
import threading
from bisect import bisect_right
from pathlib import Path

import cv2

from fer_desktop.core.emotions import CLASSES, emoji_for
from fer_desktop.core.render.overlay import draw_faces
from fer_desktop.core.sessions.layout import CSV_NAME
from fer_desktop.core.sessions.reader import SessionData
from fer_desktop.core.support.fileio import check_regular_file
from fer_desktop.core.types import FaceResult

MAX_ROWS = 2_000_000  # faces.csv rows kept for the overlay (an hour of 3 faces at 30 fps: 324k)


class SessionVideo:
    def __init__(self, data: SessionData) -> None:
        self.cap: cv2.VideoCapture | None = None
        self.fps, self.frames = 0.0, 0
        self.note = "This session has no annotated video."  # shown when there is nothing
        self._lock = threading.Lock()  # one decode at a time (a newer seek waits its turn)
        self._boxes: dict[int, list[FaceResult]] = {}
        self._keys: list[int] = []
        path = data.video
        if path is None and _analysed_file(data) is not None:
            path = _analysed_file(data)
            self._boxes = _read_boxes(data.folder / CSV_NAME)
            self._keys = sorted(self._boxes)
        if path is None:
            return
        cap = cv2.VideoCapture(str(path))
        if not cap.isOpened():
            cap.release()
            self.note = f"{Path(path).name} could not be opened."
            return
        self.cap = cap
        self.fps = cap.get(cv2.CAP_PROP_FPS) or float(data.info.get("fps", 30.0))
        self.frames = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)

    def index_at(self, time_s: float) -> int:
        return min(round(time_s * self.fps), max(self.frames - 1, 0))

    def read(self, index: int, time_s: float) -> tuple:
        """(index, the BGR frame or None, time_s); a source frame gets the overlay of the last
        processed frame at or before it (with --every N, the faces of that frame)."""
        with self._lock:
            if self.cap is None:
                return index, None, time_s
            self.cap.set(cv2.CAP_PROP_POS_FRAMES, index)
            ok, frame = self.cap.read()
        if ok and self._keys:
            i = bisect_right(self._keys, index) - 1
            if i >= 0:
                draw_faces(frame, self._boxes[self._keys[i]])
        return index, frame if ok else None, time_s

    def release(self) -> None:
        with self._lock:
            if self.cap is not None:
                self.cap.release()
            self.cap = None


def _analysed_file(data: SessionData) -> Path | None:
    """The source video of a session `analyze` wrote (its settings say `every`; a Live recording's
    frame numbers start at Record, not at the file's start), if it is still there."""
    settings = data.info.get("settings")
    source = data.info.get("source")
    if not isinstance(settings, dict) or "every" not in settings or not isinstance(source, str):
        return None
    try:
        check_regular_file(source)
    except OSError:
        return None
    return Path(source)


def _read_boxes(path: Path) -> dict[int, list[FaceResult]]:
    """Frame -> the faces shown there, from faces.csv (rows that do not parse are skipped)."""
    boxes: dict[int, list[FaceResult]] = {}
    with open(path, encoding="utf-8", newline="") as f:
        for n, row in enumerate(csv.DictReader(f)):
            if n >= MAX_ROWS:
                break
            try:
                probs = {c: float(row[c]) for c in CLASSES}
                box = (int(row["x1"]), int(row["y1"]), int(row["x2"]), int(row["y2"]))
                face = FaceResult(box, probs, row["label"], float(row["confidence"]),
                                  emoji_for(row["label"]), int(row["track_id"]))  # fmt: skip
                boxes.setdefault(int(row["frame"]), []).append(face)
            except (KeyError, TypeError, ValueError):
                continue
    return boxes
