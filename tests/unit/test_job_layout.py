"""A batch job folder's layout (core/jobs/layout.py): stable per-video folders, and a finished video
recognised only when it was finished with the same settings, frames and model bytes (issue 33:
a finished video was not redone after a settings change although the code said it would be)."""

from __future__ import annotations

import csv
import json
from dataclasses import asdict

import pytest

from fer_desktop.core.jobs.layout import (
    RESULT_SETTINGS,
    SUMMARY_COLUMNS,
    JobFolder,
    fingerprint,
    model_files_digest,
    video_key,
)
from fer_desktop.core.settings import Settings


def test_a_video_key_is_its_readable_name_and_a_hash_of_its_full_path(tmp_path):
    a = video_key(str(tmp_path / "day 1" / "interview (2).mp4"))
    assert a.startswith("interview_2_-") and len(a.split("-")[-1]) == 8
    assert video_key(tmp_path / "day 1" / "interview (2).mp4") == a  # str or Path alike
    assert video_key(tmp_path / "day 2" / "interview (2).mp4") != a  # same name, other folder
    assert video_key(tmp_path / ("n" * 100 + ".mp4")).startswith("n" * 60 + "-")
    assert video_key(tmp_path / "%%%.mp4").startswith("_-")
    assert video_key(tmp_path / ".mp4").startswith(".mp4-")  # a dot file keeps its name


def test_the_fingerprint_changes_with_each_result_setting_and_nothing_else():
    base = asdict(Settings())
    fp = fingerprint(base, 1, False)
    assert fingerprint(dict(base), 1, False) == fp and len(fp) == 16
    for key in RESULT_SETTINGS:
        changed = dict(base, **{key: ["changed", key]})
        assert fingerprint(changed, 1, False) != fp, key
    assert fingerprint(base, 2, False) != fp  # every Nth frame
    assert fingerprint(base, 1, True) != fp  # with the annotated video
    assert fingerprint(dict(base, mirror=not base.get("mirror")), 1, False) == fp  # display only
    assert fingerprint(dict(base, theme="dark"), 1, False) == fp


def _done(job: JobFolder, key: str, content) -> None:
    job.video_dir(key).mkdir(parents=True)
    (job.video_dir(key) / "done.json").write_text(
        content if isinstance(content, str) else json.dumps(content), encoding="utf-8"
    )


def test_a_video_is_finished_only_with_the_same_fingerprint(tmp_path):
    job = JobFolder(tmp_path)
    assert job.job_json == tmp_path / "job.json" and job.summary_csv == tmp_path / "summary.csv"
    assert job.video_dir("a") == tmp_path / "videos" / "a"
    _done(job, "a", {"fingerprint": "f1", "frames": 9})
    assert job.finished("a", "f1") == {"fingerprint": "f1", "frames": 9}
    assert job.finished("a", "f2") is None  # settings changed: redone
    assert job.finished("missing", "f1") is None
    _done(job, "broken", "{not json")
    assert job.finished("broken", "f1") is None
    _done(job, "list", [1, 2])
    assert job.finished("list", "f1") is None


def test_job_json_round_trips_and_a_bad_one_reads_as_empty(tmp_path):
    job = JobFolder(tmp_path / "job")
    assert job.read_job() == {}
    job.write_job({"inputs": ["ä.mp4"], "n": 2})
    assert job.read_job() == {"inputs": ["ä.mp4"], "n": 2}
    assert "ä.mp4" in job.job_json.read_text(encoding="utf-8")  # readable, not escaped
    job.job_json.write_text("[1]", encoding="utf-8")
    assert job.read_job() == {}
    job.job_json.write_text("{", encoding="utf-8")
    assert job.read_job() == {}


def test_the_summary_has_the_documented_columns(tmp_path):
    job = JobFolder(tmp_path)
    job.write_summary([{"video": "a.mp4", "status": "done", "track_id": 1, "frames": 3}])
    rows = list(csv.DictReader(job.summary_csv.read_text(encoding="utf-8").splitlines()))
    assert list(rows[0]) == list(SUMMARY_COLUMNS)
    assert rows[0]["video"] == "a.mp4" and rows[0]["frames"] == "3" and rows[0]["note"] == ""


def test_the_model_digest_follows_the_bytes_of_the_files_the_settings_name(tmp_path):
    model = tmp_path / "m.pt"
    model.write_bytes(b"one")
    weights = tmp_path / "w.pt"
    s = Settings(model=str(model), detector_weights=str(weights))
    d1 = model_files_digest(s)
    assert len(d1) == 16 and model_files_digest(s) == d1
    model.write_bytes(b"two")  # same name, new bytes: a new digest
    d2 = model_files_digest(s)
    assert d2 != d1
    (tmp_path / "m.onnx").write_bytes(b"onnx")  # its ONNX twin counts too
    d3 = model_files_digest(s)
    assert d3 != d2
    weights.write_bytes(b"w")  # and the detector's weights
    assert model_files_digest(s) != d3
    default = model_files_digest(Settings())
    assert len(default) == 16 and default != model_files_digest(Settings(model=str(model)))


@pytest.mark.parametrize("field", ["model", "detector_weights", "detect_every", "threshold"])
def test_a_rerun_after_a_result_setting_changes_is_not_taken_as_finished(tmp_path, field):
    """What the batch runner does: the fingerprint of the new settings against done.json."""
    base = asdict(Settings())
    job = JobFolder(tmp_path)
    _done(job, "v", {"fingerprint": fingerprint(base, 1, False)})
    assert job.finished("v", fingerprint(base, 1, False)) is not None
    assert job.finished("v", fingerprint(dict(base, **{field: "other"}), 1, False)) is None


def test_the_fingerprint_is_stable_across_versions():
    """A job folder analysed by this version resumes in the next: the fingerprint of the same
    settings is the same text (a changed formula would redo every finished video)."""
    assert fingerprint({"detector": "yunet", "threshold": 0.5}, 2, True) == "bd280b143beedf2c"
    assert fingerprint({"threshold": 0.5, "detector": "yunet", "theme": "x"}, 2, True) == (
        "bd280b143beedf2c"
    )  # key order and display settings do not matter


def test_a_nameless_input_still_gets_a_folder_name_and_job_json_is_readable(tmp_path):
    assert video_key("") == "video-3a52ce78"
    job = JobFolder(tmp_path)
    job.write_job({"a": 1, "b": [2]})
    assert job.job_json.read_text(encoding="utf-8") == '{\n "a": 1,\n "b": [\n  2\n ]\n}'
