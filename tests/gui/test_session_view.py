"""The live timeline widget and the session viewer (timelines, share bars, seeking, PNG export)."""

from __future__ import annotations

import csv
import json
import sys

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QImage

from fer_desktop.core.emotions import CLASSES
from fer_desktop.core.sessions.figures import LABELS
from fer_desktop.core.sessions.reader import load_session
from fer_desktop.core.sessions.recorder import SessionRecorder
from fer_desktop.core.types import FaceResult, FrameResult
from fer_desktop.ui.live.timeline import EmotionTimeline, label_runs
from fer_desktop.ui.sessions.session_view import SessionView, open_session

FPS = 10.0


def face(track_id: int, box, top: str, p: float) -> FaceResult:
    probs = {c: (1 - p) / (len(CLASSES) - 1) for c in CLASSES}
    probs[top] = p
    label = top if p >= 0.4 else "uncertain"
    return FaceResult(box, probs, label, p, "", track_id=track_id)


# ------------------------------------------------------------------------------ live timeline
def test_live_timeline_shows_the_last_window_of_the_recent_faces(qtbot):
    tl = EmotionTimeline(window_s=30.0, max_faces=2, refresh_ms=60_000)
    qtbot.addWidget(tl)
    tl.resize(800, 300)
    tl.show()
    assert tl.shown_tracks() == [] and tl.placeholder.isVisible()
    for i in range(400):  # 40 s at 10 fps; face 3 leaves after 5 s, face 2 arrives at 20 s
        t = 100.0 + i / FPS  # any clock: the chart counts from the first frame
        faces = [face(1, (0, 0, 50, 50), "happy" if i < 300 else "sad", 0.8)]
        if i < 50:
            faces.append(face(3, (100, 0, 150, 50), "fear", 0.7))
        if i >= 200:
            faces.append(face(2, (200, 0, 250, 50), "neutral", 0.6))
        tl.add(t, faces)
    tl.refresh()
    assert tl.shown_tracks() == [1, 2] and tl.view.isVisible()
    plot = tl._plots[1]
    x, y = plot.curves[CLASSES.index("sad")].getData()
    assert x.min() >= -30.0 - 1e-9 and x.max() == pytest.approx(0.0)  # seconds before now
    assert len(x) == 301  # 30 s at 10 fps, both ends included
    assert y[-1] == pytest.approx(0.8) and y[0] == pytest.approx(0.2 / 6)
    assert plot._title.endswith(": sad 80%")  # word for word what the box says
    # the label band: happy, then sad from 10 s ago
    x0, x1, codes = label_runs(*tl._rows[1].since(10.0)[::2], 10.0, 40.0)
    assert [LABELS[c] for c in codes] == ["happy", "sad"]
    assert x0[1] == pytest.approx(30.0, abs=0.1)
    # selecting a face puts it first even when others were seen more recently
    tl.set_selected(2)
    tl.refresh()
    assert tl.shown_tracks() == [2, 1] and "(selected)" in tl._plots[2]._title
    tl.clear()
    assert tl.shown_tracks() == [] and not tl.view.isVisible()


def test_many_timeline_redraws_do_not_break_the_qt_binding(qtbot):
    """PySide6 6.12.0 on Python 3.11 drops a reference to None on every void Qt call, which
    aborts the app after a few thousand calls; a redraw makes hundreds of them."""
    tl = EmotionTimeline(window_s=60.0, max_faces=3, refresh_ms=60_000)
    qtbot.addWidget(tl)
    tl.resize(800, 300)
    tl.show()
    rng = np.random.default_rng(0)
    before = sys.getrefcount(None)
    for i in range(60):
        for k in range(8):
            t = (i * 8 + k) / 30
            p = rng.dirichlet(np.ones(7))
            tl.add(t, [face(j, (0, 0, 9, 9), CLASSES[int(p.argmax())], p.max()) for j in (1, 2, 3)])
        tl.refresh()
        tl.view.repaint()
    assert sys.getrefcount(None) - before > -500


# ------------------------------------------------------------------------------ session viewer
@pytest.fixture(scope="module")
def session_folder(tmp_path_factory, video_path):
    """A real recorded session: 40 frames of the real video (every 2nd one processed), with
    annotated.mp4, two faces with known labels."""
    folder = tmp_path_factory.mktemp("session")
    rec = SessionRecorder(
        folder, source=str(video_path), detector="d", model="m", fps=FPS, video=True
    )
    cap = cv2.VideoCapture(str(video_path))
    for i in range(40):
        ok, frame = cap.read()
        assert ok
        frame = cv2.resize(frame, (320, 180))
        if i % 2:
            continue
        faces = [face(1, (150, 20, 230, 120), "happy" if i < 30 else "sad", 0.8)]
        if i >= 20:
            faces.append(face(2, (20, 20, 80, 90), "neutral", 0.3))  # shown as uncertain
        rec.add(FrameResult(i, faces, frame=frame), i / FPS)
    cap.release()
    rec.finish()
    return folder


