"""No dead ends (issue 18): every path a user clicks, through the real MainWindow, its menus,
buttons and dialogs. The tests keep no reference to what the app opens: they look for it among
the windows on screen, as a user would."""

from __future__ import annotations

import gc
import logging
from pathlib import Path

import pytest
from made_sessions import happy_session
from menus import menu_action
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox, QPushButton

from fer_desktop.core.settings import Settings
from fer_desktop.core.support.logs import log_path

LOAD_MS = 90_000


_session = happy_session  # tests/made_sessions.py


def _window(qtbot, **kw):
    from fer_desktop.ui.main_window import MainWindow

    win = MainWindow(Settings(detector="yunet", device="cpu"), **kw)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    return win


_action = menu_action  # the menu bar's action a user would click, by its text


def _session_windows():
    from fer_desktop.ui.sessions.session_view import SessionView

    gc.collect()  # what nobody holds would be gone now
    QApplication.processEvents()
    return [
        w for w in QApplication.topLevelWidgets() if isinstance(w, SessionView) and w.isVisible()
    ]


def _dialogs(win) -> list[QMessageBox]:
    return [b for b in win.findChildren(QMessageBox) if b.isVisible()]


def test_three_errors_in_a_row_each_get_their_dialog_and_no_error_loop(qtbot, tmp_path):
    """A text file renamed .jpg in Photos, OK, then Start in Live with no camera, OK, then again:
    each shows its own dialog; nothing reports a deleted message box; the log stays small."""
    from fer_desktop.ui.errors import install_excepthooks

    fake = tmp_path / "notes.jpg"
    fake.write_text("not a picture")
    restore = install_excepthooks()  # as the app starts: errors in slots reach show_error
    try:
        _three_errors(qtbot, fake)
    finally:
        restore()


def _three_errors(qtbot, fake):
    win = _window(qtbot, preload=False)
    win.tabs.setCurrentWidget(win.photo_tab)
    win.photo_tab.add_paths([fake])
    qtbot.waitUntil(lambda: bool(_dialogs(win)), timeout=LOAD_MS)
    first = _dialogs(win)[0]
    assert "notes.jpg" in first.text()
    qtbot.mouseClick(first.button(QMessageBox.StandardButton.Ok), qtbot_left())
    qtbot.waitUntil(lambda: not _dialogs(win), timeout=5000)
    win.tabs.setCurrentWidget(win.live_tab)
    panel = win.live_tab.panel
    for _ in range(2):
        panel.source_combo.set_cameras([])  # this machine has no camera: "No camera found"
        panel.source_combo.setCurrentIndex(0)
        qtbot.mouseClick(panel.start_button, qtbot_left())
        qtbot.waitUntil(lambda: bool(_dialogs(win)), timeout=5000)
        box = _dialogs(win)[0]
        assert "No camera found" in box.text()
        qtbot.mouseClick(box.button(QMessageBox.StandardButton.Ok), qtbot_left())
        qtbot.waitUntil(lambda: not _dialogs(win), timeout=5000)
    qtbot.wait(300)
    assert "Unexpected error" not in win.statusBar().currentMessage()
    assert all("already deleted" not in e for e in win.errors), win.errors
    for h in logging.getLogger().handlers:
        h.flush()
    assert log_path().stat().st_size < 200_000


def qtbot_left():
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton


def test_file_open_session_opens_a_window_that_stays(qtbot, tmp_path, monkeypatch):
    folder = _session(tmp_path / "s1")
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    win = _window(qtbot, preload=False)
    _action(win, "Open session…").trigger()
    qtbot.waitUntil(lambda: bool(_session_windows()), timeout=5000)
    qtbot.wait(200)
    views = _session_windows()  # still there after the events ran and garbage was collected
    assert len(views) == 1 and sorted(views[0].timelines) == [1]
    views[0].close()


