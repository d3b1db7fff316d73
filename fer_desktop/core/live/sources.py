"""Frame sources: a camera by index, a video file, or a stream URL (all through cv2.VideoCapture)."""

from __future__ import annotations

import glob
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from fer_desktop.core.support.errors import UserError
from fer_desktop.core.support.fileio import broken_link
from fer_desktop.core.support.image_files import IMAGE_EXTS
from fer_desktop.core.support.redaction import redact

LOOP_SHORTER_THAN_S = 30.0  # files shorter than this loop by default: over before a user looks


def _quiet_opencv() -> None:
    """OpenCV's own warnings ("can't open camera by index") would precede our one clear message."""
    try:
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    except AttributeError:  # a build without cv2.utils.logging
        pass


_quiet_opencv()


@dataclass(frozen=True)
class SourceSpec:
    kind: str  # camera | file | url
    value: str | int

    @property
    def label(self) -> str:
        return {
            "camera": f"camera {self.value}",
            "file": Path(str(self.value)).name,
            "url": redact(str(self.value)),
        }[self.kind]

    @property
    def shown(self) -> str:
        """The source as it may be shown or written: a stream's password redacted."""
        return redact(str(self.value)) if self.kind == "url" else str(self.value)


def parse_source(text: str | int) -> SourceSpec:
    """'0' -> camera 0, 'rtsp://…'/'http://…' -> URL, anything else -> a video file path."""
    s = str(text).strip()
    if s.isdigit():
        return SourceSpec("camera", int(s))
    if "://" in s:
        return SourceSpec("url", s)
    return SourceSpec("file", s)


def list_cameras(max_index: int = 6) -> list[int]:
    """Indices of the cameras present (Linux: /dev/video* that open; elsewhere: probe 0..max_index)."""
    if sys.platform.startswith("linux"):
        candidates = sorted(
            int(p[len("/dev/video") :])
            for p in glob.glob("/dev/video*")
            if p[len("/dev/video") :].isdigit()
        )
    else:
        candidates = list(range(max_index))
    found = []
    for i in candidates:
        cap = cv2.VideoCapture(i)
        try:
            if cap.isOpened():
                found.append(i)
        finally:
            cap.release()
    return found


class FrameSource:
    """An opened source. `read()` returns a BGR frame or None at the end / on failure."""

    def __init__(
        self, spec: SourceSpec, resize_to: tuple[int, int] | None = None, loop: bool | None = False
    ) -> None:
        """`loop`: a file starts again at its end (None: only files shorter than 30 s)."""
        self.spec = spec
        self.loops = 0  # how many times a looping file has started again
        self.resize_to = (
            resize_to  # (width, height) every frame is scaled to, e.g. a 640x480 stream
        )
        if spec.kind == "file":
            path = Path(str(spec.value)).expanduser()
            why = broken_link(path)
            if why:
                raise UserError(f"{path} {why}.", "Choose the video file itself.")
            if path.exists() and not path.is_file() and not path.is_dir():
                raise UserError(  # a FIFO or a device: opening it could wait for ever
                    f"{path.name} is not a regular file (a pipe or a device).",
                    "Choose a video file.",
                )
            if not path.is_file():
                raise UserError(
                    f"Video file not found: {path}",
                    "Choose an existing video file (mp4, avi, mov, mkv, webm).",
                )
            if path.suffix.lower() in IMAGE_EXTS:
                raise UserError(
                    f"{path.name} is a photo, not a video.",
                    "Open photos in the Photos tab (or fer-desktop annotate); Live and analyze "
                    "take a camera, a video file or a stream.",
                )
            self.cap = cv2.VideoCapture(str(path))
        elif spec.kind == "url":
            # Bounded waits, so an unreachable host fails in seconds instead of hanging.
            self.cap = cv2.VideoCapture(
                str(spec.value),
                cv2.CAP_ANY,
                [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, 8000, cv2.CAP_PROP_READ_TIMEOUT_MSEC, 8000],
            )
        else:
            self.cap = cv2.VideoCapture(int(spec.value))
        if not self.cap.isOpened():
            self.cap.release()
            raise UserError(*self._open_error())
        ok, frame = self.cap.read()
        if not ok or frame is None:
            self.cap.release()
            raise UserError(*self._open_error(read=True))
        if resize_to is not None:
            frame = cv2.resize(frame, resize_to, interpolation=cv2.INTER_AREA)
        self._first: np.ndarray | None = frame
        fps = self.cap.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if fps and 1 <= fps <= 240 else 30.0
        self.size = (frame.shape[1], frame.shape[0])
        self.frame_count = (
            int(self.cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0) if spec.kind == "file" else 0
        )
        if loop is None:
            loop = 0 < self.duration_s < LOOP_SHORTER_THAN_S
        self.loop = bool(loop) and spec.kind == "file"

    @property
    def duration_s(self) -> float:
        """Length of a file in seconds (0 for cameras, streams and files that do not say)."""
        return self.frame_count / self.fps if self.frame_count else 0.0

    def _open_error(self, read: bool = False) -> tuple[str, str]:
        v = self.spec.value
        if self.spec.kind == "camera":
            cams = list_cameras()
            hint = (
                f"Cameras found: {', '.join(map(str, cams))}."
                if cams
                else "No camera was found: plug one in, or open a video file instead."
            )
            return (
                f"Camera {v} could not be opened{' (no frames)' if read else ''}.",
                hint + " Close other apps that use the camera.",
            )
        if self.spec.kind == "url":
            return (
                f"The stream {redact(str(v))} could not be opened.",
                "Check the address and your network, or that the stream is running.",
            )
        return (
            f"{Path(str(v)).name} is not a readable video.",
            "It may be damaged or in a format OpenCV cannot decode; try an mp4 (H.264) file.",
        )

    @property
    def paced(self) -> bool:
        """Files are played at their own rate, like a camera; cameras and streams pace themselves."""
        return self.spec.kind == "file"

    def read(self) -> np.ndarray | None:
        if self._first is not None:
            frame, self._first = self._first, None
            return frame
        ok, frame = self.cap.read()
        if not ok and self.loop and self.rewind():
            ok, frame = self.cap.read()
            if ok:
                self.loops += 1
            else:  # it "rewinds" but gives nothing again: it cannot loop, so it ends here
                self.loop = False
        if not ok:
            return None
        if self.resize_to is not None:
            frame = cv2.resize(frame, self.resize_to, interpolation=cv2.INTER_AREA)
        return frame

    def grab(self) -> bool:
        """Skip one frame without decoding it (an analysis that reads every Nth frame)."""
        return bool(self.cap.grab())

    def unread(self, frame: np.ndarray) -> None:
        """Put one frame back so the next `read` returns it (used after a warm-up)."""
        self._first = frame

    def rewind(self) -> bool:
        return self.spec.kind == "file" and self.cap.set(cv2.CAP_PROP_POS_FRAMES, 0)

    def release(self) -> None:
        self.cap.release()
