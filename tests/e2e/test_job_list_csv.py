"""A study's videos as one batch job (issue 30): a CSV job list with video, participant,
condition and note columns; each session, the job's summary.csv and `fer-desktop study` on the
job folder carry who and what each video is."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

from fer_desktop.core.jobs.inputs import expand_inputs_with_study


def test_a_csv_job_list_gives_each_video_its_participant_and_condition(
    tmp_path, video_path, capsys
):
    from fer_desktop.cli import main

    for name in ("a.mp4", "b.mp4"):
        shutil.copy(video_path, tmp_path / name)
    jobs = tmp_path / "jobs.csv"
    jobs.write_text(
        "video,participant,condition,note\na.mp4,P01,A,first\nb.mp4,P02,B,\n", encoding="utf-8"
    )
    videos, study = expand_inputs_with_study([jobs])
    assert [v.name for v in videos] == ["a.mp4", "b.mp4"]
    assert study[videos[1]] == {"participant": "P02", "condition": "B", "note": ""}
    out = tmp_path / "job"
    assert (
        main(
            [
                "analyze",
                str(jobs),
                "-o",
                str(out),
                "--workers",
                "1",
                "--every",
                "10",
                "--detector",
                "yunet",
            ]
        )
        == 0
    )
    capsys.readouterr()
    job = json.loads((out / "job.json").read_text(encoding="utf-8"))
    infos = {Path(e["input"]).name: json.loads((out / "videos" / e["key"] / "session.json").read_text(encoding="utf-8"))
             for e in job["videos"]}  # fmt: skip
    assert infos["a.mp4"]["study"] == {"participant": "P01", "condition": "A", "note": "first"}
    assert infos["b.mp4"]["study"]["participant"] == "P02"
    rows = list(csv.DictReader((out / "summary.csv").read_text(encoding="utf-8").splitlines()))
    assert {(Path(r["video"]).name, r["participant_id"], r["condition"]) for r in rows} == {
        ("a.mp4", "P01", "A"), ("b.mp4", "P02", "B")}  # fmt: skip
    assert main(["study", str(out), "-o", str(tmp_path / "study")]) == 0
    capsys.readouterr()
    table = list(
        csv.DictReader((tmp_path / "study" / "study.csv").read_text(encoding="utf-8").splitlines())
    )
    assert {(r["participant_id"], r["condition"]) for r in table} == {("P01", "A"), ("P02", "B")}


def test_a_csv_job_list_without_a_video_column_or_with_a_bad_id_says_so(tmp_path, capsys):
    from fer_desktop.cli import main

    bad = tmp_path / "jobs.csv"
    bad.write_text("file,participant\na.mp4,P01\n", encoding="utf-8")
    assert main(["analyze", str(bad), "-o", str(tmp_path / "j")]) == 2
    assert "has no video column" in capsys.readouterr().err
    bad.write_text("video,participant\na.mp4,P\x0101\n", encoding="utf-8")
    assert main(["analyze", str(bad), "-o", str(tmp_path / "j")]) == 2
    assert "line 2: The participant holds a control character" in capsys.readouterr().err