def test_session_viewer_shows_each_face_its_shares_and_seeks_the_video(qtbot, session_folder):
    view = SessionView(session_folder)
    qtbot.addWidget(view)
    view.resize(1280, 800)
    view.show()
    qtbot.waitExposed(view)
    assert sorted(view.timelines) == [1, 2]
    assert "processed" in view.header.text() and "smoothed" in view.header.text()
    # face 1: 15 of 20 frames happy, 5 sad; face 2 always uncertain
    bars = view.share_bars[1].opts["width"]
    assert bars[LABELS.index("happy")] == pytest.approx(0.75)
    assert bars[LABELS.index("sad")] == pytest.approx(0.25)
    assert view.share_bars[2].opts["width"][LABELS.index("uncertain")] == pytest.approx(1.0)
    x, y = view.timelines[2].curves[CLASSES.index("neutral")].getData()
    assert list(x) == pytest.approx([i / FPS for i in range(20, 40, 2)])

    # a click on face 1's timeline at 2.5 s shows annotated.mp4's frame 25
    plot = view.timelines[1].plot
    scene_pos = plot.vb.mapViewToScene(QPointF(2.5, 0.5))
    widget_pos = view.charts.mapFromScene(scene_pos)
    with qtbot.waitSignal(view.seeked, timeout=5000) as blocker:
        qtbot.mouseClick(view.charts.viewport(), Qt.MouseButton.LeftButton, pos=widget_pos)
    assert blocker.args[0] == pytest.approx(2.5, abs=0.05)
    assert view.shown_frame == 25
    assert view.cursors[0].value() == pytest.approx(2.5, abs=0.05)
    cap = cv2.VideoCapture(str(session_folder / "annotated.mp4"))
    cap.set(cv2.CAP_PROP_POS_FRAMES, 25)
    ok, expected = cap.read()
    cap.release()
    shown = view.preview._image.convertToFormat(QImage.Format.Format_RGB888)
    arr = np.frombuffer(shown.constBits(), np.uint8).reshape(shown.height(), shown.bytesPerLine())
    arr = arr[:, : shown.width() * 3].reshape(shown.height(), shown.width(), 3)
    assert ok and np.abs(arr[:, :, ::-1].astype(int) - expected).mean() < 2

    out = view.export_png(session_folder / "charts.png")
    img = QImage(str(out))
    assert img.width() == view.charts.width() and img.height() == view.charts.height()
    assert img.width() > 600 and img.height() >= 2 * 150  # both faces' rows
    view.close()


def test_a_crashed_session_opens_with_a_note_and_a_wrong_folder_gets_a_message(
    qtbot, tmp_path, session_folder
):
    crashed = tmp_path / "crashed"
    crashed.mkdir()
    lines = (session_folder / "faces.csv").read_text().splitlines(keepends=True)
    (crashed / "faces.csv").write_text("".join(lines[:11]) + lines[11][:20])  # cut mid-row
    info = json.loads((session_folder / "session.json").read_text())
    (crashed / "session.json").write_text(json.dumps(dict(info, status="recording")))
    data = load_session(crashed)
    assert len(data.tracks[1].times) == 10 and data.video is None
    assert any("did not finish" in p for p in data.problems)
    assert any("1 incomplete row" in p for p in data.problems)
    view = open_session(crashed)  # its own window, deleted when closed
    assert view is not None and view.isVisible()
    assert "did not finish" in view.header.text()
    assert "no annotated video" in view.preview.text()
    view.close()

    not_a_session = tmp_path / "photos"
    not_a_session.mkdir()
    with open(not_a_session / "faces.csv", "w", newline="") as f:
        csv.writer(f).writerow(["image", "face", "label"])  # the Photos tab's CSV
    from PySide6.QtWidgets import QMainWindow

    win = QMainWindow()
    qtbot.addWidget(win)
    assert open_session(not_a_session, win) is None
    assert "columns of a fer-desktop session" in win.last_error
    assert open_session(tmp_path / "missing", win) is None
    assert "not a session folder" in win.last_error
