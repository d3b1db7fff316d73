"""`fer-desktop study` (issue 30): three sessions, two participants, two conditions, into the tidy
table and the study report; every figure checked against numbers computed by hand from the
sessions' own faces.csv files."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pytest
from made_sessions import study_session

from fer_desktop.core.emotions import CLASSES, valence


def _faces(folder: Path) -> list[dict]:
    return list(csv.DictReader((folder / "faces.csv").read_text(encoding="utf-8").splitlines()))


@pytest.fixture
def three_sessions(tmp_path) -> list[Path]:
    return [
        study_session(tmp_path / "s1", "P01", "A", 1, 2.0),
        study_session(tmp_path / "s2", "P02", "A", 2, 2.0),
        study_session(tmp_path / "s3", "P01", "B", 3, 2.0),
    ]


def test_the_tidy_table_and_report_equal_a_hand_count(tmp_path, three_sessions, capsys):
    from fer_desktop.cli import main

    out = tmp_path / "study"
    assert main(["study", *map(str, three_sessions), "-o", str(out), "--baseline", "first:1"]) == 0
    capsys.readouterr()
    rows = list(csv.DictReader((out / "study.csv").read_text(encoding="utf-8").splitlines()))
    # 3 sessions x 2 segments (start, stimulus) x 7 classes
    assert len(rows) == 3 * 2 * 7
    assert {(r["participant_id"], r["condition"]) for r in rows} == {
        ("P01", "A"),
        ("P02", "A"),
        ("P01", "B"),
    }
    for folder in three_sessions:
        faces = _faces(folder)
        t = np.array([float(f["time_s"]) for f in faces])
        probs = np.array([[float(f[c]) for c in CLASSES] for f in faces])
        for segment, mask in (("start", t < 2.0), ("stimulus", t >= 2.0)):
            base = t < 1.0
            for i, c in enumerate(CLASSES):
                (r,) = [r for r in rows if r["session"] == folder.name and r["segment"] == segment
                        and r["class"] == c]  # fmt: skip
                assert int(r["frames"]) == mask.sum()
                assert float(r["mean_probability"]) == pytest.approx(
                    probs[mask, i].mean(), abs=1e-4
                )
                shown = sum(1 for f, k in zip(faces, mask) if k and f["label"] == c)
                assert float(r["share_shown"]) == pytest.approx(shown / mask.sum(), abs=1e-4)
                assert float(r["mean_valence"]) == pytest.approx(
                    valence(probs[mask]).mean(), abs=1e-4
                )
                assert float(r["baseline_mean_probability"]) == pytest.approx(
                    probs[base, i].mean(), abs=1e-4
                )
                assert float(r["corrected_mean_probability"]) == pytest.approx(
                    probs[mask, i].mean() - probs[base, i].mean(), abs=2e-4)  # fmt: skip
                assert float(r["corrected_mean_valence"]) == pytest.approx(
                    valence(probs[mask]).mean() - valence(probs[base]).mean(), abs=2e-4)  # fmt: skip
    # the report: condition A's happy = the mean over P01 and P02 of each one's mean over the
    # whole session (their segments weighted by frames), with a 95% interval across the two
    report = (out / "study.html").read_text(encoding="utf-8")
    per_person = [
        np.array([float(f["happy"]) for f in _faces(s)]).mean() for s in three_sessions[:2]
    ]
    mean = np.mean(per_person)
    half = 1.96 * np.std(per_person, ddof=1) / np.sqrt(2)
    m = re.search(
        r"<td>A</td><td>happy</td><td>([0-9.]+)</td><td>± ([0-9.]+)</td><td>2</td>", report
    )
    assert (
        m
        and float(m.group(1)) == pytest.approx(mean, abs=1e-3)
        and float(m.group(2)) == pytest.approx(half, abs=1e-3)
    )
    assert "<td>B</td><td>happy</td>" in report and "Baseline-corrected" in report


def test_a_marker_baseline_a_job_folder_and_bad_input_say_what_they_do(
    tmp_path, three_sessions, capsys
):
    from fer_desktop.cli import main
    from fer_desktop.core.sessions.study_table import Baseline, study_rows

    rows = study_rows(three_sessions[:1], baseline=Baseline.parse("marker:stimulus"))
    stim = [r for r in rows if r["segment"] == "stimulus"]
    assert all(float(r["corrected_mean_probability"]) == pytest.approx(0, abs=1e-4) for r in stim)
    no_base = study_rows(three_sessions[:1])
    assert all(r["baseline_mean_probability"] == "" for r in no_base)  # no correction: empty
    job = tmp_path / "job" / "videos"
    job.mkdir(parents=True)
    (three_sessions[0]).rename(job / "v1")
    assert len(study_rows([tmp_path / "job"])) == 14  # a batch job's sessions
    assert main(["study", str(tmp_path / "nothing-here"), "-o", str(tmp_path / "o")]) == 2
    assert "holds no session" in capsys.readouterr().err
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    assert main(["study", str(job / "v1"), "-o", str(blocker / "out")]) == 2  # not writable
    assert "Could not write the study" in capsys.readouterr().err
    for bad in ("first:x", "first:-2", "middle:3", "marker:"):
        assert main(["study", str(job / "v1"), "-o", str(tmp_path / "o"), "--baseline", bad]) == 2
        assert "--baseline" in capsys.readouterr().err
