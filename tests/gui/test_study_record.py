"""Who and what at record time (issue 30), through the real window: a participant id and a
condition typed above Record go into session.json, the folder's name, segments.csv and the
report a person exports from the session window."""

from __future__ import annotations

import csv
import json

from menus import menu_action
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QFileDialog

from fer_desktop.core.settings import Settings

LOAD_MS = 90_000


def _session_windows():
    from fer_desktop.ui.sessions.session_view import SessionView

    return [
        w for w in QApplication.topLevelWidgets() if isinstance(w, SessionView) and w.isVisible()
    ]


def test_participant_and_condition_typed_at_record_reach_every_export(
    qtbot, tmp_path, monkeypatch, video_path
):
    from fer_desktop.ui.main_window import MainWindow

    win = MainWindow(Settings(detector="yunet", device="cpu"), preload=False)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(video_path), ""))
    menu_action(win, "Open video…").trigger()
    live = win.live_tab
    qtbot.waitUntil(lambda: live.last_result is not None, timeout=LOAD_MS)
    record = live.record
    qtbot.keyClicks(record.participant_edit, "P01")
    qtbot.keyClicks(record.condition_edit, "A / loud")  # "/" cannot go into a folder name
    qtbot.keyClicks(record.note_edit, "first run")
    qtbot.mouseClick(record.record_button, Qt.MouseButton.LeftButton)
    assert record.recording and not record.participant_edit.isEnabled()  # fixed for the recording
    qtbot.waitUntil(lambda: live.session.recorder._recorder.frames_processed >= 30, timeout=30_000)
    with qtbot.waitSignal(record.saved, timeout=30_000) as saved:
        qtbot.mouseClick(record.record_button, Qt.MouseButton.LeftButton)
    folder = record.folder
    assert folder.name.endswith("_P01_A-loud") and record.participant_edit.isEnabled()
    info = json.loads((folder / "session.json").read_text(encoding="utf-8"))
    assert info == saved.args[0]
    assert info["study"] == {"participant": "P01", "condition": "A / loud", "note": "first run"}

    qtbot.mouseClick(record.open_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(_session_windows()) == 1, timeout=10_000)
    view = _session_windows()[0]
    assert "participant P01, condition A / loud, note first run" in view.header.text()
    panel = view.study
    for name in ("segments.csv", "report.html"):
        monkeypatch.setattr(QFileDialog, "getSaveFileName",
                            lambda *a, n=name, **k: (str(tmp_path / n), ""))  # fmt: skip
        button = panel.segments_button if name == "segments.csv" else panel.report_button
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil((tmp_path / name).is_file, timeout=10_000)
    rows = list(
        csv.DictReader((tmp_path / "segments.csv").read_text(encoding="utf-8").splitlines())
    )
    assert rows and {(r["participant_id"], r["condition"]) for r in rows} == {("P01", "A / loud")}
    report = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "P01" in report and "A / loud" in report and "first run" in report
    view.close()
