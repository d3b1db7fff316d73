"""The frames the session window shows: `annotated.mp4` when the session has one; for a video
file analysed without it (the Videos tab's default, `analyze` without `--video`), the source
video itself with the overlay drawn from `faces.csv` (issue 30). Reading is thread-safe (the
window decodes off the GUI thread, newest seek first)."""

from __future__ import annotations

import threading
from bisect import bisect_right
from pathlib import Path

import cv2

from fer_desktop.core.emotions import CLASSES, emoji_for
from fer_desktop.core.render.overlay import draw_faces
from fer_desktop.core.sessions.reader import SessionData
from fer_desktop.core.support.fileio import check_regular_file
from fer_desktop.core.types import FaceResult


class SessionVideo:
    def __init__(self, data: SessionData) -> None:
        self.cap: cv2.VideoCapture | None = None
        self.fps, self.frames = 0.0, 0
        self.note = "This session has no annotated video."  # shown when there is nothing
        self._lock = threading.Lock()  # one decode at a time (a newer seek waits its turn)
        self._boxes: dict[int, list[FaceResult]] = {}
        self._keys: list[int] = []
        path = data.video or _analysed_file(data)
        self._draws = data.video is None and path is not None  # the source: draw the overlay
        self.set_data(data)
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

    def set_data(self, data: SessionData) -> None:
        """The faces to draw on the source (again after a rename, a merge or a hidden one)."""
        if self._draws:
            boxes = _faces_by_frame(data)
            with self._lock:
                self._boxes, self._keys = boxes, sorted(boxes)

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
            keys, boxes = self._keys, self._boxes  # one snapshot (set_data may swap them)
        if ok and keys:
            i = bisect_right(keys, index) - 1
            if i >= 0:
                draw_faces(frame, boxes[keys[i]])
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


def _faces_by_frame(data: SessionData) -> dict[int, list[FaceResult]]:
    """Frame -> the faces shown there, from the participants the window shows (the reader's
    parse of faces.csv: merged tracks under their participant's id, hidden ones left out)."""
    out: dict[int, list[FaceResult]] = {}
    for tid, tr in data.tracks.items():
        if tr.boxes is None:
            continue
        for frame, box, p, label in zip(tr.frames, tr.boxes, tr.probs, tr.labels):
            probs = dict(zip(CLASSES, (float(v) for v in p)))
            x1, y1, x2, y2 = (int(v) for v in box)
            out.setdefault(int(frame), []).append(
                FaceResult(
                    (x1, y1, x2, y2), probs, label, max(probs.values()), emoji_for(label), tid
                )
            )
    return out
