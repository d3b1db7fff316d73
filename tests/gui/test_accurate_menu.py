"""Model ▸ Accurate mode (issues 17, 34), through the real MainWindow. This version ships no
ensemble (none beat the live model by a point): the menu item is disabled and says why. Where a
version ships one (`would_be_accurate`: the v4 teachers), the photos are processed again by it
and the Photos tab says so; Live keeps its fast model."""

from __future__ import annotations

import pytest
from menus import menu_action
from PySide6.QtWidgets import QFileDialog

from fer_desktop.core.settings import Settings

from shared_paths import FACES

LOAD_MS = 90_000


def _face_probs(win) -> dict:
    e = win.photo_tab.current_entry
    return dict(e.result.faces[0].probabilities) if e and e.status == "done" else {}


def test_no_ensemble_ships_so_the_menu_item_is_off_and_says_why(qtbot):
    from fer_desktop.ui.main_window import MainWindow

    win = MainWindow(Settings(detector="yunet", device="cpu"), preload=False)
    qtbot.addWidget(win)
    accurate = menu_action(win, "Accurate mode for photos and videos")
    assert not accurate.isEnabled() and not accurate.isChecked()
    assert "ships no accurate mode" in accurate.toolTip() and "+0.97 points" in accurate.toolTip()


def test_an_old_accurate_setting_goes_back_to_the_live_model_and_says_so(qtbot):
    from fer_desktop.ui.main_window import MainWindow

    win = MainWindow(Settings(detector="yunet", device="cpu", accurate=True))
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: "ships no accurate mode" in win.last_error, timeout=LOAD_MS)
    assert (
        not win.settings.accurate
        and not menu_action(win, "Accurate mode for photos and videos").isChecked()
    )
    qtbot.waitUntil(lambda: win.models.models is not None, timeout=LOAD_MS)


def test_accurate_mode_reprocesses_photos_with_the_ensemble(qtbot, monkeypatch, would_be_accurate):
    from fer_desktop.ui.main_window import MainWindow

    photo = FACES / "obama.jpg"
    if not photo.is_file():
        pytest.skip(f"test photos not found at {FACES}")
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", lambda *a, **k: ([str(photo)], ""))
    win = MainWindow(Settings(detector="yunet", device="cpu"))
    qtbot.addWidget(win)
    win.show()
    status = win.photo_tab.status_label
    menu_action(win, "Open photos…").trigger()
    qtbot.waitUntil(lambda: "1 image(s) processed" in status.text(), timeout=LOAD_MS)
    fast = _face_probs(win)
    assert fast and "Accurate mode" not in status.text()

    accurate = menu_action(win, "Accurate mode for photos and videos")
    assert accurate.isCheckable() and not accurate.isChecked()
    accurate.trigger()
    assert "ensemble" in win.statusBar().currentMessage()
    qtbot.waitUntil(lambda: "Accurate mode: ensemble of" in status.text(), timeout=LOAD_MS)
    assert "v4_teacher_a.onnx" in status.text() and accurate.isChecked()
    slow = _face_probs(win)
    assert fast != slow  # another model answered (both are sure of this face)
    qtbot.waitUntil(lambda: "fer_net" in win.status_labels["model"].text(), timeout=LOAD_MS)
    assert "ensemble" not in win.status_labels["model"].text()  # Live runs the fast model

    accurate.trigger()  # off again: the fast model's answer comes back
    qtbot.waitUntil(
        lambda: "processed" in status.text() and "Accurate" not in status.text(), timeout=LOAD_MS
    )
    qtbot.waitUntil(lambda: _face_probs(win) == fast, timeout=LOAD_MS)
    assert not win.settings.accurate
    qtbot.waitUntil(lambda: not win.models.busy, timeout=LOAD_MS)


def test_accurate_mode_analyses_videos_with_the_ensemble(qtbot, video_path, would_be_accurate):
    """Videos tab after Model ▸ Accurate mode: the session says which models made it."""
    import json

    from fer_desktop.ui.main_window import MainWindow

    win = MainWindow(Settings(detector="yunet", device="cpu"))
    qtbot.addWidget(win)
    win.show()
    menu_action(win, "Accurate mode for photos and videos").trigger()
    tab = win.videos_tab
    win.tabs.setCurrentWidget(tab)
    tab.set_video(str(video_path))
    tab.every_spin.setValue(12)
    with qtbot.waitSignal(tab.finished, timeout=LOAD_MS) as blocker:
        tab.analyse_button.click()
    info = json.loads((blocker.args[0].folder / "session.json").read_text())
    assert info["model"].startswith("ensemble of ") and "v4_teacher_c.onnx" in info["model"]
    assert info["settings"]["accurate"] is True
    menu_action(win, "Accurate mode for photos and videos").trigger()  # leave the setting off
    qtbot.waitUntil(lambda: not win.models.busy, timeout=LOAD_MS)  # its reload ends in the test
