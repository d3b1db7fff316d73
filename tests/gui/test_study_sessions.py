"""Sessions a study can use (issue 22), through the real MainWindow: a recording with three
markers opened with File > Open session…, a participant named and two tracks merged (kept after
closing and reopening), segments.csv and the report checked against figures computed by hand
from faces.csv; an older session without markers or valence still opens."""

from __future__ import annotations

import csv
import gc
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication, QFileDialog

from fer_desktop.core.emotions import CLASSES
from fer_desktop.core.sessions.layout import V3_CSV_COLUMNS
from fer_desktop.core.sessions.recorder import SessionRecorder
from fer_desktop.core.settings import Settings
from fer_desktop.core.types import FaceResult, FrameResult


def _face(track: int, happy: float, sad: float) -> FaceResult:
    probs = {c: (1 - happy - sad) / 5 for c in CLASSES}
    probs["happy"], probs["sad"] = happy, sad
    label = "happy" if happy > sad else "sad"
    return FaceResult(
        (10 + 60 * track, 10, 60 + 60 * track, 60),
        probs,
        label,
        max(happy, sad),
        "",
        track_id=track,
    )


def _recording(folder: Path) -> Path:
    """Track 1 (0-2 s, happy rising), track 2 (1-3 s, sad), track 3 (3.5-4.5 s: person 1 back);
    markers at 1.0, 2.0 and 3.0 s added while recording."""
    rng = np.random.default_rng(5)
    rec = SessionRecorder(
        folder,
        source="study.mp4",
        detector="YuNet",
        model="fer_net (67.4% on FER2013 PublicTest)",
        fps=10.0,
    )
    for i in range(46):
        t, faces = i / 10, []
        if t <= 2.0:
            faces.append(_face(1, 0.3 + 0.3 * t, 0.1))
        if 1.0 <= t <= 3.0:
            faces.append(_face(2, 0.05, 0.5 + 0.1 * rng.random()))
        if t >= 3.5:
            faces.append(_face(3, 0.7, 0.05))
        rec.add(FrameResult(i, faces), t)
        if i in (10, 20, 30):
            rec.add_marker(t)
    rec.finish()
    return folder


def _window(qtbot):
    from fer_desktop.ui.main_window import MainWindow

    win = MainWindow(Settings(detector="yunet", device="cpu"), preload=False)
    qtbot.addWidget(win)
    win.show()
    return win


def _open(win, monkeypatch, folder: Path):
    from fer_desktop.ui.sessions.session_view import SessionView

    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    for top in win.menuBar().actions():
        for act in top.menu().actions():
            if act.text().replace("&", "") == "Open session…":
                act.trigger()
    gc.collect()
    views = [
        w for w in QApplication.topLevelWidgets() if isinstance(w, SessionView) and w.isVisible()
    ]
    assert len(views) == 1
    return views[0]


