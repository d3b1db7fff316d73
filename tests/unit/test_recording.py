"""Session recording: faces.csv / session.json contents, kill safety, a full disk, the video.

The live engine on the real video and `analyze` are checked in test_analyze.py.
"""

from __future__ import annotations

import csv
import errno
import json
import subprocess
import sys
import textwrap
import threading
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np
import pytest

from fer_desktop.core.classify.action_names import BLENDSHAPE_NAMES
from fer_desktop.core.emotions import CLASSES
from fer_desktop.core.sessions.live_recorder import LiveRecorder
from fer_desktop.core.sessions.recorder import (
    CSV_COLUMNS,
    SessionRecorder,
    new_session_dir,
    sessions_dir,
)
from fer_desktop.core.support.errors import UserError
from fer_desktop.core.types import FaceResult, FrameResult

from shared_paths import REPO

ROOT = REPO
EXPECTED_COLUMNS = (
    "time_s, frame, track_id, x1, y1, x2, y2, angry, disgust, fear, happy, neutral, sad, "
    "surprise, label, confidence, valence, detector_score, yaw, pitch, roll, blink_left, "
    "blink_right, bs__neutral, bs_browDownLeft"
).split(", ") + [f"bs_{n}" for n in BLENDSHAPE_NAMES[2:]]  # facial actions after the rest


def face(track_id: int, box, top: str, p: float = 0.8) -> FaceResult:
    probs = {c: (1 - p) / (len(CLASSES) - 1) for c in CLASSES}
    probs[top] = p
    return FaceResult(box, probs, top, p, "", track_id=track_id)


def frame_result(index: int, faces, frame=None) -> FrameResult:
    return FrameResult(index, faces, frame=frame)


def recorder(folder: Path, **kwargs) -> SessionRecorder:
    kwargs.setdefault("source", "camera 0")
    return SessionRecorder(
        folder, detector="det", model="mdl", settings={"smoothing": 0.6}, **kwargs
    )


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def no_recording_threads() -> bool:
    return not any(t.name.startswith("fer-record") for t in threading.enumerate())


def test_new_session_dir_is_named_by_time_in_the_user_folder():
    now = datetime(2024, 5, 17, 9, 3, 7)
    first = new_session_dir(now=now)
    second = new_session_dir(now=now)
    assert first.parent == sessions_dir() and first.name == "2024-05-17_09-03-07"
    assert second.name == "2024-05-17_09-03-07-2" and second.is_dir()


def test_csv_and_json_hold_every_processed_frame_and_face(tmp_path):
    rec = recorder(tmp_path / "s", fps=25.0)
    a, b = (10, 20, 110, 140), (300, 40, 380, 130)
    # frames 0, 1, 3, 4 processed (2 dropped), face 2 only in frames 3 and 4, frame 5 empty
    rec.add(frame_result(0, [face(1, a, "happy")]), 0.0)
    rec.add(frame_result(1, [face(1, a, "happy", 0.6)]), 0.04)
    rec.add(frame_result(3, [face(1, a, "sad"), face(2, b, "neutral")]), 0.12)
    rec.add(frame_result(4, [face(2, b, "neutral", 0.9), face(1, a, "sad")]), 0.16)
    rec.add(frame_result(5, []), 0.2)
    # session.json exists from the start, saying the recording is running
    assert json.loads(rec.json_path.read_text())["status"] == "recording"
    info = rec.finish()

    with open(rec.csv_path, newline="") as f:
        header = next(csv.reader(f))
    assert header == EXPECTED_COLUMNS == list(CSV_COLUMNS)
    rows = read_csv(rec.csv_path)
    assert len(rows) == 6  # one row per processed frame per face
    assert [r["frame"] for r in rows] == ["0", "1", "3", "3", "4", "4"]
    assert [r["track_id"] for r in rows] == ["1", "1", "1", "2", "2", "1"]
    r = rows[3]
    assert (r["x1"], r["y1"], r["x2"], r["y2"]) == ("300", "40", "380", "130")
    assert float(r["time_s"]) == pytest.approx(0.12)
    assert r["label"] == "neutral" and float(r["confidence"]) == pytest.approx(0.8)
    assert float(r["neutral"]) == pytest.approx(0.8)
    negative = max(float(r[c]) for c in ("angry", "disgust", "fear", "sad"))
    assert float(r["valence"]) == pytest.approx(float(r["happy"]) - negative, abs=2e-4)
    assert sum(float(r[c]) for c in CLASSES) == pytest.approx(1.0, abs=1e-3)

    saved = json.loads(rec.json_path.read_text())
    assert saved == info
    assert saved["status"] == "finished" and saved["end_time"]
    assert (saved["source"], saved["detector"], saved["model"]) == ("camera 0", "det", "mdl")
    assert saved["settings"] == {"smoothing": 0.6}
    assert saved["frames_processed"] == 5
    assert saved["frames_dropped"] == 1  # frame 2
    assert saved["duration_s"] == pytest.approx(0.2)
    assert saved["outputs"] == {"csv": "faces.csv", "video": None}
    t1, t2 = saved["tracks"]
    assert (t1["id"], t1["first_s"], t1["last_s"], t1["frames"]) == (1, 0.0, 0.16, 4)
    assert (t2["id"], t2["first_s"], t2["last_s"], t2["frames"]) == (2, 0.12, 0.16, 2)
    assert t1["mean_probabilities"]["happy"] == pytest.approx((0.8 + 0.6 + 0.2 / 6 * 2) / 4, 1e-3)
    # dominant: the highest mean probability (sad: 2 frames at 0.8 beat happy at 0.8 and 0.6)
    assert t1["dominant"] == "sad" and t2["dominant"] == "neutral"
    assert rec.finish() == info  # twice is harmless