def test_the_record_panel_and_the_videos_tab_open_their_session(qtbot, tmp_path):
    win = _window(qtbot, preload=False)
    record = win.live_tab.record
    record.folder = _session(tmp_path / "recorded")  # as after a recording
    record.open_button.setEnabled(True)
    qtbot.mouseClick(record.open_button, qtbot_left())
    qtbot.waitUntil(lambda: len(_session_windows()) == 1, timeout=5000)
    videos = win.videos_tab
    videos.folder = _session(tmp_path / "analysed")  # as after an analysis
    videos.open_button.setEnabled(True)
    qtbot.mouseClick(videos.open_button, qtbot_left())
    qtbot.waitUntil(lambda: len(_session_windows()) == 2, timeout=5000)
    for view in _session_windows():
        view.close()


def test_every_menu_action_does_something_visible(qtbot, tmp_path, monkeypatch, no_network):
    """Every entry of File, Model, Detector and Help (all of them: an entry this test does not
    know fails it) opens its dialog, switches its tab, changes what it names or says why it is
    greyed; none raises, none blocks. Quit, last, closes the window."""
    from fer_desktop.core.support.errors import UserError

    chosen = {}

    def no_file(*a, **k):
        chosen["asked"] = a[1] if len(a) > 1 else k.get("caption")
        return "", ""

    def offline_fetch(*a, **k):
        raise UserError("No connection to Hugging Face (test).", "Try again when online.")

    monkeypatch.setattr(QFileDialog, "getOpenFileName", no_file)
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", lambda *a, **k: ([], ""))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: "")
    win = _window(qtbot, preload=False)
    win.live_tab._fetch._fetch = offline_fetch  # the download, offline
    seen = set()

    def trigger(text: str):
        seen.add(text)
        act = _action(win, text)
        assert act.isEnabled(), text
        act.trigger()
        return act

    def dialog_says(*words: str) -> None:
        qtbot.waitUntil(lambda: bool(_dialogs(win)), timeout=10_000)
        box = _dialogs(win)[0]
        text = box.text() + box.informativeText()
        assert all(w in text for w in words), text
        box.close()
        qtbot.waitUntil(lambda: not _dialogs(win), timeout=5000)

    trigger("Open video…")
    assert win.tabs.currentWidget() is win.live_tab and chosen.pop("asked") == "Open a video"
    win.tabs.setCurrentWidget(win.videos_tab)
    trigger("Open photos…")
    assert win.tabs.currentWidget() is win.photo_tab
    trigger("Open session…")  # cancelled: nothing opens, nothing breaks
    assert not _session_windows()
    trigger("Open study…")  # cancelled too
    assert not [
        w
        for w in QApplication.topLevelWidgets()
        if w.isVisible() and w.windowTitle().startswith("Study")
    ]
    trigger("Load model…")
    assert chosen.pop("asked") == "Load an emotion model"
    win.settings.model = str(tmp_path / "mine.onnx")
    trigger("Use default model")
    assert win.settings.model == "" and "default" in win.statusBar().currentMessage()
    accurate = _action(win, "Accurate mode for photos and videos")  # greyed, and says why
    seen.add(accurate.text().replace("&", ""))
    assert not accurate.isEnabled() and "ensemble" in accurate.toolTip()
    actions = _action(win, "Facial actions (blendshapes, blinks, head pose)")
    seen.add(actions.text().replace("&", ""))
    if actions.isEnabled():  # where the LiteRT runtime is installed
        assert not win.settings.facial_actions and not actions.isChecked()  # off by default
        actions.trigger()
        assert (
            win.settings.facial_actions and "Facial actions on" in win.statusBar().currentMessage()
        )
        actions.trigger()
        assert not win.settings.facial_actions
    else:
        assert "pip install" in actions.toolTip()
    for key in ("yunet", "auto", "yolo", "yunet"):
        act = next(a for a in win.detector_actions.actions() if a.data() == key)
        seen.add(act.text().replace("&", ""))
        if act.isEnabled():  # YOLOv8 needs PyTorch (the full install)
            act.trigger()
            assert win.settings.detector == key and act.isChecked()
        else:
            assert "PyTorch" in act.toolTip() or "full build" in act.toolTip()
    fetch = _action(win, "Fetch YOLOv8 face detector…")
    seen.add("Fetch YOLOv8 face detector…")
    if fetch.isEnabled():
        fetch.trigger()
        assert win.tabs.currentWidget() is win.live_tab
        dialog_says("No connection to Hugging Face")
    trigger("Where your files are…")
    dialog_says("settings.json")
    trigger("Keyboard and mouse…")
    dialog_says("Ctrl+O", "marker")
    trigger("About fer-desktop")
    dialog_says("fer-desktop", "CK+", "research use")
    everything = {a.text().replace("&", "") for top in win.menuBar().actions()
                  for a in top.menu().actions() if not a.isSeparator()}  # fmt: skip
    assert everything - seen == {"Quit"}  # a new entry needs its check here
    trigger("Quit")
    qtbot.waitUntil(lambda: not win.isVisible(), timeout=10_000)


