"""Who and what at record time (issue 30), through the real window: a participant id and a
condition typed above Record go into session.json, the folder's name, segments.csv and the
report a person exports from the session window."""

from __future__ import annotations

import csv
import json

from menus import menu_action, open_session_window, session_windows
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QFileDialog

from fer_desktop.core.settings import Settings

LOAD_MS = 90_000


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
    # Marker kinds…: key 1 marks a "tone", key 2 a "response"
    qtbot.mouseClick(record.kinds_button, Qt.MouseButton.LeftButton)
    dialog = record.kinds_dialog
    qtbot.waitUntil(dialog.isVisible, timeout=5000)
    dialog.table.item(0, 1).setText("tone")
    dialog.table.item(1, 1).setText("response")
    dialog.accept()
    assert win.settings.marker_kinds.startswith("tone|response|")
    # the study's planned onset, imported before Record: an interval of kind 1
    onsets = tmp_path / "onsets.csv"
    onsets.write_text("time_s,name,kind,end_s\n0.1,stimulus A,1,0.3\n", encoding="utf-8")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(onsets), ""))
    qtbot.mouseClick(record.import_button, Qt.MouseButton.LeftButton)
    assert record.import_button.text() == "1 markers to add"
    qtbot.mouseClick(record.record_button, Qt.MouseButton.LeftButton)
    assert record.recording and not record.participant_edit.isEnabled()  # fixed for the recording
    frames = lambda: live.session.recorder._recorder.frames_processed  # noqa: E731
    qtbot.waitUntil(lambda: frames() >= 22, timeout=30_000)
    win.activateWindow()  # the keys go to the Live tab, as after a click on it
    qtbot.waitUntil(lambda: QApplication.activeWindow() is win, timeout=5000)
    record.record_button.setFocus()
    qtbot.keyClick(live, Qt.Key.Key_2)  # a response
    qtbot.waitUntil(lambda: frames() >= 32, timeout=30_000)
    qtbot.keyClick(live, Qt.Key.Key_1)  # a tone
    qtbot.waitUntil(lambda: frames() >= 45, timeout=30_000)
    with qtbot.waitSignal(record.saved, timeout=30_000) as saved:
        qtbot.mouseClick(record.record_button, Qt.MouseButton.LeftButton)
    folder = record.folder
    assert folder.name.endswith("_P01_A-loud") and record.participant_edit.isEnabled()
    info = json.loads((folder / "session.json").read_text(encoding="utf-8"))
    assert info == saved.args[0]
    assert info["study"] == {"participant": "P01", "condition": "A / loud", "note": "first run"}
    marks = info["markers"]
    assert [(m["name"], m.get("kind", 0)) for m in marks] == [
        ("stimulus A", 1), ("response", 2), ("tone", 1)]  # fmt: skip
    assert marks[0]["end_s"] == 0.3 and marks[0]["time_s"] == 0.1
    markers_csv = (folder / "markers.csv").read_text(encoding="utf-8").splitlines()
    assert (
        markers_csv[0] == "time_s,name,kind,end_s" and markers_csv[1] == "0.100,stimulus A,1,0.300"
    )

    qtbot.mouseClick(record.open_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(session_windows()) == 1, timeout=10_000)
    view = session_windows()[0]
    assert "participant P01, condition A / loud, note first run" in view.header.text()
    view.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is view, timeout=5000)
    qtbot.keyClick(view, Qt.Key.Key_Space)  # play
    qtbot.waitUntil(lambda: view.cursor_s > 0.3, timeout=5000)
    qtbot.keyClick(view, Qt.Key.Key_Space)  # pause
    view.player.scrub.setValue(500)  # scrub to 0.5 s
    assert abs(view.cursor_s - 0.5) < 1e-6 and not view.player.playing
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
    assert [r["segment"] for r in rows] == [
        "stimulus A",
        "response",
        "tone",
    ]  # no face before 0.5 s
    report = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "P01" in report and "A / loud" in report and "first run" in report
    assert all(name in report for name in ("stimulus A", "response", "tone"))
    view.close()


def test_a_markers_file_without_its_columns_says_so_and_adds_nothing(qtbot, tmp_path, monkeypatch):
    from made_sessions import happy_session

    folder = happy_session(tmp_path / "s")
    _win, view = open_session_window(qtbot, monkeypatch, folder)
    bad = tmp_path / "onsets.csv"
    bad.write_text("onset,label\n1.0,A\n", encoding="utf-8")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(bad), ""))
    qtbot.mouseClick(view.study.import_markers_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: "has no time_s and name columns" in getattr(view, "last_error", ""), timeout=5000
    )
    assert view.study.markers.rowCount() == 0
    assert (
        "markers" not in json.loads((folder / "session.json").read_text(encoding="utf-8"))
        or not json.loads((folder / "session.json").read_text(encoding="utf-8"))["markers"]
    )
    view.close()
