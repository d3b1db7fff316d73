"""The log file: every failure shown to the user lands in fer-desktop.log with its traceback."""

from __future__ import annotations

import logging
import threading

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMainWindow, QMessageBox

from fer_desktop.core.support.errors import UserError
from fer_desktop.core.support.logs import LOG_NAME, setup_logging
from fer_desktop.core.support.resources import user_data_dir
from fer_desktop.ui.errors import install_excepthooks, show_error
from fer_desktop.workers.tasks import LatestTask


def _flush() -> None:
    for h in logging.getLogger().handlers:
        h.flush()


def _parse_the_settings_file(path):
    raise ValueError(f"bad byte in {path}")


def test_a_failed_background_job_is_shown_and_its_traceback_is_in_the_log(qtbot):
    path = setup_logging()
    assert path == user_data_dir() / LOG_NAME and path.is_file()
    win = QMainWindow()
    qtbot.addWidget(win)
    win.show()
    task = LatestTask("Reading the settings")
    task.failed.connect(lambda err: show_error(win, err))
    with qtbot.waitSignal(task.failed, timeout=5000):
        task.run(_parse_the_settings_file, "broken-settings.json")
    assert task.wait(5)
    # The user sees what failed and which log file to send.
    assert (
        "Reading the settings failed: ValueError: bad byte in broken-settings.json"
        in win.last_error
    )
    assert str(path) in win.last_error
    _flush()
    text = path.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in text
    assert "in _parse_the_settings_file" in text  # the frame where it really failed
    assert "ValueError: bad byte in broken-settings.json" in text
    box = win.findChildren(QMessageBox)[0]
    assert box.button(QMessageBox.StandardButton.Ok).icon().isNull()  # no stray icon on OK


def test_an_uncaught_thread_exception_is_logged_once_and_shown(qtbot):
    path = setup_logging()
    win = QMainWindow()
    qtbot.addWidget(win)
    win.show()
    restore = install_excepthooks()
    try:
        t = threading.Thread(target=lambda: {}["missing-key-4711"], name="crasher")
        t.start()
        t.join()
        # shown: a dialog a person sees, naming what went wrong, and the status bar says it
        qtbot.waitUntil(lambda: bool(_visible_boxes(win)), timeout=5000)
    finally:
        restore()
    (box,) = _visible_boxes(win)
    assert "missing-key-4711" in box.text() + box.informativeText()
    assert "missing-key-4711" in win.statusBar().currentMessage()
    _flush()
    text = path.read_text(encoding="utf-8")
    assert text.count("KeyError: 'missing-key-4711'") == 1  # logged once, with its traceback
    assert "uncaught exception" in text and "Traceback" in text
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not _visible_boxes(win), timeout=5000)  # OK closes it


def _visible_boxes(win) -> list[QMessageBox]:
    return [b for b in win.findChildren(QMessageBox) if b.isVisible()]


def test_a_user_error_without_traceback_is_logged_as_a_warning(qtbot):
    path = setup_logging()
    win = QMainWindow()
    qtbot.addWidget(win)
    show_error(win, UserError("No camera found unique-1234.", "Connect one."))
    _flush()
    line = next(x for x in path.read_text(encoding="utf-8").splitlines() if "unique-1234" in x)
    assert " WARNING " in line


def test_the_command_line_logs_a_failure_with_its_traceback(tmp_path):
    import os
    import subprocess
    import sys

    env = dict(os.environ, FER_DESKTOP_HOME=str(tmp_path / "home"))
    r = subprocess.run(
        [sys.executable, "-m", "fer_desktop", "bench", str(tmp_path / "missing.mp4"),
         "--frames", "2", "--detector", "yunet"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert r.returncode == 2
    assert "error: Video file not found" in r.stderr and r.stderr.count("Video file not found") == 1
    log = (tmp_path / "home" / LOG_NAME).read_text(encoding="utf-8")
    assert "Traceback" in log and "in __init__" in log and "Video file not found" in log
