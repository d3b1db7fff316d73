"""The session window plays a session (issue 30): Play moves the cursor and the video frame in
real time, Space pauses, the scrub bar and the arrow keys move through it, through the real
window opened from File ▸ Open session."""

from __future__ import annotations

from menus import open_session_window
from PySide6.QtCore import Qt


def test_play_pause_scrub_and_step_through_a_session_with_its_video(
    qtbot, tmp_path, monkeypatch, video_path
):
    from fer_desktop.cli import main

    folder = tmp_path / "s"
    assert main(["analyze", str(video_path), "-o", str(folder), "--every", "2", "--video",
                 "--detector", "yunet"]) == 0  # fmt: skip
    _win, view = open_session_window(qtbot, monkeypatch, folder)
    view.activateWindow()
    bar = view.player
    assert bar.play_button.text() == "▶ Play" and view.cursor_s == 0.0
    qtbot.mouseClick(bar.play_button, Qt.MouseButton.LeftButton)
    assert bar.play_button.text() == "❚❚ Pause"
    qtbot.waitUntil(lambda: view.cursor_s > 0.6, timeout=5000)  # real time: about 0.6 s later
    qtbot.waitUntil(lambda: view.shown_frame is not None and view.shown_frame > 0, timeout=5000)
    assert abs(bar.scrub.value() / 1000 - view.cursor_s) < 0.1  # the bar follows the cursor
    assert all(
        abs(line.value() - view.cursor_s) < 1e-6 for line in view.cursors
    )  # the timelines too
    qtbot.keyClick(view, Qt.Key.Key_Space)  # pause
    assert not bar.playing and bar.play_button.text() == "▶ Play"
    paused_at = view.cursor_s
    qtbot.wait(300)
    assert view.cursor_s == paused_at
    bar.scrub.setValue(3000)  # a drag to 3 s
    assert abs(view.cursor_s - 3.0) < 1e-6
    qtbot.waitUntil(lambda: "3.00 s — video frame" in view.time_label.text(), timeout=5000)
    qtbot.keyClick(view, Qt.Key.Key_Right)
    assert abs(view.cursor_s - 4.0) < 1e-6 and bar.scrub.value() == 4000
    qtbot.keyClick(view, Qt.Key.Key_Left, Qt.KeyboardModifier.ShiftModifier)
    assert abs(view.cursor_s - 3.9) < 1e-6
    qtbot.mouseClick(bar.play_button, Qt.MouseButton.LeftButton)  # plays to the end and stops
    qtbot.waitUntil(lambda: not bar.playing, timeout=5000)
    assert abs(view.cursor_s - view.data.duration_s) < 1e-6
    view.close()


def test_a_video_analysed_without_its_annotated_copy_plays_its_source_with_the_overlay(
    qtbot, tmp_path, monkeypatch, video_path
):
    """The Videos tab and `analyze` write no annotated.mp4 by default: the session window shows
    the source video itself, with the boxes and labels drawn from faces.csv."""
    import cv2

    from fer_desktop.cli import main

    folder = tmp_path / "s"
    assert (
        main(["analyze", str(video_path), "-o", str(folder), "--every", "3", "--detector", "yunet"])
        == 0
    )
    assert not (folder / "annotated.mp4").exists()
    _win, view = open_session_window(qtbot, monkeypatch, folder)
    view.player.scrub.setValue(2000)
    qtbot.waitUntil(lambda: "2.00 s — video frame" in view.time_label.text(), timeout=5000)
    assert view.preview.pixmap() is not None and not view.preview.pixmap().isNull()
    index, shown, _ = view.video.read(view.video.index_at(2.0), 2.0)
    cap = cv2.VideoCapture(str(video_path))
    cap.set(cv2.CAP_PROP_POS_FRAMES, index)
    ok, raw = cap.read()
    cap.release()
    assert ok and shown.shape == raw.shape and (shown != raw).any()  # the overlay is drawn on it
    view.close()
    (folder / "session.json").write_text(
        (folder / "session.json")
        .read_text(encoding="utf-8")
        .replace(str(video_path), str(tmp_path / "gone.mp4")),
        encoding="utf-8",
    )  # the source moved away: the window says there is no video, and opens
    _win2, view2 = open_session_window(qtbot, monkeypatch, folder)
    assert view2.video.cap is None and "no annotated video" in view2.preview.text()
    view2.close()
