"""The Live tab, driven by the real 720p video as the camera; the view, errors and the main window."""

from __future__ import annotations

import re
import shutil
import threading
import time

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QMainWindow, QMessageBox

from fer_desktop.core.emotions import CLASSES, emoji_for
from fer_desktop.core.render.overlay import draw_faces
from fer_desktop.core.settings import Settings
from fer_desktop.core.types import FaceResult
from fer_desktop.ui.errors import install_excepthooks, show_error
from fer_desktop.ui.live.tab import LiveTab
from fer_desktop.ui.video_view import VideoView, mirror_faces

LOAD_MS = 90_000  # loading torch + the model on a busy 2-core machine


def qimage_to_array(img: QImage) -> np.ndarray:
    img = img.convertToFormat(QImage.Format.Format_RGB888)
    arr = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine())
    return arr[:, : img.width() * 3].reshape(img.height(), img.width(), 3).copy()


def live_threads() -> list[str]:
    return [
        t.name
        for t in threading.enumerate()
        if t.name in ("fer-capture", "fer-inference") and t.is_alive()
    ]


def make_tab(qtbot, settings=None, **kwargs) -> LiveTab:
    kwargs.setdefault("camera_lister", list)
    tab = LiveTab(settings=settings or Settings(detector="yunet", device="cpu"), **kwargs)
    qtbot.addWidget(tab)
    tab.resize(1100, 650)
    tab.show()
    return tab


@pytest.fixture
def tab(qtbot):
    t = make_tab(qtbot)
    qtbot.waitUntil(lambda: t.pipeline is not None, timeout=LOAD_MS)
    yield t
    t.shutdown()


def last_error(widget) -> str:
    return getattr(widget.window(), "last_error", "")


def face(box, label="happy", track_id=1) -> FaceResult:
    probs = {c: (0.88 if c == label else 0.02) for c in CLASSES}
    return FaceResult(
        box=box,
        probabilities=probs,
        label=label,
        confidence=0.88,
        emoji=emoji_for(label),
        track_id=track_id,
    )


# ------------------------------------------------------------------------------ the real video
def test_video_shows_faces_figures_and_stops_cleanly(tab, video_path, qtbot):
    tab.start_source(str(video_path))
    assert tab.is_running()
    qtbot.waitUntil(
        lambda: tab.last_result is not None and len(tab.last_result.faces) >= 1, timeout=30_000
    )
    qtbot.waitUntil(lambda: tab.last_stats.get("inference_fps", 0) > 0, timeout=30_000)
    assert "talking-720p.mp4" in tab.state_label.text()
    # The figures are shown as numbers.
    assert float(tab.figure_labels["inference"].text().split()[0]) > 0
    assert "ms" in tab.figure_labels["latency"].text()
    assert tab.figure_labels["faces"].text().split()[0].isdigit()
    # The bars show the face's seven probabilities.
    assert set(tab.bars.values()) == set(CLASSES)
    assert sum(tab.bars.values().values()) == pytest.approx(1.0, abs=1e-3)
    # The view painted the frame (not just its dark background) with the overlay on it.
    qtbot.waitUntil(lambda: tab.view.displayed_image is not None, timeout=10_000)
    shot = qimage_to_array(tab.view.grab().toImage())
    not_background = np.any(np.abs(shot.astype(int) - (24, 24, 28)) > 30, axis=2).mean()
    assert not_background > 0.4
    qtbot.waitUntil(  # boxes drawn on a copy (once the face is confirmed)
        lambda: not np.array_equal(tab.view.displayed_image, tab.view.frame), timeout=10_000
    )
    tab.stop()  # returns at once; the threads finish in the background
    assert not tab.is_running() and tab.session.engine is None
    assert tab.session.wait(5) and live_threads() == []
    assert tab.start_button.isEnabled() and not tab.stop_button.isEnabled()


def test_short_video_loops_by_default(tab, video_path, qtbot):
    """The 4.5 s clip would be over before a user looked: under 30 s it starts again by default."""
    assert tab.panel.loop_combo.currentData() == "auto"
    tab.start_source(str(video_path))
    qtbot.waitUntil(lambda: tab.last_stats.get("captured", 0) > 160, timeout=60_000)  # 135 frames
    assert tab.is_running() and last_error(tab) == ""
    tab.stop()
    assert tab.session.wait(5) and live_threads() == []


