"""The session window's Facial actions tab (issue 31), through the real window: a video analysed
with facial actions shows its curves and counts its blinks; a session without them says so."""

from __future__ import annotations

import pytest
from menus import open_session_window
from PySide6.QtWidgets import QFileDialog


def _open(qtbot, monkeypatch, folder):
    _win, view = open_session_window(qtbot, monkeypatch, folder)
    panel = view.study
    panel.setCurrentWidget(panel.actions_view)  # the "Facial actions" tab, as a click on it does
    assert panel.tabText(panel.currentIndex()) == "Facial actions"
    return _win, view, panel.actions_view


def test_the_facial_actions_tab_shows_the_curves_of_an_analysed_video(
    qtbot, tmp_path, monkeypatch, video_path
):
    from fer_desktop.core.classify import facial_actions

    if not facial_actions.available():
        pytest.skip(facial_actions.runtime_problem())
    from fer_desktop.cli import main

    folder = tmp_path / "s"
    assert main(["analyze", str(video_path), "-o", str(folder), "--every", "3", "--detector",
                 "yunet", "--facial-actions"]) == 0  # fmt: skip
    _win, view, tab = _open(qtbot, monkeypatch, folder)
    names = [item.name() for item in tab.shapes.listDataItems()]
    assert names == [
        "smile (mouthSmile L+R)",
        "brow raise (browInnerUp)",
        "jaw open",
        "blink (both eyes)",
    ]
    assert [i.name() for i in tab.pose.listDataItems()] == ["yaw", "pitch", "roll"]
    xs, ys = tab.shapes.listDataItems()[0].getData()
    assert len(xs) > 20 and ((ys >= 0) & (ys <= 1)).all()  # scores, 0-1
    assert "frames measured" in tab.summary.text() and "blink(s)" in tab.summary.text()
    # segments.csv carries each measure's mean over the frames measured (issue 31), by hand:
    import csv

    from fer_desktop.core.sessions.segments import segment_rows

    faces = list(csv.DictReader((folder / "faces.csv").read_text(encoding="utf-8").splitlines()))
    measured = [float(f["bs_jawOpen"]) for f in faces if f["bs_jawOpen"] != ""]
    (row,) = segment_rows(view.data)
    assert float(row["mean_bs_jawOpen"]) == pytest.approx(sum(measured) / len(measured), abs=1e-4)
    assert float(row["mean_yaw"]) == pytest.approx(
        sum(float(f["yaw"]) for f in faces if f["yaw"] != "") / len(measured), abs=1e-3)  # fmt: skip
    report = _export_report(qtbot, monkeypatch, view, tmp_path)
    assert "<h2>Facial actions</h2>" in report and "<th>smile</th>" in report
    view.close()


def _export_report(qtbot, monkeypatch, view, tmp_path) -> str:
    from PySide6.QtCore import Qt

    out = tmp_path / "report.html"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    qtbot.mouseClick(view.study.report_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(out.is_file, timeout=10_000)
    return out.read_text(encoding="utf-8")


def test_a_session_without_facial_actions_says_so(qtbot, tmp_path, monkeypatch):
    from made_sessions import happy_session

    folder = happy_session(tmp_path / "old")
    _win, view, tab = _open(qtbot, monkeypatch, folder)
    assert tab.summary.text().startswith("This session has no facial actions")
    assert not tab.shapes.listDataItems()
    from fer_desktop.core.sessions.segments import segment_rows

    assert all("mean_bs_jawOpen" not in r for r in segment_rows(view.data))  # nothing measured
    assert "Facial actions" not in _export_report(qtbot, monkeypatch, view, tmp_path)
    view.close()