KILLED_CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from fer_desktop.core.emotions import CLASSES
    from fer_desktop.core.sessions.recorder import SessionRecorder
    from fer_desktop.core.types import FaceResult, FrameResult
    rec = SessionRecorder(Path(sys.argv[1]), source="x", detector="d", model="m",
                          flush_every_s=0.2)
    probs = {c: 1 / 7 for c in CLASSES}
    t0 = time.monotonic()
    i = 0
    while True:
        faces = [FaceResult((i % 50, 2, 60, 70), probs, "neutral", 1 / 7, "", track_id=k)
                 for k in (1, 2, 3)]
        rec.add(FrameResult(i, faces), time.monotonic() - t0)
        i += 1
        if i == 300:  # rows up to here are older than one flush interval when we are killed
            print(3 * i, flush=True)
        time.sleep(0.002)
    """
)


def test_a_killed_recording_leaves_a_readable_csv_up_to_the_last_flush(tmp_path):
    folder = tmp_path / "killed"
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_CHILD, str(folder)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        rows_before = int(child.stdout.readline())
        threading.Event().wait(0.5)  # more than one flush interval later, still writing
    finally:
        child.kill()  # SIGKILL: no exit handler, no flush, no close
        child.wait(10)
        child.stdout.close()
    text = (folder / "faces.csv").read_text()
    assert text.endswith("\n")  # only whole lines ever reach the file
    rows = read_csv(folder / "faces.csv")
    assert len(rows) >= rows_before
    assert all(len(r) == len(CSV_COLUMNS) and None not in r.values() for r in rows)
    assert [int(r["frame"]) for r in rows[::3]] == list(range(len(rows) // 3))
    assert json.loads((folder / "session.json").read_text())["status"] == "recording"


HEADER = len(",".join(CSV_COLUMNS)) + 1  # the header line: written first, always whole


class FullDisk:
    """A text file that accepts `room` characters, then fails like a full disk."""

    def __init__(self, path, mode, room: int, **kwargs):
        self._f = open(path, mode, **kwargs)
        self.room = room

    def write(self, text: str) -> int:
        if len(text) > self.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(text)
        return self._f.write(text)

    def flush(self) -> None:
        self._f.flush()

    def close(self) -> None:
        self._f.close()


def test_a_full_disk_stops_the_recording_with_a_message_and_keeps_what_was_written(tmp_path):
    rec = recorder(
        tmp_path / "full",
        flush_every_s=0.0,
        opener=lambda p, mode, **kw: FullDisk(p, mode, HEADER + 600, **kw),
    )
    written = 0
    with pytest.raises(UserError) as err:
        for i in range(100):
            rec.add(frame_result(i, [face(1, (0, 0, 50, 50), "fear")]), i / 30)
            written += 1
    assert "disk is full" in err.value.message and "Free some space" in err.value.hint
    assert not rec.active and rec.error is err.value
    rec.add(frame_result(500, [face(1, (0, 0, 50, 50), "fear")]), 20.0)  # stopped: ignored
    assert rec.finish()["status"].startswith("stopped: The disk is full")
    rows = read_csv(rec.csv_path)
    assert 0 < len(rows) == written <= 100  # every flushed row intact, nothing half-written
    saved = json.loads(rec.json_path.read_text())
    assert saved["status"].startswith("stopped") and saved["frames_processed"] == written + 1


def test_live_recorder_reports_a_full_disk_once_and_the_caller_goes_on(tmp_path):
    errors: list[UserError] = []
    live = LiveRecorder(on_error=errors.append)
    live.start(
        recorder(
            tmp_path / "live",
            flush_every_s=0.0,
            opener=lambda p, mode, **kw: FullDisk(p, mode, HEADER + 400, **kw),
        )
    )
    for i in range(50):  # the inference thread's calls never raise
        r = frame_result(i, [face(1, (0, 0, 50, 50), "angry")])
        r.captured_at = 100.0 + i / 30
        live.on_result(r)
    assert len(errors) == 1 and "disk is full" in errors[0].message
    assert not live.recording and live.stop() is None
    rows = read_csv(tmp_path / "live" / "faces.csv")
    assert float(rows[0]["time_s"]) == 0.0  # times count from the first recorded frame
    assert float(rows[1]["time_s"]) == pytest.approx(1 / 30, abs=1e-3)


def test_annotated_video_shows_the_overlay_and_keeps_the_time_base(tmp_path):
    fps = 10.0
    rec = recorder(tmp_path / "v", fps=fps, video=True)
    frames = {}
    for i in (0, 1, 2, 5, 6, 9):  # 3, 4, 7, 8 not processed: the previous frame stands in
        img = np.full((120, 160, 3), 20 * i, np.uint8)
        frames[i] = img
        rec.add(frame_result(i, [face(1, (40, 30, 120, 110), "happy")], frame=img), i / fps)
    info = rec.finish()
    assert no_recording_threads()
    assert info["outputs"]["video"] == "annotated.mp4"
    cap = cv2.VideoCapture(str(tmp_path / "v" / "annotated.mp4"))
    assert cap.get(cv2.CAP_PROP_FPS) == pytest.approx(fps)
    got = []
    while True:
        ok, img = cap.read()
        if not ok:
            break
        got.append(img)
    cap.release()
    assert len(got) == 10  # frame k is at time k / fps
    shown = [i if i in frames else max(j for j in frames if j < i) for i in range(10)]
    for k, img in enumerate(got):
        background = float(img[113:120, 125:158].mean())  # below and right of box and label
        assert background == pytest.approx(20 * shown[k], abs=6), k
    # the happy box's yellow (BGR 0, 200, 255) left edge is drawn (grey has red == blue)
    for img in got:
        edge = img[60:80, 37:44].astype(int)
        assert (edge[..., 2] - edge[..., 0]).max() > 80


def test_finish_without_frames_writes_an_empty_session(tmp_path):
    rec = recorder(tmp_path / "empty", video=True)
    info = rec.finish(status="finished")
    assert no_recording_threads()
    assert info["frames_processed"] == 0 and info["tracks"] == []
    assert info["outputs"]["video"] is None  # no frame, no video file promised
    assert read_csv(rec.csv_path) == []


def test_the_csv_counts_frames_from_the_start_of_the_recording(tmp_path):
    """A live recording started at engine frame 784: faces.csv starts at frame 0, as time_s and
    annotated.mp4 do (issue 18.7)."""
    rec = recorder(tmp_path / "late", flush_every_s=0.0)
    for i in range(784, 790):
        rec.add(frame_result(i, [face(1, (0, 0, 50, 50), "happy")]), (i - 784) / 30)
    rec.finish()
    rows = read_csv(rec.csv_path)
    assert [int(r["frame"]) for r in rows] == [0, 1, 2, 3, 4, 5]
    assert float(rows[0]["time_s"]) == 0.0