def test_video_end_is_reported_and_the_tab_keeps_working(tab, video_path, qtbot):
    tab.panel.loop_combo.setCurrentIndex(tab.panel.loop_combo.findData("never"))
    assert tab.settings.loop_video == "never"
    with qtbot.waitSignal(tab.session.ended, timeout=60_000):
        tab.start_source(str(video_path))
    assert not tab.is_running()
    assert "ended" in tab.state_label.text().lower()
    assert (
        tab.last_result is not None and tab.last_stats["captured"] > 100
    )  # the whole 4.5 s were read
    assert live_threads() == []
    assert last_error(tab) == ""  # the end of a video is not an error
    tab.start_source(str(video_path))  # play again
    qtbot.waitUntil(lambda: tab.last_result is not None, timeout=30_000)
    tab.stop()
    assert tab.session.wait(5) and live_threads() == []


# ------------------------------------------------------------------------------------ errors
def test_missing_camera_is_a_clear_error(tab, qtbot):
    tab.start_source("99")
    qtbot.waitUntil(lambda: "Camera 99" in last_error(tab), timeout=20_000)
    assert "could not be opened" in last_error(tab)
    assert not tab.is_running() and tab.start_button.isEnabled()
    assert "Camera 99" in tab.state_label.text()


def test_unreachable_stream_fails_in_reasonable_time(tab, qtbot):
    t0 = time.monotonic()
    tab.start_source("rtsp://127.0.0.1:9/none")
    qtbot.waitUntil(lambda: "rtsp://127.0.0.1:9/none" in last_error(tab), timeout=30_000)
    assert time.monotonic() - t0 < 30
    assert "could not be opened" in last_error(tab)
    assert not tab.is_running()


def test_bad_weights_file_is_a_clear_error(qtbot, tmp_path, video_path):
    bad = tmp_path / "bad_weights.pt"
    bad.write_bytes(b"\x00not a checkpoint" * 100)
    tab = make_tab(qtbot, Settings(detector="yunet", device="cpu", model=str(bad)))
    qtbot.waitUntil(lambda: "bad_weights.pt" in last_error(tab), timeout=LOAD_MS)
    assert "fer-train" in last_error(tab)  # what to do: choose a checkpoint written by fer-train
    tab.last_error = ""
    tab.start_source(str(video_path))  # trying to start retries the load and reports again
    qtbot.waitUntil(lambda: "bad_weights.pt" in last_error(tab), timeout=LOAD_MS)
    assert not tab.is_running() and live_threads() == []


def test_no_camera_in_the_list_and_start_says_what_to_do(qtbot):
    tab = make_tab(qtbot, camera_lister=list, preload=False)
    qtbot.waitUntil(lambda: tab.source_combo.itemText(0) == "No camera found", timeout=10_000)
    tab.source_combo.setCurrentIndex(0)
    qtbot.mouseClick(tab.start_button, Qt.MouseButton.LeftButton)
    assert "No camera found" in last_error(tab)
    assert "video file" in last_error(tab)
    assert not tab.is_running()


def test_cameras_present_are_listed(qtbot):
    tab = make_tab(qtbot, camera_lister=lambda: [0, 2], preload=False)
    qtbot.waitUntil(lambda: tab.source_combo.itemText(0) == "Camera 0", timeout=10_000)
    items = [tab.source_combo.itemText(i) for i in range(tab.source_combo.count())]
    assert items == ["Camera 0", "Camera 2", "Video file…", "Stream URL…"]


def test_fetch_detector_offline_error_then_switch_when_cached(qtbot, offline_hub, yolo_face_pt):
    tab = make_tab(qtbot)  # the real fetch code against an empty offline hub cache
    qtbot.waitUntil(lambda: tab.pipeline is not None, timeout=LOAD_MS)
    assert tab.fetch_button.isVisible()  # the offline YuNet detector is in use
    tab.fetch_detector()
    qtbot.waitUntil(lambda: "YOLOv8" in last_error(tab), timeout=20_000)
    assert "HF_HUB_OFFLINE" in last_error(tab)
    assert tab.settings.detector == "yunet" and tab.fetch_button.isEnabled()
    offline_hub.add(yolo_face_pt)  # as if the download had worked
    with qtbot.waitSignal(tab.pipeline_changed, timeout=LOAD_MS) as sig:
        tab.fetch_detector()
    assert tab.settings.detector == "yolo"
    assert "YOLOv8" in sig.args[0]["detector"] and "YOLOv8" in tab.detector_label.text()
    assert not tab.fetch_button.isVisible()
    tab.shutdown()


