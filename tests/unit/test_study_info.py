"""Participant, condition and note (core/sessions/study.py, issue 30): checked with a message
naming the field, made safe for a folder name, tolerant when read back; `analyze` takes them."""

from __future__ import annotations

import json

import pytest

from fer_desktop.core.sessions.study import MAX_ID, StudyInfo
from fer_desktop.core.support.errors import UserError


def test_the_folder_suffix_keeps_safe_characters_only():
    assert StudyInfo("P01", "A").folder_suffix() == "_P01_A"
    assert StudyInfo("P 01/x", "").folder_suffix() == "_P-01-x"
    assert StudyInfo("", "cond.2").folder_suffix() == "_cond.2"
    assert StudyInfo("../..", "..").folder_suffix() == ""  # nothing left but dots: no suffix
    assert StudyInfo("", "", "a note only").folder_suffix() == ""
    assert len(StudyInfo("x" * 64, "y" * 64).folder_suffix()) == 41
    assert not StudyInfo() and StudyInfo(note="n")


def test_checked_trims_and_names_the_field_that_is_wrong():
    assert StudyInfo(" P01 ", "A\t", " n ").checked() == StudyInfo("P01", "A", "n")
    with pytest.raises(UserError, match="The participant is 65 characters long; at most 64"):
        StudyInfo("p" * (MAX_ID + 1)).checked()
    with pytest.raises(UserError, match="The condition holds a control character"):
        StudyInfo("P01", "A\nB").checked()
    assert StudyInfo(note="line one\nline two").checked().note == "line one\nline two"


def test_what_session_json_says_is_read_back_tolerantly():
    info = StudyInfo("P01", "A", "n")
    assert StudyInfo.from_json(info.to_json()) == info
    assert StudyInfo.from_json(None) == StudyInfo()
    assert StudyInfo.from_json({"participant": 5, "condition": "B"}) == StudyInfo("", "B", "")
    assert StudyInfo.from_json({"participant": "p" * 500}).participant == "p" * MAX_ID


def test_analyze_takes_the_study_fields_into_the_session(tmp_path, video_path, capsys):
    from fer_desktop.cli import main

    out = tmp_path / "s"
    assert main(["analyze", str(video_path), "-o", str(out), "--every", "5", "--detector", "yunet",
                 "--participant", "P02", "--condition", "B", "--note", "retest"]) == 0  # fmt: skip
    capsys.readouterr()
    info = json.loads((out / "session.json").read_text(encoding="utf-8"))
    assert info["study"] == {"participant": "P02", "condition": "B", "note": "retest"}
    assert main(["analyze", str(video_path), "-o", str(tmp_path / "t"), "--participant",
                 "bad\x01id"]) == 2  # fmt: skip
    assert "control character" in capsys.readouterr().err
    assert not (tmp_path / "t").exists()  # refused before anything was written