@pytest.mark.parametrize("slice_run", [True])
def test_use_this_model_asks_first_and_says_what_the_score_is(qtbot, tmp_path, slice_run):
    """ "Use this model" on a quick run: a question that says the score is from a slice; Cancel
    keeps the current model; Yes switches Live and Photos to it."""
    pytest.importorskip("torch")
    from fer_desktop.ui.training.tab import TrainingTab

    from shared_paths import FER_ZIP, needs_fer_zip  # noqa: F401

    if not FER_ZIP.is_file():
        pytest.skip("FER2013 zip not found")
    import subprocess
    import sys

    run = tmp_path / "run"
    subprocess.run(
        [sys.executable, "-m", "fer_training", "--data", str(FER_ZIP), "--arch", "tiny_cnn",
         "--epochs", "1", "--limit", "210", "--out", str(run), "--no-progress", "--prefetch", "0"],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    win = _window(qtbot, preload=False)
    tab = win.training_tab
    assert isinstance(tab, TrainingTab)
    win.tabs.setCurrentWidget(tab)
    assert tab.open_run(str(run))
    assert tab.use_button.isEnabled()
    before = win.settings.model
    qtbot.mouseClick(tab.use_button, qtbot_left())
    qtbot.waitUntil(lambda: bool([b for b in tab.findChildren(QMessageBox) if b.isVisible()]))
    box = next(b for b in tab.findChildren(QMessageBox) if b.isVisible())
    assert "Use run/best.pt" in box.text()
    assert "at most 210 images" in box.informativeText() and "says little" in box.informativeText()
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Cancel), qtbot_left())
    qtbot.wait(100)
    assert win.settings.model == before  # Cancel: nothing changed
    qtbot.mouseClick(tab.use_button, qtbot_left())
    qtbot.waitUntil(lambda: bool([b for b in tab.findChildren(QMessageBox) if b.isVisible()]))
    box = next(b for b in tab.findChildren(QMessageBox) if b.isVisible())
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Yes), qtbot_left())
    qtbot.waitUntil(lambda: win.settings.model.endswith("best.pt"), timeout=5000)
    for btn in win.findChildren(QPushButton):
        assert btn.text() != ""  # nothing lost its label on the way


def test_save_annotated_offers_a_folder_of_its_own_not_the_photos_folder(qtbot, monkeypatch):
    from shared_paths import FACES

    photo = FACES / "obama.jpg"
    if not photo.is_file():
        pytest.skip("test photos not found")
    asked = {}

    def ask(parent, caption, start="", *a, **k):
        asked["start"] = start
        return ""  # the user cancels

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", ask)
    win = _window(qtbot, preload=False)
    win.tabs.setCurrentWidget(win.photo_tab)
    win.photo_tab.add_paths([photo])
    qtbot.waitUntil(lambda: win.photo_tab.save_button.isEnabled(), timeout=LOAD_MS)
    qtbot.mouseClick(win.photo_tab.save_button, qtbot_left())
    assert asked["start"] and Path(asked["start"]) != photo.parent
    assert Path(asked["start"]).name == "annotated" and Path(asked["start"]).is_dir()


def test_the_three_tabs_share_one_context_and_see_one_change(qtbot):
    """Issue 33: one object carries what Live, Photos and Videos share; a menu change of a
    setting is the same change in every tab (no tab keeps a copy)."""
    win = _window(qtbot, preload=False)
    tabs = (win.live_tab, win.photo_tab, win.videos_tab)
    assert all(t.context is tabs[0].context for t in tabs)
    assert all(t.settings is win.settings and t.models is win.models for t in tabs)
    _action(win, "Offline YuNet").trigger()
    assert {t.settings.detector for t in tabs} == {"yunet"}