# ------------------------------------------------------------------------------ the view alone
def test_mirror_flips_frame_and_boxes_but_not_the_text(qtbot):
    view = VideoView()
    qtbot.addWidget(view)
    view.resize(400, 200)
    view.show()
    frame = np.zeros((200, 400, 3), np.uint8)
    frame[:, :200] = (0, 0, 255)  # left half red
    faces = [face((20, 60, 120, 160), track_id=7)]
    view.set_frame(frame, faces)
    plain = view.displayed_image
    assert plain[100, 390].tolist() == [0, 0, 0] and plain[100, 300].tolist() == [0, 0, 0]
    view.set_mirror(True)
    shown = view.displayed_image
    assert shown[100, 390].tolist() == [0, 0, 255]  # red is now on the right
    expected = draw_faces(np.ascontiguousarray(frame[:, ::-1]), mirror_faces(faces, 400))
    assert np.array_equal(shown, expected)  # drawn after flipping: label text reads normally
    assert not np.array_equal(shown, np.ascontiguousarray(plain[:, ::-1]))
    assert frame[:, 200:].max() == 0  # the source frame is never drawn on
    # Clicking the mirrored box (now at x 280..380) selects its track.
    with qtbot.waitSignal(view.face_clicked) as sig:
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=QPoint(330, 110))
    assert sig.args == [7] and view.selected_track == 7
    with qtbot.waitSignal(view.face_clicked) as sig:
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=QPoint(70, 110))
    assert sig.args == [-1] and view.selected_track is None


def test_view_keeps_aspect_ratio(qtbot):
    view = VideoView()
    qtbot.addWidget(view)
    view.resize(800, 800)
    view.show()
    view.set_frame(np.full((100, 200, 3), 255, np.uint8))
    r = view.image_rect()
    assert (r.width(), r.height()) == (800, 400) and r.y() == 200


# -------------------------------------------------------------------------------- show_error
def test_show_error_is_non_blocking_and_recorded(qtbot):
    win = QMainWindow()
    qtbot.addWidget(win)
    win.show()
    from fer_desktop.core.support.errors import UserError

    text = show_error(win.statusBar(), UserError("Camera 3 could not be opened.", "Plug it in."))
    assert win.last_error == text == "Camera 3 could not be opened.\nPlug it in."
    assert win.statusBar().currentMessage() == "Camera 3 could not be opened."
    show_error(win, RuntimeError("second"))
    boxes = win.findChildren(QMessageBox)
    assert len(boxes) == 1 and "2 problems" in boxes[0].text()  # stacked, not piled up
    assert "RuntimeError: second" in boxes[0].informativeText()


def test_excepthook_reports_thread_errors(qtbot):
    win = QMainWindow()
    qtbot.addWidget(win)
    win.show()
    restore = install_excepthooks()
    try:
        t = threading.Thread(target=lambda: 1 / 0, name="crasher")
        t.start()
        t.join()
        qtbot.waitUntil(lambda: "ZeroDivisionError" in getattr(win, "last_error", ""), timeout=5000)
    finally:
        restore()


# ------------------------------------------------------------------------------- main window
def test_main_window_switches_model_and_closes_cleanly(qtbot, video_path, tmp_path, monkeypatch):
    from fer_desktop.core.classify.classifier import default_model_path
    from fer_desktop.ui.main_window import MainWindow

    monkeypatch.setenv("FER_DESKTOP_HOME", str(tmp_path / "home"))  # the saved settings stay here
    win = MainWindow(Settings(detector="yunet", device="cpu"))
    qtbot.addWidget(win)
    win.show()
    tabs = [win.tabs.tabText(i) for i in range(win.tabs.count())]
    assert tabs == ["Live", "Photos", "Videos", "Training"]
    menus = [a.text().replace("&", "") for a in win.menuBar().actions()]
    assert menus == ["File", "Model", "Detector", "Help"]
    qtbot.waitUntil(lambda: "fer_net.pt" in win.status_labels["model"].text(), timeout=LOAD_MS)
    line = win.live_tab.panel.model_label  # the side panel's narrow line, read whole
    assert re.fullmatch(r"fer_net, \d\d\.\d%\u00a0FER\+, \d\d\.\d%\u00a0CK\+", line.text())
    copy = tmp_path / "my_model.pt"
    shutil.copyfile(default_model_path(), copy)
    with qtbot.waitSignal(win.live_tab.pipeline_changed, timeout=LOAD_MS):
        win.training_tab.model_chosen.emit(str(copy))  # "Use this model" in the Training tab
    assert "my_model.pt" in win.status_labels["model"].text()
    assert win.settings.model == str(copy)
    win.live_tab.start_source(str(video_path))
    qtbot.waitUntil(lambda: win.live_tab.last_result is not None, timeout=30_000)
    win.close()
    assert not win.live_tab.is_running() and live_threads() == []
    assert Settings.load().model == str(copy)  # persisted on close


