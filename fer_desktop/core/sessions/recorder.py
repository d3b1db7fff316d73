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
import os
import queue
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from fer_desktop.core.emotions import CLASSES, UNCERTAIN
from fer_desktop.core.render.overlay import draw_faces
from fer_desktop.core.support.errors import UserError
from fer_desktop.core.support.fileio import PRIVATE_FILE, atomic_write_text, make_private_dir
from fer_desktop.core.support.resources import user_data_dir
from fer_desktop.core.types import FaceResult, FrameResult

log = logging.getLogger(__name__)

CSV_NAME, JSON_NAME, VIDEO_NAME = "faces.csv", "session.json", "annotated.mp4"
JSON_EVERY_S = 1.0  # session.json is rewritten this often while recording (crash: <= 1 s stale)
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
MIN_FREE_BYTES = 50 * 2**20  # the video stops before the disk is completely full...
MIN_FREE_SHARE = 0.05  # ...or, on a small disk, before the last 5% of it (at least 2 MiB)


def video_reserve(folder: Path) -> int:
    """Free bytes the annotated video leaves for faces.csv and session.json."""
    total = shutil.disk_usage(folder).total
    return int(min(MIN_FREE_BYTES, max(2 * 2**20, MIN_FREE_SHARE * total)))


def _make_private(path: Path) -> None:
    try:
        os.chmod(path, PRIVATE_FILE)
    except OSError:  # a test's fake file, a file system without permissions
        pass


def sessions_dir() -> Path:
    """Where recorded sessions are kept: `<user data>/sessions` (created on demand)."""
    return make_private_dir(user_data_dir() / "sessions")


def new_session_dir(root: Path | None = None, now: datetime | None = None) -> Path:
    """A new, empty `<root>/<YYYY-MM-DD_HH-MM-SS>` folder (`-2`, `-3`… if that second is taken)."""
    root = Path(root) if root is not None else sessions_dir()
    name = (now or datetime.now()).strftime("%Y-%m-%d_%H-%M-%S")
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