def _rows(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_markers_participants_segments_and_report(qtbot, monkeypatch, tmp_path):
    folder = _recording(tmp_path / "session")
    assert [r["name"] for r in _rows(folder / "markers.csv")] == [
        "Marker 1",
        "Marker 2",
        "Marker 3",
    ]
    win = _window(qtbot)
    view = _open(win, monkeypatch, folder)
    study = view.study
    assert [study.markers.item(r, 1).text() for r in range(3)] == [
        "Marker 1",
        "Marker 2",
        "Marker 3",
    ]
    assert all(len(tp.marker_lines) == 3 for tp in view.timelines.values())  # on every chart
    assert len(view.timelines) == 3  # three tracks before the merge

    study.markers.item(1, 1).setText("Question")  # the user edits the name cell
    study.people.item(0, 1).setText("Participant A")
    study.merge_from.setCurrentIndex(study.merge_from.findText("3: Face 3"))  # as a user picks
    study.merge_into.setCurrentIndex(study.merge_into.findText("1: Participant A"))
    study.merge_button.click()
    view = next(w for w in QApplication.topLevelWidgets() if w is view)
    assert (
        len(view.timelines) == 2
        and "Participant A (tracks 1, 3)" in view.timelines[1].plot.titleLabel.text
    )
    view.close()
    gc.collect()

    view = _open(win, monkeypatch, folder)  # reopened: names, merge and markers survived
    study = view.study
    people = {study.people.item(r, 0).text(): (study.people.item(r, 1).text(), study.people.item(r, 2).text())
              for r in range(study.people.rowCount())}  # fmt: skip
    assert people == {"1": ("Participant A", "3"), "2": ("Face 2", "")}
    assert study.markers.item(1, 1).text() == "Question"
    info = json.loads((folder / "session.json").read_text())
    assert info["participants"] == {"names": {"1": "Participant A"}, "merged": {"3": 1}}
    assert info["frames_processed"] == 46  # the recording's own figures are kept

    # By hand, from faces.csv: Participant A (tracks 1 and 3) in the segment "Marker 3" (3.0 s
    # to the end): only track 3's rows, 3.5-4.5 s; and in "Question" (2.0-3.0 s): track 1 at 2.0.
    faces = _rows(folder / "faces.csv")
    mine = [r for r in faces if r["track_id"] in ("1", "3") and float(r["time_s"]) >= 3.0]
    happy = np.mean([float(r["happy"]) for r in mine])
    val = np.mean(
        [
            float(r["happy"]) - max(float(r[c]) for c in ("angry", "disgust", "fear", "sad"))
            for r in mine
        ]
    )
    assert all(
        abs(
            float(r["valence"])
            - (float(r["happy"]) - max(float(r[c]) for c in ("angry", "disgust", "fear", "sad")))
        )
        < 2e-4
        for r in faces
    )

    seg_path, rep_path = tmp_path / "out" / "segments.csv", tmp_path / "out" / "report.html"
    seg_path.parent.mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(seg_path), ""))
    study.segments_button.click()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(rep_path), ""))
    study.report_button.click()
    segs = _rows(seg_path)
    row = next(
        r for r in segs if r["segment"] == "Marker 3" and r["participant"] == "Participant A"
    )
    assert int(row["frames"]) == len(mine)
    assert (
        abs(float(row["mean_happy"]) - happy) < 1e-4
        and abs(float(row["mean_valence"]) - val) < 1e-4
    )
    assert {r["segment"] for r in segs} == {"start", "Marker 1", "Question", "Marker 3"}
    report = rep_path.read_text()
    assert "Participant A" in report and "Question" in report and f"{happy:.0%}" in report
    assert (
        f"{val:+.2f}" in report
        and "<svg" in report
        and not any(x in report for x in ("http", "src=", "url("))
    )
    view.close()
    win.close()

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium:  # the report in a real headless browser: it renders, offline
        png = tmp_path / "report.png"
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1000,1400",
                        f"--screenshot={png}", rep_path.as_uri()], capture_output=True, timeout=120)  # fmt: skip
        assert png.is_file() and png.stat().st_size > 20_000


def test_an_older_session_without_markers_or_valence_still_opens(qtbot, monkeypatch, tmp_path):
    folder = _recording(tmp_path / "old")
    lines = (folder / "faces.csv").read_text().splitlines()
    (folder / "faces.csv").write_text(
        "\n".join(",".join(line.split(",")[: len(V3_CSV_COLUMNS)]) for line in lines) + "\n"
    )
    info = json.loads((folder / "session.json").read_text())
    info.pop("markers", None)
    (folder / "session.json").write_text(json.dumps(info))
    (folder / "markers.csv").unlink()
    win = _window(qtbot)
    view = _open(win, monkeypatch, folder)
    assert view.study.markers.rowCount() == 0 and len(view.timelines) == 3
    assert not view.data.problems
    assert view.data.tracks[1].valence.shape == (21,)  # computed from the probabilities
    view.close()
    win.close()


def test_the_report_command(tmp_path):
    from fer_desktop.cli import main

    folder = _recording(tmp_path / "s")
    assert main(["report", str(folder), "--window", "2"]) == 0
    segs = _rows(folder / "segments.csv")
    assert {r["segment"] for r in segs} == {"0-2 s", "2-4 s", "4-4.5 s"}
    assert (folder / "report.html").read_text().startswith("<!DOCTYPE html>")
    assert main(["report", str(tmp_path)]) == 2  # not a session: a message, not a traceback


@pytest.mark.parametrize("bad", ["time_s,name\nsoon,x\n", "when,what\n1,x\n"])
def test_a_bad_markers_file_is_one_clear_message(tmp_path, bad, capsys):
    from fer_desktop.cli import main

    path = tmp_path / "m.csv"
    path.write_text(bad)
    assert main(["analyze", str(tmp_path / "video.mp4"), "--markers", str(path)]) == 2
    assert "m.csv" in capsys.readouterr().err
