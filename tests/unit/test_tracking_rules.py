"""The tracker's documented numbers, each at its edge (issue 33: mutation testing found them
unpinned): the settings' ranges, the size gate, the match radius that grows while a face is
unseen, the prediction horizon, the time-constant smoothing, confirmation after 3 frames over
half a second, and the label band's range."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fer_desktop.core.emotions import CLASSES
from fer_desktop.core.pipeline.tracking import FaceTracker, LabelRule, TrackConfirmer

P = np.full((1, len(CLASSES)), 1.0 / len(CLASSES))


def box(cx: float, cy: float, w: float = 100, h: float | None = None):
    h = w if h is None else h
    return (round(cx - w / 2), round(cy - h / 2), round(cx + w / 2), round(cy + h / 2))


def ids(tr: FaceTracker, boxes, t: float) -> list[int]:
    return [tid for tid, _, _ in tr.update(boxes, np.repeat(P, len(boxes), axis=0), t)]


@pytest.mark.parametrize(
    ("kw", "ok"),
    [({"smoothing": 0.0}, True), ({"smoothing": 0.99}, True), ({"smoothing": 1.0}, False),
     ({"smoothing": -0.01}, False), ({"iou_threshold": 1.0}, True), ({"iou_threshold": 0.0}, False),
     ({"iou_threshold": 1.01}, False), ({"max_missed_s": 0.0}, True), ({"max_missed_s": -0.1}, False),
     ({"max_distance": 0.0}, True), ({"max_distance": -0.1}, False)],
)  # fmt: skip
def test_the_tracker_takes_its_settings_within_their_ranges(kw, ok):
    if ok:
        tr = FaceTracker(**kw)
        for k, v in kw.items():
            assert getattr(tr, k) == v
    else:
        with pytest.raises(ValueError, match=next(iter(kw))):
            FaceTracker(**kw)


def test_other_parts_refuse_settings_outside_their_ranges():
    for bad in ({"min_hits": 0}, {"confirm_s": -0.1}):
        with pytest.raises(ValueError, match="min_hits must be >= 1 and confirm_s >= 0"):
            TrackConfirmer(**bad)
    c = TrackConfirmer(min_hits=1, confirm_s=0.0)
    assert c.public_id(7, 0.0) == 1  # confirmed at once
    for band in (-0.01, 0.5):
        with pytest.raises(ValueError, match="band"):
            LabelRule(band=band)
    assert LabelRule(threshold=0.3, band=0.0).band == 0.0 and LabelRule(band=0.49).band == 0.49
    assert LabelRule().threshold == 0.35 and LabelRule().band == 0.04  # the documented defaults


def test_a_face_may_grow_or_shrink_to_twice_or_half_its_area_between_frames():
    tr = FaceTracker(smoothing=0.0)
    assert ids(tr, [box(200, 200, 100)], 0.0) == [1]
    assert ids(tr, [box(200, 200, 141)], 0.03) == [1]  # area x1.99: the same face
    assert ids(tr, [box(200, 200, 100)], 0.06) == [1]  # x0.50
    assert ids(tr, [box(200, 200, 150)], 0.09) == [2]  # x2.25: another face
    tall = FaceTracker(smoothing=0.0)
    assert ids(tall, [box(200, 200, 100, 100)], 0.0) == [1]
    assert ids(tall, [box(200, 200, 100, 210)], 0.03) == [2]  # the height alone doubles


def test_the_match_radius_grows_a_face_size_per_second_unseen_beyond_a_tenth():
    """Distance 0.9 face sizes: too far for a face seen a frame ago (radius 0.6), close enough
    for one unseen for 0.5 s (0.6 + 1.0 x 0.4 = 1.0)."""
    fresh = FaceTracker(smoothing=0.0)
    for i in range(5):
        ids(fresh, [box(200, 200)], i / 30)
    assert ids(fresh, [box(290, 200)], 4 / 30 + 0.05) == [2]
    unseen = FaceTracker(smoothing=0.0)
    for i in range(5):
        ids(unseen, [box(200, 200)], i / 30)
    assert ids(unseen, [box(290, 200)], 4 / 30 + 0.5) == [1]
    for dx, expected in ((72, [2]), (66, [1])):  # unseen 0.2 s: radius 0.7 face sizes
        edge = FaceTracker(smoothing=0.0, max_distance=0.6)
        for i in range(5):
            ids(edge, [box(200, 200)], i / 30)
        assert ids(edge, [box(200 + dx, 200)], 4 / 30 + 0.2) == expected, dx


def test_a_moving_face_is_looked_for_where_it_should_be_now_not_where_it_was():
    """300 px/s to the right: after 0.3 s unseen it is 90 px further on. Its velocity is a
    running mean (half the newest measurement), and prediction stops at max_missed_s."""
    tr = FaceTracker(smoothing=0.0, max_distance=0.3)
    for i in range(12):
        assert ids(tr, [box(100 + 10 * i, 200, 60)], i / 30) == [1]
    last = 100 + 10 * 11
    assert ids(tr, [box(last + 90, 200, 60)], 11 / 30 + 0.3) == [1]
    still = FaceTracker(smoothing=0.0, max_distance=0.3)
    for i in range(12):
        ids(still, [box(100, 200, 60)], i / 30)
    assert ids(still, [box(190, 200, 60)], 11 / 30 + 0.3) == [2]  # it was not moving


def test_a_glitch_cannot_throw_a_track_across_the_picture():
    """Faster than 10 face sizes a second is detector jitter: the speed is capped, so the
    prediction stays near the face."""
    tr = FaceTracker(smoothing=0.0, max_distance=0.6, iou_threshold=0.3)
    for i in range(5):
        ids(tr, [box(200, 200, 50)], i / 30)
    t = 4 / 30 + 0.01
    assert ids(tr, [box(220, 200, 50)], t) == [1]  # 20 px in 10 ms: 2000 px/s measured
    # capped at 500 px/s: after 0.1 s it is expected 50 px on (not 100: half of 2000 px/s)
    assert ids(tr, [box(265, 200, 50)], t + 0.1) == [1]


def test_smoothing_is_a_weight_per_thirtieth_of_a_second():
    tr = FaceTracker(smoothing=0.5)
    a = np.zeros((1, len(CLASSES)))
    a[0, 0] = 1.0
    b = np.zeros((1, len(CLASSES)))
    b[0, 1] = 1.0
    tr.update([box(200, 200)], a, 0.0)
    (_, _, p), = tr.update([box(200, 200)], b, 1 / 30)  # fmt: skip
    assert p[0] == pytest.approx(0.5) and p[1] == pytest.approx(0.5)
    (_, _, p), = tr.update([box(200, 200)], b, 1 / 30 + 2 / 30)  # fmt: skip
    assert p[0] == pytest.approx(0.125)  # two thirtieths: 0.5 ** 2 of the past
    (_, _, p), = tr.update([box(200, 200)], a, 1 / 30 + 2 / 30)  # fmt: skip
    assert p[0] == pytest.approx(0.125 * 0.5 ** (30 / 240) + (1 - 0.5 ** (30 / 240)))  # same time
    assert FaceTracker(smoothing=0.9).time_constant() == pytest.approx(-1 / (30 * math.log(0.9)))
    assert FaceTracker(smoothing=0.0).time_constant() == 0.0
    assert FaceTracker(smoothing=0.9).past_weight(0.1) == pytest.approx(0.9**3)


def test_probabilities_of_another_shape_replace_the_track_s_own():
    tr = FaceTracker(smoothing=0.9)
    tr.update([box(200, 200)], np.ones((1, 7)) / 7, 0.0)
    (_, _, p), = tr.update([box(200, 200)], np.array([[0.2, 0.8]]), 0.03)  # fmt: skip
    assert p.tolist() == [0.2, 0.8]  # another model's classes: not averaged with the old


def test_wrong_shapes_are_refused_and_an_empty_frame_is_fine():
    tr = FaceTracker()
    with pytest.raises(ValueError, match=r"probs must be \(len\(boxes\), n_classes\)"):
        tr.update([box(1, 1)], np.ones((2, 7)), 0.0)
    with pytest.raises(ValueError):
        tr.update([box(1, 1)], np.ones(7), 0.0)
    assert tr.update([], np.zeros((0, 7)), 0.0) == []
    assert tr.update([], np.zeros(0), 0.1) == []
    tr.update([box(200, 200)], P, 0.2)
    assert tr.track_ids == [1]
    tr.reset()
    assert tr.track_ids == [] and ids(tr, [box(200, 200)], 0.3) == [1]


def test_the_default_clock_is_used_when_no_time_is_given():
    now = [10.0]
    tr = FaceTracker(smoothing=0.0, max_missed_s=1.0, clock=lambda: now[0])
    assert [t for t, _, _ in tr.update([box(200, 200)], P)] == [1]
    now[0] = 12.0  # two seconds later: the track has gone
    assert [t for t, _, _ in tr.update([box(200, 200)], P)] == [2]


def test_a_track_is_confirmed_after_three_frames_over_half_a_second():
    c = TrackConfirmer()
    assert [c.public_id(5, t) for t in (0.0, 0.2, 0.49)] == [None, None, None]
    assert c.public_id(5, 0.5) == 1 and c.public_id(5, 0.6) == 1
    two = TrackConfirmer()
    assert [two.public_id(9, t) for t in (0.0, 0.6)] == [None, None]  # 2 frames: not yet
    assert two.public_id(9, 0.7) == 1
    assert two.public_id(3, 0.0) is None
    two.forget_except({3})
    assert two.public_id(9, 0.8) is None  # forgotten: counts again
    for t in (0.1, 0.2, 0.6):
        two.public_id(3, t)
    assert two.public_id(3, 0.7) == 2  # the next public id
    two.reset()
    assert [two.public_id(3, t) for t in (0.0, 0.3, 0.5)] == [None, None, 1]  # ids start again


def test_the_shown_label_is_forgotten_with_its_track():
    rule = LabelRule(threshold=0.3, band=0.1)
    near = np.array([0.45, 0.4, 0.03, 0.03, 0.03, 0.03, 0.03])
    swapped = np.array([0.4, 0.45, 0.03, 0.03, 0.03, 0.03, 0.03])
    assert rule.decide(1, near) == 0 and rule.decide(1, swapped) == 0  # held in the band
    rule.reset()
    assert rule.decide(1, swapped) == 1  # after a reset: the leader at once
    assert rule.decide(2, near) == 0
    rule.forget_except({1})
    assert rule.decide(2, swapped) == 1
    assert rule.proposal(swapped) == 1 and rule.proposal(swapped, 0) == 0
    assert rule.proposal(swapped, None) == 1  # 0.45 >= 0.3 + 0.1: leaves "uncertain"
    assert rule.proposal(np.array([0.39, 0.35, 0.06, 0.05, 0.05, 0.05, 0.05]), None) is None
    assert rule.proposal(np.array([0.2, 0.5, 0.06, 0.06, 0.06, 0.06, 0.06]), 0) == 1  # 0 fell below
