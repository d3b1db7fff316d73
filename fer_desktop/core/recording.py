"""Record a session: one folder with faces.csv, session.json and optionally annotated.mp4. No Qt.

Layout: `<user data>/sessions/<YYYY-MM-DD_HH-MM-SS>/`.
- `faces.csv`: one row per processed frame per tracked face; the probabilities are the ones shown
  (after smoothing). Rows reach the file in whole lines at least every `flush_every_s`, so after a
  crash or a kill the file is readable up to the last flush.
- `session.json`: source, detector, model, settings, start/end time, frames processed and dropped,
  a summary per track (written atomically at the start and at the end).
- `annotated.mp4`: the frame with the overlay as seen, encoded on its own thread so the caller
  (the inference thread) never waits for the encoder; the video keeps the session's time base
  (a frame that was not processed repeats the previous one), so time t is at frame t * fps.

A full disk (or any write error) stops the recording with a UserError; the caller keeps running.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import logging
import queue
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np

from .emotions import CLASSES
from .errors import UserError
from .fileio import atomic_write_text
from .overlay import draw_faces
from .resources import user_data_dir
from .types import FaceResult, FrameResult

log = logging.getLogger(__name__)

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
)
MIN_FREE_BYTES = 50 * 2**20  # the video stops before the disk is completely full


def sessions_dir() -> Path:
    """Where recorded sessions are kept: `<user data>/sessions` (created on demand)."""
    path = user_data_dir() / "sessions"
    path.mkdir(parents=True, exist_ok=True)
    return path


def new_session_dir(root: Path | None = None, now: datetime | None = None) -> Path:
    """A new, empty `<root>/<YYYY-MM-DD_HH-MM-SS>` folder (`-2`, `-3`… if that second is taken)."""
    root = Path(root) if root is not None else sessions_dir()
    name = (now or datetime.now()).strftime("%Y-%m-%d_%H-%M-%S")
    for i in range(1, 1000):
        path = root / (name if i == 1 else f"{name}-{i}")
        try:
            path.mkdir(parents=True)
            return path
        except FileExistsError:
            continue
    raise UserError(f"Could not create a session folder in {root}.", "Check the folder.")


def disk_error(exc: OSError, path: Path) -> UserError:
    """The message a user sees when a recording cannot be written."""
    if exc.errno == errno.ENOSPC:
        return UserError(
            f"The disk is full: the recording in {path} stopped.",
            "Free some space and press Record again; what was recorded so far is kept.",
        )
    return UserError(
        f"The recording in {path} stopped: {exc.strerror or exc}.",
        "Check that the folder is writable, then press Record again.",
    )


@dataclass
class TrackSummary:
    """Running totals for one track: when it was seen and its mean displayed probabilities."""

    track_id: int
    first_s: float
    last_s: float = 0.0
    frames: int = 0
    prob_sum: np.ndarray = field(default_factory=lambda: np.zeros(len(CLASSES)))

    def add(self, time_s: float, probs: np.ndarray) -> None:
        self.last_s = time_s
        self.frames += 1
        self.prob_sum += probs

    def to_json(self) -> dict:
        mean = self.prob_sum / max(self.frames, 1)
        return {
            "id": self.track_id,
            "first_s": round(self.first_s, 3),
            "last_s": round(self.last_s, 3),
            "frames": self.frames,
            "mean_probabilities": {c: round(float(p), 4) for c, p in zip(CLASSES, mean)},
            "dominant": CLASSES[int(np.argmax(mean))] if self.frames else None,
        }


def face_probs(face: FaceResult) -> np.ndarray:
    """The face's probabilities in CLASSES order (0 for a class the model does not have)."""
    return np.array([float(face.probabilities.get(c, 0.0)) for c in CLASSES])


def csv_row(time_s: float, frame: int, face: FaceResult) -> list:
    x1, y1, x2, y2 = (int(v) for v in face.box)
    probs = [f"{p:.4f}" for p in face_probs(face)]
    return [f"{time_s:.3f}", frame, face.track_id, x1, y1, x2, y2, *probs, face.label] + [
        f"{face.confidence:.4f}"
    ]


