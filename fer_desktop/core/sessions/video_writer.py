"""annotated.mp4: the overlay drawn and encoded on a thread of its own, so the inference thread
never waits for the encoder. A fragmented MP4 (PyAV) stays playable up to the last fragment
after a kill; OpenCV's writer is the fallback. The video stops before the disk is full, leaving
room for faces.csv and session.json."""

from __future__ import annotations

import logging
import queue
import shutil
import threading
import time
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from fer_desktop.core.render.overlay import draw_faces
from fer_desktop.core.sessions.layout import disk_error, make_private_file
from fer_desktop.core.support.errors import UserError
from fer_desktop.core.types import FaceResult

log = logging.getLogger(__name__)

MIN_FREE_BYTES = 50 * 2**20  # the video stops before the disk is completely full...


MIN_FREE_SHARE = 0.05  # ...or, on a small disk, before the last 5% of it (at least 2 MiB)


def video_reserve(folder: Path) -> int:
    """Free bytes the annotated video leaves for faces.csv and session.json."""
    total = shutil.disk_usage(folder).total
    return int(min(MIN_FREE_BYTES, max(2 * 2**20, MIN_FREE_SHARE * total)))


class AnnotatedVideoWriter:
    """Draws the overlay and encodes frames on its own thread; a full queue skips a frame (the
    previous one is repeated in its place) instead of making the caller wait."""

    def __init__(self, path: Path, fps: float, max_queue: int = 32, wait: bool = False) -> None:
        self.path = path
        self.fps = fps
        self.wait = wait
        self.queue: queue.Queue = queue.Queue(max_queue)
        self.error: UserError | None = None
        self.skipped = 0
        self.written = 0
        self._writer: cv2.VideoWriter | None = None
        self._last: np.ndarray | None = None
        self._last_check = 0.0
        self._thread = threading.Thread(target=self._run, name="fer-record-video", daemon=True)
        self._thread.start()

    def put(self, time_s: float, frame: np.ndarray, faces: list[FaceResult]) -> None:
        try:
            self.queue.put((time_s, frame, faces), block=self.wait)
        except queue.Full:
            self.skipped += 1

    def close(self, timeout: float = 60.0) -> None:
        """Encode what is queued, then finish the file."""
        self.queue.put(None)  # the thread keeps taking items, even after an error
        self._thread.join(timeout)

    def _run(self) -> None:
        while (item := self.queue.get()) is not None:
            if self.error is not None:
                continue  # drain; the recorder reports the error on its next add()
            try:
                self._write(*item)
            except OSError as exc:
                self.error = disk_error(exc, self.path.parent)
            except UserError as exc:
                self.error = exc
            except Exception as exc:  # never die silently: report through the recorder
                log.exception("writing %s failed", self.path)
                self.error = UserError(
                    f"Writing the annotated video failed: {type(exc).__name__}: {exc}",
                    "Record without the annotated video; see the log file.",
                )
        if self._writer is not None:
            self._writer.release()

    def _write(self, time_s: float, frame: np.ndarray, faces: list[FaceResult]) -> None:
        image = draw_faces(frame.copy(), faces)
        if self._writer is None:
            h, w = image.shape[:2]
            self._writer = open_video_writer(self.path, self.fps, w, h)
        if time.monotonic() - self._last_check > 2.0:
            # OpenCV's writer fails silently on a full disk, so look before it is full.
            self._last_check = time.monotonic()
            free = shutil.disk_usage(self.path.parent).free
            if free < video_reserve(self.path.parent):
                raise UserError(
                    f"The annotated video stopped: only {free / 2**20:.0f} MiB are free on the "
                    "disk, kept for faces.csv, which goes on recording.",
                    "Free some disk space, or record without the annotated video.",
                )
        # Keep the time base: repeat the previous frame in place of frames not processed.
        target = round(time_s * self.fps)
        while self._last is not None and self.written < target:
            self._writer.write(self._last)
            self.written += 1
        self._writer.write(image)
        self.written += 1
        if self.written == 1:  # the file exists once its first frame is written
            make_private_file(self.path)
        self._last = image


class _FragmentedMp4:
    """annotated.mp4 as a fragmented MP4 (PyAV): a fragment per second, each complete on disk,
    so a recording killed mid-way (kill -9, power loss) still plays up to its last second.
    OpenCV's writer puts the index at the end: its file is unplayable until closed."""

    def __init__(self, path: Path, fps: float, w: int, h: int) -> None:
        import av

        self._container = av.open(
            str(path),
            "w",
            format="mp4",
            options={"movflags": "frag_keyframe+empty_moov+default_base_moof"},
        )
        rate = Fraction(max(float(fps), 1.0)).limit_denominator(1001)  # 29.97 stays 29.97
        self._stream = self._container.add_stream("mpeg4", rate=rate)
        self._stream.width, self._stream.height = w - w % 2, h - h % 2
        self._stream.pix_fmt = "yuv420p"
        self._stream.bit_rate = int(max(1_000_000, w * h * float(rate) * 0.12))
        self._stream.codec_context.gop_size = max(1, round(rate))  # a fragment every second
        self._av = av

    def isOpened(self) -> bool:  # noqa: N802 - the cv2.VideoWriter interface
        return True

    def write(self, bgr: np.ndarray) -> None:
        h, w = self._stream.height, self._stream.width
        frame = self._av.VideoFrame.from_ndarray(np.ascontiguousarray(bgr[:h, :w]), format="bgr24")
        for packet in self._stream.encode(frame):
            self._container.mux(packet)

    def release(self) -> None:
        for packet in self._stream.encode():
            self._container.mux(packet)
        self._container.close()


def open_video_writer(path: Path, fps: float, w: int, h: int):
    """A writer with cv2.VideoWriter's write/release: fragmented MP4 through PyAV when it is
    installed (kill-safe), else OpenCV's mp4v (playable only once closed)."""
    try:
        return _FragmentedMp4(path, fps, w, h)
    except ImportError:
        log.info("PyAV is not installed: annotated.mp4 is written by OpenCV (not kill-safe)")
    except Exception as exc:  # noqa: BLE001 - an FFmpeg build without the encoder: OpenCV may still have one
        log.warning("PyAV cannot write %s (%s); using OpenCV", path.name, exc)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    if not writer.isOpened():
        raise UserError(
            f"Could not write {path.name} (no mp4 encoder available).",
            "Record without the annotated video.",
        )
    return writer
