"""A job's inputs and its folder: folders searched recursively, lists of paths, one entry each;
a video folder's name is stable and distinct for two files of the same name."""

from __future__ import annotations

import pytest

from fer_desktop.core.jobs.inputs import expand_inputs
from fer_desktop.core.jobs.layout import JobFolder, fingerprint, video_key
from fer_desktop.core.support.errors import UserError


def test_folders_lists_and_files_expand_in_order_each_once(tmp_path):
    (tmp_path / "study" / "day2").mkdir(parents=True)
    for name in ("study/b.mp4", "study/a.MOV", "study/notes.txt", "study/day2/c.mkv", "x.avi"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "study" / ".hidden.mp4").write_bytes(b"")
    listing = tmp_path / "list.txt"
    listing.write_text("# the pilot\nx.avi\n\nstudy/b.mp4  # again: once only\nmissing.mp4\n")
    got = expand_inputs([tmp_path / "study", listing])
    names = [p.relative_to(tmp_path).as_posix() for p in got]
    assert names == ["study/a.MOV", "study/b.mp4", "study/day2/c.mkv", "x.avi", "missing.mp4"]
    assert all(p.is_absolute() for p in got)  # a missing one stays: the job reports it


def test_an_unreadable_list_is_a_user_error(tmp_path):
    bad = tmp_path / "list.txt"
    bad.write_bytes(b"\xff\xfe\x00broken")
    with pytest.raises(UserError):
        expand_inputs([bad])


def test_video_folders_are_stable_and_distinct(tmp_path):
    a, b = tmp_path / "s1" / "interview.mp4", tmp_path / "s2" / "interview.mp4"
    assert video_key(a) == video_key(a) != video_key(b)
    assert video_key(a).startswith("interview-")
    fp = fingerprint({"threshold": 0.35}, every=1, save_video=False)
    assert fp != fingerprint({"threshold": 0.5}, every=1, save_video=False)
    assert fp != fingerprint({"threshold": 0.35}, every=2, save_video=False)
    job = JobFolder(tmp_path / "job")
    assert job.finished(video_key(a), fp) is None and job.read_job() == {}
