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
import io
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

from fer_desktop.core.emotions import CLASSES, UNCERTAIN
from fer_desktop.core.sessions.annotations import Annotations, Marker, markers_csv
from fer_desktop.core.sessions.figures import Totals
from fer_desktop.core.sessions.layout import (
    CSV_COLUMNS,
    CSV_NAME,
    JSON_NAME,
    MARKERS_NAME,
    VIDEO_NAME,
    csv_row,
    disk_error,
    face_probs,
    make_private_file,
    new_session_dir,
    sessions_dir,
)
from fer_desktop.core.sessions.quality import SessionNotes
from fer_desktop.core.sessions.study import StudyInfo
from fer_desktop.core.sessions.video_writer import AnnotatedVideoWriter, video_reserve
from fer_desktop.core.support.errors import UserError
from fer_desktop.core.support.fileio import PRIVATE_FILE, atomic_write_text, make_private_dir
from fer_desktop.core.types import FrameResult

log = logging.getLogger(__name__)

JSON_EVERY_S = 1.0  # session.json is rewritten this often while recording (crash: <= 1 s stale)


@dataclass
class TrackSummary:
    """Running totals for one track: when it was seen, its figures (sessions/figures.py, the one
    rule every table uses) and how often its shown label changed."""

    track_id: int
    first_s: float
    last_s: float = 0.0
    totals: Totals = field(default_factory=Totals)
    label: str | None = None  # the label shown in the last frame
    label_changes: int = 0  # times the shown label changed (what a viewer sees flicker)

    @property
    def frames(self) -> int:
        return self.totals.frames

    def add(self, time_s: float, probs: np.ndarray, label: str) -> None:
        self.last_s = time_s
        self.totals.add(probs, label)
        if self.label is not None and label != self.label:
            self.label_changes += 1
        self.label = label

    def to_json(self) -> dict:
        fig = self.totals.figures()
        minutes = (self.last_s - self.first_s) / 60.0
        return {
            "id": self.track_id,
            "first_s": round(self.first_s, 3),
            "last_s": round(self.last_s, 3),
            "frames": fig.frames,
            "mean_probabilities": {c: round(float(p), 4) for c, p in zip(CLASSES, fig.mean)},
            "dominant": fig.dominant if fig.frames else None,
            "label_changes": self.label_changes,
            "label_changes_per_min": round(self.label_changes / minutes, 1) if minutes else 0.0,
            "uncertain_share": round(fig.shares[UNCERTAIN], 4),
        }


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
        study: StudyInfo | None = None,
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
        self._video: AnnotatedVideoWriter | None = None
        self.video_error: UserError | None = None  # the annotated video stopped (CSV goes on)
        self.on_video_error = on_video_error or (lambda err: None)
        self.again = again  # what the user does after a write error (analyze: run it again)
        self.annotations = Annotations()  # markers added while recording
        self.notes = SessionNotes()  # setting changes, stretches without a face
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
            "setting_changes": self.notes.setting_changes,  # quality.py says what they hold
            "no_face_s": self.notes.no_face_s,
            "study": (study or StudyInfo()).to_json(),  # participant, condition, note (issue 30)
        }
        try:
            self._file = opener(self.csv_path, "w", encoding="utf-8", newline="")
            make_private_file(self.csv_path)
            self._file.write(",".join(CSV_COLUMNS) + "\n")
            self._file.flush()
            self._good_size, self._write_failed = self._csv_size(), False
            self._write_json()
        except OSError as exc:
            raise disk_error(exc, self.folder) from exc
        self._video = (
            AnnotatedVideoWriter(self.video_path, video_fps or self.fps, wait=video_wait)
            if self.video_path is not None
            else None
        )

    def add_marker(self, time_s: float, name: str | None = None, kind: int = 0,
                   end_s: float | None = None) -> Marker:  # fmt: skip
        """A named moment of the session (key M, or a number key for a kind, while recording;
        analyze --markers). Written to markers.csv at once and to session.json next update."""
        marker = self.annotations.add_marker(time_s, name, kind, end_s)
        self.info["markers"] = self.annotations.to_json()["markers"]
        try:
            atomic_write_text(
                self.folder / MARKERS_NAME, markers_csv(self.annotations.markers), mode=PRIVATE_FILE
            )
        except OSError as exc:
            log.warning("could not write %s: %s", MARKERS_NAME, exc)
        return marker

    def add_setting_change(self, time_s: float, setting: str, old: object, new: object) -> None:
        """A setting that affects the figures changed at `time_s` (session.json, next update)."""
        self.notes.add_setting_change(time_s, setting, old, new)

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
        self.notes.note_faces(time_s, bool(result.faces))
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
        first, last = self._first_frame, self._last_frame
        captured = last - first + 1 if first is not None and last is not None else 0
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
        return self.summary_final or self.summary()

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


__all__ = [  # what callers import from here; the folder layout itself is layout.py
    "CSV_COLUMNS", "CSV_NAME", "JSON_NAME", "VIDEO_NAME", "SessionRecorder", "TrackSummary",
    "csv_row", "disk_error", "face_probs", "new_session_dir", "sessions_dir", "video_reserve",
]  # fmt: skip
