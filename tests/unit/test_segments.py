"""Where segments begin and end (core/sessions/segments.py): fixed windows, marker to marker, or
the whole session, with the edge cases a researcher meets (a marker at 0 s, at the very end, past
the end), and rows that take each frame once (issue 33: the bounds were unpinned)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fer_desktop.core.emotions import CLASSES
from fer_desktop.core.sessions.annotations import Annotations, Marker
from fer_desktop.core.sessions.reader import SessionData, TrackTimeline
from fer_desktop.core.sessions.segments import SEGMENT_COLUMNS, bounds, segment_rows, write_segments


def _session(duration: float, marks=(), tracks=None) -> SessionData:
    notes = Annotations(markers=[Marker(t, n) for t, n in marks])
    tracks = tracks or {}
    return SessionData(Path("."), {}, tracks, duration, None, [], notes, dict(tracks))


def _track(tid: int, times, top: str = "happy", name: str = "") -> TrackTimeline:
    times = np.asarray(times, float)
    probs = np.full((len(times), len(CLASSES)), 0.05)
    probs[:, CLASSES.index(top)] = 0.7
    return TrackTimeline(tid, times, np.arange(len(times)), probs, [top] * len(times), name=name)


def test_fixed_windows_cover_the_session_and_the_last_one_ends_at_its_end():
    assert bounds(_session(25.0), 10) == [
        ("0-10 s", 0, 10), ("10-20 s", 10, 20), ("20-25 s", 20, 25.0),
    ]  # fmt: skip
    assert bounds(_session(20.0), 10) == [("0-10 s", 0, 10), ("10-20 s", 10, 20)]
    assert bounds(_session(0.0), 10) == [("0-0 s", 0, 0.0)]  # an empty session: one window
    assert bounds(_session(-1.0), 10) == [("0-0 s", 0, 0.0)]  # a negative duration counts as 0
    assert bounds(_session(3.0), 1.5) == [("0-1.5 s", 0, 1.5), ("1.5-3 s", 1.5, 3.0)]


def test_markers_cut_the_session_and_the_part_before_the_first_is_start():
    s = _session(30.0, [(5.0, "stimulus A"), (12.5, "stimulus B")])
    assert bounds(s) == [("start", 0.0, 5.0), ("stimulus A", 5.0, 12.5), ("stimulus B", 12.5, 30.0)]
    at_zero = _session(30.0, [(0.0, "baseline"), (10.0, "task")])
    assert bounds(at_zero) == [("baseline", 0.0, 10.0), ("task", 10.0, 30.0)]  # no empty "start"
    outside = _session(30.0, [(-1.0, "before"), (30.0, "at the end"), (31.0, "after")])
    assert bounds(outside) == [("start", 0.0, 30.0), ("at the end", 30.0, 30.0)]
    assert bounds(_session(30.0)) == [("whole session", 0.0, 30.0)]
    assert bounds(_session(30.0, [(40.0, "late")])) == [("whole session", 0.0, 30.0)]
    assert bounds(_session(0.5)) == [("whole session", 0.0, 0.5)]


def test_each_frame_is_in_one_segment_and_the_last_segment_keeps_its_end_frame():
    tr = _track(1, [0.0, 4.9, 5.0, 9.0, 10.0], name="Ana")
    rows = segment_rows(_session(10.0, [(5.0, "B")], {1: tr}))
    assert [(r["segment"], r["frames"], r["start_s"], r["end_s"]) for r in rows] == [
        ("start", 2, "0.000", "5.000"), ("B", 3, "5.000", "10.000"),
    ]  # fmt: skip
    assert rows[0]["participant"] == "Ana" and rows[0]["track_id"] == 1
    assert rows[0]["dominant"] == "happy" and rows[0]["share_happy"] == "1.0000"


def test_unsorted_rows_and_odd_labels_count_where_they_belong():
    tr = _track(2, [9.0, 1.0, 6.0, 2.0], top="sad")
    tr.labels = ["sad", "bored", "sad", "uncertain"]  # an unknown label counts as uncertain
    rows = segment_rows(_session(10.0, [(5.0, "B")], {2: tr}))
    assert [r["frames"] for r in rows] == [2, 2]
    assert rows[0]["participant"] == "Face 2"
    assert rows[0]["share_uncertain"] == "1.0000" and rows[1]["share_sad"] == "1.0000"


def test_a_track_with_no_frames_in_a_segment_has_no_row_there(tmp_path):
    a, b = _track(1, [1.0, 2.0]), _track(2, [8.0], top="fear")
    s = _session(10.0, [(5.0, "B")], {2: b, 1: a})
    rows = segment_rows(s)
    assert [(r["segment"], r["track_id"]) for r in rows] == [("start", 1), ("B", 2)]
    out = write_segments(s, tmp_path / "seg.csv")
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ",".join(SEGMENT_COLUMNS) and len(lines) == 3
    assert segment_rows(_session(10.0, [], {3: _track(3, [])})) == []


@pytest.mark.parametrize("window", [None, 2.0])
def test_rows_are_the_same_whatever_order_the_tracks_come_in(window):
    a, b = _track(1, np.arange(0, 10, 0.5)), _track(2, np.arange(0.25, 10, 0.5), top="sad")
    one = segment_rows(_session(10.0, [(3.0, "x")], {1: a, 2: b}), window)
    two = segment_rows(_session(10.0, [(3.0, "x")], {2: b, 1: a}), window)
    assert one == two and sum(r["frames"] for r in one) == 40


def test_the_figures_of_frames_follow_one_rule_whether_kept_or_totalled():
    from fer_desktop.core.sessions.figures import Totals, of_frames

    probs = np.array([[0.1, 0, 0, 0.8, 0.1, 0, 0], [0.1, 0, 0, 0.1, 0.1, 0.7, 0]])
    fig = of_frames(probs, ["happy", "sad"])
    assert fig.frames == 2 and fig.dominant == "happy"  # mean happy 0.45 > sad 0.35
    assert fig.mean.tolist() == pytest.approx([0.1, 0, 0, 0.45, 0.1, 0.35, 0])
    assert fig.shares["happy"] == 0.5 and fig.shares["sad"] == 0.5 and fig.shares["angry"] == 0
    # the mean of each frame's valence (0.7 and -0.6), not the valence of the mean (0.1)
    assert fig.mean_valence == pytest.approx(0.05) and of_frames(probs[:1], ["x"]).mean_valence == (
        pytest.approx(0.7)
    )
    t = Totals()
    for p, lab in zip(probs, ["happy", "sad"]):
        t.add(p, lab)
    assert t.figures().columns() == fig.columns()
    empty = Totals().figures()
    assert empty.frames == 0 and empty.dominant == "uncertain" and empty.mean_valence == 0.0
    assert of_frames(np.zeros((0, 7)), []).columns() == empty.columns()
    with pytest.raises(ValueError, match="2 rows of probabilities but 1 labels"):
        of_frames(probs, ["happy"])
