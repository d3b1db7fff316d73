"""Record in the Live tab, on the real video as the camera: the files match the frames processed,
the timeline fills, the overlay names each face; a full disk stops Record, not the live view."""

from __future__ import annotations

import csv
import errno
import json

import pytest
from PySide6.QtCore import Qt

from fer_desktop.core.sessions.recorder import SessionRecorder
from fer_desktop.core.settings import Settings
from fer_desktop.ui.live.tab import LiveTab

LOAD_MS = 90_000


@pytest.fixture
def tab(qtbot):
    t = LiveTab(settings=Settings(device="cpu"), camera_lister=list)
    qtbot.addWidget(t)
    t.resize(1100, 700)
    t.show()
    yield t
    t.shutdown()


def test_record_writes_every_processed_frame_and_feeds_the_timeline(qtbot, tab, video_path):
    assert not tab.record.record_button.isEnabled()  # nothing to record before Start
    tab.start_source(str(video_path))
    qtbot.waitUntil(lambda: tab.last_result is not None, timeout=LOAD_MS)
    assert tab.record.record_button.isEnabled()
    tab.record.record_button.click()
    assert tab.record.recording and tab.record.record_button.isChecked()
    folder = tab.record.folder
    qtbot.waitUntil(lambda: tab.session.recorder._recorder.frames_processed >= 10, timeout=30_000)
    assert tab.record.marker_button.isEnabled()
    qtbot.keyClick(tab, Qt.Key.Key_M)  # the M key, as a user marks a moment
    qtbot.waitUntil(lambda: tab.session.recorder._recorder.frames_processed >= 30, timeout=30_000)
    tab.record.marker_button.click()
    assert tab.record.status.text().startswith("Marker 2 at ")
    tab.timeline.refresh()
    assert [m[1] for m in tab.timeline.markers] == ["Marker 1", "Marker 2"]
    shown = next(iter(tab.timeline._plots.values()))
    assert [line.label.format for line in shown.marker_lines] == ["Marker 1", "Marker 2"]
    with qtbot.waitSignal(tab.record.saved, timeout=30_000) as saved:
        tab.record.record_button.click()  # stop recording; the live view goes on
    assert tab.session.running and not tab.record.recording
    info = saved.args[0]
    assert json.loads((folder / "session.json").read_text()) == info
    assert info["status"] == "finished" and info["source"] == str(video_path)
    assert [m["name"] for m in info["markers"]] == ["Marker 1", "Marker 2"]
    with open(folder / "markers.csv", newline="") as f:
        marks = list(csv.DictReader(f))
    assert [m["name"] for m in marks] == ["Marker 1", "Marker 2"]
    assert 0 < float(marks[0]["time_s"]) < float(marks[1]["time_s"]) <= info["duration_s"] + 0.5
    assert info["settings"]["smoothing"] == tab.settings.smoothing
    with open(folder / "faces.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    processed = info["frames_processed"]
    assert processed >= 30
    # the real video shows one face in every frame: one row per processed frame from the face's
    # confirmation (seen for 0.5 s) on
    assert len(rows) == len({r["frame"] for r in rows})
    assert processed - int(0.7 * info["fps"]) <= len(rows) < processed
    assert sum(t["frames"] for t in info["tracks"]) == len(rows)
    times = [float(r["time_s"]) for r in rows]
    assert 0.4 <= times[0] <= 0.8 and times == sorted(times)
    assert times[-1] == pytest.approx(info["duration_s"], abs=1e-3)
    # the overlay and the timeline name the same face
    tab.timeline.refresh()
    assert tab.timeline.shown_tracks() == [int(rows[-1]["track_id"])]
    assert tab.record.open_button.isVisible()


class FullDisk:
    def __init__(self, path, mode, **kwargs):
        self._f = open(path, mode, **kwargs)
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        if self.writes > 2:  # the header and one batch fit, then the disk is full
            raise OSError(errno.ENOSPC, "No space left on device")
        return self._f.write(text)

    def flush(self) -> None:
        self._f.flush()

    def close(self) -> None:
        self._f.close()


def test_a_full_disk_stops_the_recording_with_a_message_and_live_goes_on(
    qtbot, tab, video_path, tmp_path
):
    tab.start_source(str(video_path))
    qtbot.waitUntil(lambda: tab.last_result is not None, timeout=LOAD_MS)
    tab.record.record_button.click()
    assert tab.record.recording
    full = SessionRecorder(
        tmp_path / "full", source="x", detector="d", model="m", flush_every_s=0.0, opener=FullDisk
    )
    tab.session.recorder.start(full)  # the same switch, onto a disk that fills up
    with qtbot.waitSignal(tab.session.recording_failed, timeout=30_000):
        pass
    assert "disk is full" in tab.window().last_error
    assert not tab.record.recording and not tab.record.record_button.isChecked()
    assert tab.record.status.full_text().startswith("Stopped: The disk is full")
    seen = tab.last_result
    qtbot.waitUntil(lambda: tab.last_result is not seen, timeout=10_000)  # still running
    assert tab.session.running
    info = json.loads((tmp_path / "full" / "session.json").read_text())
    assert info["status"].startswith("stopped")
