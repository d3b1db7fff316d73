"""File ▸ Open study… (issue 30), through the real window: a folder of three sessions (two
participants, two conditions) shows the per-condition means with their intervals, switches to
baseline-corrected means, and exports study.csv and the report; a folder without sessions says so."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from made_sessions import study_session
from menus import menu_action
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QFileDialog

from fer_desktop.core.settings import Settings


def _study_windows():
    from fer_desktop.ui.sessions.study_window import StudyWindow

    return [
        w for w in QApplication.topLevelWidgets() if isinstance(w, StudyWindow) and w.isVisible()
    ]


def _window(qtbot):
    from fer_desktop.ui.main_window import MainWindow

    win = MainWindow(Settings(detector="yunet", device="cpu"), preload=False)
    qtbot.addWidget(win)
    win.show()
    return win


def test_open_study_shows_group_figures_and_exports_them(qtbot, tmp_path, monkeypatch):
    root = tmp_path / "sessions"
    folders = [study_session(root / "s1", "P01", "A", 1, 2.0), study_session(root / "s2", "P02", "A", 2, 2.0),
               study_session(root / "s3", "P01", "B", 3, 2.0)]  # fmt: skip
    win = _window(qtbot)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(root))
    menu_action(win, "Open study…").trigger()
    qtbot.waitUntil(lambda: len(_study_windows()) == 1, timeout=10_000)
    view = _study_windows()[0]
    assert view.summary.text().startswith("3 session(s), 2 participant(s), 2 condition(s); raw")
    cells = {
        (view.table.item(r, 0).text(), view.table.item(r, 1).text()): r
        for r in range(view.table.rowCount())
    }
    assert len(cells) == 14  # 2 conditions x 7 classes
    # condition A, happy: the mean over P01 and P02 of each one's mean, by hand from faces.csv
    per_person = []
    for f in folders[:2]:
        rows = list(csv.DictReader((f / "faces.csv").read_text(encoding="utf-8").splitlines()))
        per_person.append(np.mean([float(r["happy"]) for r in rows]))
    r = cells[("A", "happy")]
    assert float(view.table.item(r, 2).text()) == pytest.approx(np.mean(per_person), abs=1e-3)
    assert float(view.table.item(r, 3).text()) == pytest.approx(
        1.96 * np.std(per_person, ddof=1) / np.sqrt(2), abs=1e-3)  # fmt: skip
    assert (
        view.table.item(r, 4).text() == "2"
        and view.table.item(cells[("B", "happy")], 4).text() == "1"
    )
    view.baseline.setCurrentIndex(view.baseline.findText("first 5 s"))  # longer than the sessions
    assert "corrected" in view.summary.text()
    assert abs(float(view.table.item(cells[("A", "happy")], 2).text())) < 1e-3  # all baseline
    for name, button in (("study.csv", view.csv_button), ("study.html", view.report_button)):
        monkeypatch.setattr(
            QFileDialog, "getSaveFileName", lambda *a, n=name, **k: (str(tmp_path / n), "")
        )
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        assert (tmp_path / name).is_file()
    header = (tmp_path / "study.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("participant_id,condition,session,track_id,segment")
    assert "Baseline-corrected" in (tmp_path / "study.html").read_text(encoding="utf-8")
    view.close()


def test_a_folder_without_sessions_says_so(qtbot, tmp_path, monkeypatch):
    win = _window(qtbot)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(tmp_path))
    menu_action(win, "Open study…").trigger()
    qtbot.waitUntil(lambda: "holds no session" in win.last_error, timeout=5000)
    assert not _study_windows()