class _VideoThread:
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
            fourcc = cv2.VideoWriter_fourcc(*"mp4v")
            self._writer = cv2.VideoWriter(str(self.path), fourcc, self.fps, (w, h))
            if not self._writer.isOpened():
                raise UserError(
                    f"Could not write {self.path.name} (no mp4 encoder available).",
                    "Record without the annotated video.",
                )
        if time.monotonic() - self._last_check > 2.0:
            # OpenCV's writer fails silently on a full disk, so look before it is full.
            self._last_check = time.monotonic()
            if shutil.disk_usage(self.path.parent).free < MIN_FREE_BYTES:
                raise OSError(errno.ENOSPC, "No space left on device")
        # Keep the time base: repeat the previous frame in place of frames not processed.
        target = round(time_s * self.fps)
        while self._last is not None and self.written < target:
            self._writer.write(self._last)
            self.written += 1
        self._writer.write(image)
        self.written += 1
        self._last = image


class SessionRecorder:
    """Writes one session folder as frames are processed. Not thread-safe: one thread calls
    `add`, then `finish` (the live bridge serialises them with a lock).

    `fps` is the source's frame rate (the video's time base); `settings` is any JSON-ready dict.
    `video_wait`: wait for the encoder instead of skipping frames (an offline analysis).
    `opener` opens faces.csv (tests pass one whose file raises, to simulate a full disk).
    """

    def __init__(
        self,
        folder: Path,
        *,
        source: str,
        detector: str,
        model: str,
        settings: dict | None = None,
        fps: float = 30.0,
        video: bool = False,
        video_fps: float | None = None,
        video_wait: bool = False,
        flush_every_s: float = 0.5,
        opener: Callable = open,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.csv_path = self.folder / CSV_NAME
        self.json_path = self.folder / JSON_NAME
        self.video_path = self.folder / VIDEO_NAME if video else None
        self.fps = float(fps)
        self.flush_every_s = flush_every_s
        self.clock = clock
        self.error: UserError | None = None
        self.frames_processed = 0
        self.tracks: dict[int, TrackSummary] = {}
        self._first_frame: int | None = None
        self._last_frame: int | None = None
        self._last_time = 0.0
        self._pending = io.StringIO()
        self._pending_writer = csv.writer(self._pending, lineterminator="\n")
        self._last_flush = self._last_json = clock()
        self._closed = False
        self.summary_final: dict | None = None
        self._video: _VideoThread | None = None
        self.info = {
            "source": source,
            "detector": detector,
            "model": model,
            "settings": settings or {},
            "fps": round(self.fps, 3),
            "start_time": datetime.now().astimezone().isoformat(timespec="seconds"),
            "end_time": None,
            "status": "recording",
            "outputs": {"csv": CSV_NAME, "video": VIDEO_NAME if video else None},
        }
        try:
            self._file = opener(self.csv_path, "w", encoding="utf-8", newline="")
            self._file.write(",".join(CSV_COLUMNS) + "\n")
            self._file.flush()
            self._write_json()
        except OSError as exc:
            raise disk_error(exc, self.folder) from exc
        self._video = (
            _VideoThread(self.video_path, video_fps or self.fps, wait=video_wait) if video else None
        )

    @property
    def active(self) -> bool:
        """True until the recording finished or stopped on an error."""
        return not self._closed and self.error is None

    def add(self, result: FrameResult, time_s: float) -> None:
        """Record one processed frame (its faces as displayed) at `time_s` seconds into the
        session. Raises UserError once when writing fails; later calls do nothing."""
        if not self.active:
            return
        if self._video is not None and self._video.error is not None:
            self._fail(self._video.error)
        frame = int(result.frame_index)
        if self._first_frame is None:
            self._first_frame = frame
        self._last_frame = frame
        self._last_time = time_s
        self.frames_processed += 1
        for face in result.faces:
            self._pending_writer.writerow(csv_row(time_s, frame, face))
            track = self.tracks.get(face.track_id)
            if track is None:
                track = self.tracks[face.track_id] = TrackSummary(face.track_id, time_s)
            track.add(time_s, face_probs(face))
        if self._video is not None and result.frame is not None:
            self._video.put(time_s, result.frame, result.faces)
        if self.clock() - self._last_flush >= self.flush_every_s:
            self.flush()

    def flush(self) -> None:
        """Write the rows gathered since the last flush, as whole lines, and hand them to the OS."""
        self._last_flush = self.clock()
        text = self._pending.getvalue()
        if not text or self._closed:
            return
        self._pending.seek(0)
        self._pending.truncate()
        try:
            self._file.write(text)
            self._file.flush()
            if self._last_flush - self._last_json >= 5.0:  # figures so far, in case of a crash
                self._last_json = self._last_flush
                self._write_json()
        except OSError as exc:
            self._fail(disk_error(exc, self.folder), exc)

    def _fail(self, err: UserError, cause: BaseException | None = None) -> None:
        self.error = err
        log.warning("recording stopped: %s", err)
        self._close("stopped")
        raise err from cause

    def summary(self) -> dict:
        """What session.json holds (also while recording)."""
        captured = self._last_frame - self._first_frame + 1 if self._first_frame is not None else 0
        return {
            **self.info,
            "duration_s": round(self._last_time, 3),
            "frames_processed": self.frames_processed,
            "frames_dropped": max(0, captured - self.frames_processed),
            "video_frames_skipped": self._video.skipped if self._video is not None else 0,
            "tracks": [t.to_json() for t in sorted(self.tracks.values(), key=lambda t: t.track_id)],
        }

    def finish(self, *, frames_dropped: int | None = None, status: str = "finished") -> dict:
        """Flush, close the video, write the final session.json; returns its contents.

        `frames_dropped` overrides the count derived from gaps in the frame numbers (an analysis
        that skips frames on purpose passes 0). Never raises: a write error ends up in `error`
        and in the status. Safe to call twice and after an error."""
        if not self._closed:
            if self.error is None:
                try:
                    self.flush()
                except UserError:
                    pass  # _fail() closed the session with the error as its status
            self._close(status, frames_dropped)
        return self.summary_final

    def _close(self, status: str, frames_dropped: int | None = None) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._file.close()
        except OSError as exc:
            self.error = self.error or disk_error(exc, self.folder)
        if self._video is not None:
            self._video.close()
            self.error = self.error or self._video.error
        info = self.summary()
        info["outputs"] = dict(info["outputs"])
        if frames_dropped is not None:
            info["frames_dropped"] = int(frames_dropped)
        info["end_time"] = datetime.now().astimezone().isoformat(timespec="seconds")
        info["status"] = status if self.error is None else "stopped: " + self.error.message
        if self._video is not None and self._video.written == 0:
            info["outputs"]["video"] = None
        self.summary_final = info
        try:
            self._write_json(info)
        except OSError:
            log.warning("could not write %s", self.json_path, exc_info=True)

    def _write_json(self, info: dict | None = None) -> None:
        info = self.summary() if info is None else info
        atomic_write_text(self.json_path, json.dumps(info, indent=1, ensure_ascii=False))


class LiveRecorder:
    """The Record switch of a live view: the GUI thread starts and stops a SessionRecorder while
    the inference thread feeds it every processed frame (`on_result`). Times count from the first
    frame recorded. A write error stops the recording and is passed to `on_error` (the live view
    itself goes on)."""

    def __init__(self, on_error: Callable[[UserError], None] | None = None) -> None:
        self.on_error = on_error or (lambda err: None)
        self._lock = threading.Lock()
        self._recorder: SessionRecorder | None = None
        self._t0: float | None = None

    @property
    def recording(self) -> bool:
        return self._recorder is not None

    @property
    def folder(self) -> Path | None:
        rec = self._recorder
        return rec.folder if rec is not None else None

    def start(self, recorder: SessionRecorder) -> None:
        """Record from the next processed frame on (finishes a recording still running)."""
        self.stop()
        with self._lock:
            self._recorder, self._t0 = recorder, None

    def stop(self) -> dict | None:
        """Finish the recording; returns its session.json contents (None when not recording)."""
        with self._lock:
            rec, self._recorder = self._recorder, None
        # Outside the lock: finishing waits for the video encoder, inference must not.
        return rec.finish() if rec is not None else None

    def on_result(self, result: FrameResult) -> None:
        """Called by the inference thread for every processed frame."""
        with self._lock:
            rec = self._recorder
            if rec is None:
                return
            if self._t0 is None:
                self._t0 = result.captured_at
            try:
                rec.add(result, max(0.0, result.captured_at - self._t0))
                return
            except UserError as err:
                self._recorder = None
                error = err
        rec.finish()
        self.on_error(error)