@dataclass
class TrackSummary:
    """Running totals for one track: when it was seen and its mean displayed probabilities."""

    track_id: int
    first_s: float
    last_s: float = 0.0
    frames: int = 0
    prob_sum: np.ndarray = field(default_factory=lambda: np.zeros(len(CLASSES)))
    label: str | None = None  # the label shown in the last frame
    label_changes: int = 0  # times the shown label changed (what a viewer sees flicker)
    uncertain_frames: int = 0

    def add(self, time_s: float, probs: np.ndarray, label: str | None = None) -> None:
        self.last_s = time_s
        self.frames += 1
        self.prob_sum += probs
        if label is not None:
            if self.label is not None and label != self.label:
                self.label_changes += 1
            self.label = label
            self.uncertain_frames += label == UNCERTAIN

    def to_json(self) -> dict:
        mean = self.prob_sum / max(self.frames, 1)
        minutes = (self.last_s - self.first_s) / 60.0
        return {
            "id": self.track_id,
            "first_s": round(self.first_s, 3),
            "last_s": round(self.last_s, 3),
            "frames": self.frames,
            "mean_probabilities": {c: round(float(p), 4) for c, p in zip(CLASSES, mean)},
            "dominant": CLASSES[int(np.argmax(mean))] if self.frames else None,
            "label_changes": self.label_changes,
            "label_changes_per_min": round(self.label_changes / minutes, 1) if minutes else 0.0,
            "uncertain_share": round(self.uncertain_frames / max(self.frames, 1), 4),
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
            _make_private(self.path)
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
    except Exception as exc:  # an FFmpeg build without the encoder: OpenCV may still have one
        log.warning("PyAV cannot write %s (%s); using OpenCV", path.name, exc)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    if not writer.isOpened():
        raise UserError(
            f"Could not write {path.name} (no mp4 encoder available).",
            "Record without the annotated video.",
        )
    return writer


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
        on_video_error: Callable[[UserError], None] | None = None,
        again: str = "press Record again",
    ) -> None:
        self.folder = make_private_dir(Path(folder))
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
        self.video_error: UserError | None = None  # the annotated video stopped (CSV goes on)
        self.on_video_error = on_video_error or (lambda err: None)
        self.again = again  # what the user does after a write error (analyze: run it again)
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
            _make_private(self.csv_path)
            self._file.write(",".join(CSV_COLUMNS) + "\n")
            self._file.flush()
            self._good_size, self._write_failed = self._csv_size(), False
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
        if self._video is not None and self._video.error is not None and self.video_error is None:
            # Only the video stops; the CSV (the data) goes on.
            self.video_error = self._video.error
            log.warning("annotated video stopped: %s", self.video_error)
            self.on_video_error(self.video_error)
        frame = int(result.frame_index)
        if self._first_frame is None:
            self._first_frame = frame
        self._last_frame = frame
        self._last_time = time_s
        self.frames_processed += 1
        for face in result.faces:
            # Frames counted from the recording's start, as time_s and annotated.mp4 are.
            self._pending_writer.writerow(csv_row(time_s, frame - self._first_frame, face))
            track = self.tracks.get(face.track_id)
            if track is None:
                track = self.tracks[face.track_id] = TrackSummary(face.track_id, time_s)
            track.add(time_s, face_probs(face), face.label)
        if self._video is not None and result.frame is not None and self.video_error is None:
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
            self._good_size = self._csv_size()
            if self._last_flush - self._last_json >= JSON_EVERY_S:  # figures so far: a crash
                self._last_json = self._last_flush
                self._write_json()
        except OSError as exc:
            self._write_failed = True  # _close cuts the CSV back to its last whole row
            self._fail(disk_error(exc, self.folder, self.again), exc)

    def _csv_size(self) -> int | None:
        try:
            return self.csv_path.stat().st_size
        except OSError:
            return None

    def _cut_back(self) -> None:
        """After a failed write, drop its partial last line: the CSV ends on a whole row."""
        if self._write_failed and self._good_size is not None:
            try:
                if self._csv_size() != self._good_size:
                    os.truncate(self.csv_path, self._good_size)
            except OSError:
                log.warning("could not cut %s back to its last whole row", self.csv_path)

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
            self.error = self.error or disk_error(exc, self.folder, self.again)
        self._cut_back()  # after close: its last flush may have added a partial row
        if self._video is not None:
            self._video.close()
            self.video_error = self.video_error or self._video.error
        info = self.summary()
        info["outputs"] = dict(info["outputs"])
        if frames_dropped is not None:
            info["frames_dropped"] = int(frames_dropped)
        info["end_time"] = datetime.now().astimezone().isoformat(timespec="seconds")
        info["status"] = status if self.error is None else "stopped: " + self.error.message
        if self.video_error is not None:
            info["video_error"] = self.video_error.message
        if self._video is not None and self._video.written == 0:
            info["outputs"]["video"] = None
        self.summary_final = info
        try:
            self._write_json(info)
        except OSError:
            # A full disk has no room for the temporary copy: overwrite the old file in place
            # (its blocks are already ours), so the status does not stay "recording".
            try:
                text = json.dumps(info, indent=1, ensure_ascii=False).encode("utf-8")
                with open(self.json_path, "r+b") as f:
                    f.write(text)
                    f.truncate()
                log.info("wrote %s in place (no room for a temporary copy)", self.json_path)
            except OSError:
                log.info("could not write %s", self.json_path, exc_info=True)  # log file only

    def _write_json(self, info: dict | None = None) -> None:
        info = self.summary() if info is None else info
        atomic_write_text(
            self.json_path, json.dumps(info, indent=1, ensure_ascii=False), mode=PRIVATE_FILE
        )


class LiveRecorder:
    """The Record switch of a live view: the GUI thread starts and stops a SessionRecorder while
    the inference thread feeds it every processed frame (`on_result`). Times count from the first
    frame recorded. A write error stops the recording and is passed to `on_error` (the live view
    itself goes on)."""

    def __init__(
        self,
        on_error: Callable[[UserError], None] | None = None,
        on_warning: Callable[[UserError], None] | None = None,
    ) -> None:
        self.on_error = on_error or (lambda err: None)
        self.on_warning = on_warning or (lambda err: None)  # the video stopped, the CSV goes on
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
        recorder.on_video_error = self.on_warning
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
