"""Blinks from a made series of blink scores (core/sessions/blinks.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fer_desktop.core.sessions.blinks import Blink, blink_events, blinks_per_minute


def _series(scores: list[float], fps: float = 30.0):
    t = np.arange(len(scores)) / fps
    s = np.array(scores, np.float64)
    return t, s, s  # both eyes alike


def test_two_blinks_with_their_durations():
    open_, closed = [0.2] * 10, [0.8] * 4
    t, left, right = _series(open_ + closed + open_ + [0.9] * 7 + open_)
    events = blink_events(t, left, right)
    assert events == [Blink(10 / 30, 14 / 30), Blink(24 / 30, 31 / 30)]
    assert [round(e.duration_s, 3) for e in events] == [0.133, 0.233]


def test_the_gap_between_the_thresholds_keeps_a_wavering_score_one_blink():
    """0.45 to 0.55 around the closing threshold: closed once, open only below 0.35."""
    t, left, right = _series([0.2] * 5 + [0.55, 0.45, 0.55, 0.45, 0.55] + [0.2] * 5)
    assert len(blink_events(t, left, right)) == 1
    # one threshold (no gap) would have counted it three times
    assert len(blink_events(t, left, right, open_below=0.5, close_above=0.5)) == 3


def test_the_mean_of_both_eyes_decides_a_wink_is_not_a_blink():
    t = np.arange(20) / 30
    left = np.array([0.2] * 8 + [0.9] * 4 + [0.2] * 8)
    right = np.full(20, 0.1)  # mean 0.5: not above 0.5
    assert blink_events(t, left, right) == []
    assert len(blink_events(t, left, np.full(20, 0.3))) == 1  # mean 0.6


def test_an_unseen_end_is_not_a_blink():
    t, left, right = _series([0.2] * 5 + [0.9] * 3 + [math.nan] + [0.2] * 5)
    assert blink_events(t, left, right) == []  # not measured while closed
    t, left, right = _series([0.2] * 5 + [0.9] * 3)
    assert blink_events(t, left, right) == []  # still closed at the end
    t = np.array([0.0, 0.1, 0.2, 1.5, 1.6])  # the face was lost for 1.3 s while closed
    s = np.array([0.2, 0.9, 0.9, 0.2, 0.2])
    assert blink_events(t, s, s) == []


def test_rate_and_bad_thresholds():
    assert blinks_per_minute([Blink(0, 0.1)] * 3, 60.0) == 3.0
    assert blinks_per_minute([], 0.5) is None
    with pytest.raises(ValueError):
        blink_events([0.0], [0.1], [0.1], close_above=0.3, open_below=0.4)


def test_a_session_from_before_facial_actions_opens_without_them(tmp_path):
    from fer_desktop.core.sessions.layout import CSV_NAME, V4_CSV_COLUMNS
    from fer_desktop.core.sessions.reader import load_session

    row = ["0.000", "0", "1", "10", "10", "60", "60"] + ["0.1428"] * 7
    row += ["neutral", "0.1428", "0.0000", "0.9000"]
    lines = [",".join(V4_CSV_COLUMNS), ",".join(row), ",".join(["0.033", "1", *row[2:]])]
    (tmp_path / CSV_NAME).write_text("\n".join(lines) + "\n", encoding="utf-8")
    session = load_session(tmp_path)
    (track,) = session.tracks.values()
    assert track.actions is None and len(track.times) == 2
    assert np.isnan(track.action("yaw")).all() and np.isnan(track.action("smile")).all()
    assert track.blinks() == []