def _window_on_settings_file(qtbot, home, monkeypatch, text: str):
    """The window started on a user folder whose settings.json holds `text`."""
    from fer_desktop.ui.main_window import MainWindow

    home.mkdir()
    monkeypatch.setenv("FER_DESKTOP_HOME", str(home))
    (home / "settings.json").write_text(text)
    win = MainWindow(preload=False)
    qtbot.addWidget(win)
    return win


def test_broken_settings_file_is_reported_kept_and_replaced(qtbot, tmp_path, monkeypatch):
    home = tmp_path / "home"
    win = _window_on_settings_file(
        qtbot, home, monkeypatch, '{"detector": "yunet", "colour": "blue"}'
    )
    assert "Unknown setting(s): colour" in win.last_error
    assert "settings.json.broken" in win.last_error
    assert (home / "settings.json.broken").read_text().startswith('{"detector"')
    assert win.settings == Settings(detector="yunet")  # the good field is kept
    win.close()
    assert Settings.load() == Settings(detector="yunet")  # a valid file again


def test_a_wrongly_typed_setting_is_named_and_only_it_takes_its_default(
    qtbot, tmp_path, monkeypatch
):
    """`"mirror": "no"` is not true (issue 33): one line names the field; the other settings
    are kept; the command line refuses the file with the same line (exit 2)."""
    import subprocess
    import sys

    home = tmp_path / "home"
    win = _window_on_settings_file(
        qtbot, home, monkeypatch, '{"mirror": "no", "threshold": 0.6, "smoothing": "high"}'
    )
    assert 'mirror must be true or false (it is "no")' in win.last_error
    assert "smoothing must be a number" in win.last_error
    assert win.settings.mirror is True and win.settings.threshold == 0.6
    win.close()
    (home / "settings.json").write_text('{"mirror": "no"}')
    out = subprocess.run(
        [sys.executable, "-m", "fer_desktop", "annotate", str(tmp_path / "none.jpg")],
        capture_output=True, text=True, timeout=120,
        env={**__import__("os").environ, "FER_DESKTOP_HOME": str(home)},
    )  # fmt: skip
    assert out.returncode == 2
    assert "mirror must be true or false" in out.stderr and "Traceback" not in out.stderr


def test_live_and_photo_tabs_share_one_set_of_models(qtbot, testdata, tmp_path, monkeypatch):
    from fer_desktop.ui.main_window import MainWindow

    monkeypatch.setenv("FER_DESKTOP_HOME", str(tmp_path / "home"))
    win = MainWindow(Settings(detector="yunet", device="cpu"))
    qtbot.addWidget(win)
    qtbot.waitUntil(lambda: win.live_tab.pipeline is not None, timeout=LOAD_MS)
    with qtbot.waitSignal(win.photo_tab.batch_finished, timeout=LOAD_MS):
        win.photo_tab.add_paths([testdata / "faces" / "two_people.jpg"])
    assert win.photo_tab.entries[0].status == "done"
    live, photo = win.live_tab.pipeline, win.photo_tab.pipeline
    assert live is not photo  # each tab keeps its own tracker state ...
    assert live.classifier is photo.classifier and live.detector is photo.detector  # ... one model
    assert win.models.loads == 1  # loaded once for both tabs
    win.close()


def test_stop_during_slow_inference_never_blocks_the_window(qtbot, video_path):
    from fer_desktop.core.pipeline.shared_models import LoadedModels, load_models

    class SlowClassifier:
        def __init__(self, real):
            self._real, self.inside = real, threading.Event()

        def __getattr__(self, name):
            return getattr(self._real, name)

        def classify(self, frame, boxes, *args, **kwargs):
            self.inside.set()
            time.sleep(1.5)
            return self._real.classify(frame, boxes, *args, **kwargs)

    slow = {}

    def slow_models(settings):
        real = load_models(settings)
        slow["clf"] = SlowClassifier(real.classifier)
        return LoadedModels(real.detector, slow["clf"], real.key)

    tab = make_tab(qtbot, models_loader=slow_models)
    qtbot.waitUntil(lambda: tab.pipeline is not None, timeout=LOAD_MS)
    tab.start_source(str(video_path))
    qtbot.waitUntil(slow["clf"].inside.is_set, timeout=30_000)  # inside a slow classification
    t0 = time.perf_counter()
    qtbot.mouseClick(tab.stop_button, Qt.MouseButton.LeftButton)
    blocked = time.perf_counter() - t0
    assert blocked < 0.1, f"Stop blocked the window for {blocked * 1000:.0f} ms"
    assert not tab.is_running() and tab.start_button.isEnabled()
    assert tab.state_label.text() == "Stopped"
    tab.shutdown()  # the window closing waits for the sleeping inference thread
    assert live_threads() == []
