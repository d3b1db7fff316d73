"""FaceTracker: stable ids through misses, movement and crossings; no mixing; smoothing.

The real video's tracks (exactly one face, one id) are checked in test_analyze.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from fer_desktop.core.emotions import CLASSES
from fer_desktop.core.pipeline.tracking import FaceTracker, iou

HAPPY = CLASSES.index("happy")
SAD = CLASSES.index("sad")
NEUTRAL = CLASSES.index("neutral")


def onehot(index: int, p: float = 0.9) -> np.ndarray:
    v = np.full(len(CLASSES), (1.0 - p) / (len(CLASSES) - 1))
    v[index] = p
    return v


def shift(box, dx, dy):
    x1, y1, x2, y2 = box
    return (round(x1 + dx), round(y1 + dy), round(x2 + dx), round(y2 + dy))


LEFT = (100, 100, 200, 200)
RIGHT = (400, 120, 500, 220)


def ids(out) -> list[int]:
    return [t for t, _, _ in out]


def test_iou():
    assert iou(LEFT, LEFT) == pytest.approx(1.0)
    assert iou(LEFT, RIGHT) == 0.0
    assert iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(50 / 150)


def test_ids_are_one_based_and_stable_as_two_faces_move_slightly():
    tracker = FaceTracker()
    probs = np.stack([onehot(HAPPY), onehot(SAD)])
    first = ids(tracker.update([LEFT, RIGHT], probs, t=0.0))
    assert first == [1, 2]
    for step in range(1, 10):
        boxes = [shift(LEFT, 3 * step, 2 * step), shift(RIGHT, -3 * step, step)]
        out = tracker.update(boxes, probs, t=step / 30)
        assert ids(out) == first
        assert [b for _, b, _ in out] == boxes


@pytest.mark.parametrize("fps", [10, 30, 60])
def test_a_face_keeps_its_id_through_a_miss_of_more_than_half_a_second(fps):
    """Time, not a frame count: 0.7 s without a detection is 7 frames at 10 fps, 42 at 60 fps."""
    tracker = FaceTracker()
    rng = np.random.default_rng(fps)
    frame = 0
    seen = set()
    for n_seen, n_missed in ((fps, round(0.7 * fps)), (fps, round(0.5 * fps)), (fps, 0)):
        for _ in range(n_seen):
            box = shift(LEFT, *rng.integers(-4, 5, 2))  # detector jitter
            seen |= set(ids(tracker.update([box], onehot(HAPPY)[None], t=frame / fps)))
            frame += 1
        for _ in range(n_missed):
            assert tracker.update([], np.zeros((0, len(CLASSES))), t=frame / fps) == []
            frame += 1
    assert seen == {1}


def test_a_moving_face_missed_for_half_a_second_is_found_where_it_went():
    """The face moves 3 face widths per second: after 0.6 s unseen it is 1.8 widths away from
    where it was last seen, and the constant-velocity prediction still finds it."""
    fps, speed = 30, 300.0  # px/s, box 100 px
    tracker = FaceTracker()
    seen = []
    for frame in range(90):
        t = frame / fps
        if 30 <= frame < 48:  # 0.6 s without a detection
            tracker.update([], np.zeros((0, len(CLASSES))), t=t)
            continue
        seen += ids(tracker.update([shift(LEFT, speed * t, 0)], onehot(SAD)[None], t=t))
    assert set(seen) == {1}


def test_after_a_long_absence_a_face_gets_a_new_id():
    tracker = FaceTracker(max_missed_s=1.0)
    assert ids(tracker.update([LEFT], onehot(HAPPY)[None], t=0.0)) == [1]
    assert tracker.update([], np.zeros((0, len(CLASSES))), t=0.9) == []
    assert tracker.track_ids == [1]
    assert tracker.update([], np.zeros((0, len(CLASSES))), t=1.5) == []
    assert tracker.track_ids == []
    ((new_id, _, probs),) = tracker.update([LEFT], onehot(SAD)[None], t=1.6)
    assert new_id == 2
    np.testing.assert_allclose(probs, onehot(SAD))  # a new track starts from raw probabilities


def test_disappeared_face_and_new_far_face_get_different_ids():
    tracker = FaceTracker()
    ((old_id, _, _),) = tracker.update([LEFT], onehot(HAPPY)[None], t=0.0)
    ((new_id, _, _),) = tracker.update([RIGHT], onehot(SAD)[None], t=0.1)
    assert new_id != old_id
    # the old face comes back within the miss window: it keeps its id and its own history
    out = tracker.update([LEFT, RIGHT], np.stack([onehot(HAPPY), onehot(SAD)]), t=0.4)
    assert ids(out) == [old_id, new_id]
    np.testing.assert_allclose(out[0][2], onehot(HAPPY))


def test_two_faces_that_cross_keep_their_ids_even_when_both_are_missed_at_the_crossing():
    """Face A walks right on one row, face B left on the row below (boxes stay 30 px apart
    vertically); their paths cross in x while the detector misses both for 5 frames."""
    fps, speed = 30, 800.0  # px/s: 8 face widths per second, 27 px per frame
    a0, b0 = (100, 100, 200, 200), (1000, 230, 1100, 330)
    tracker = FaceTracker(smoothing=0.8)
    first = None
    crossing = None
    for frame in range(36):
        t = frame / fps
        a, b = shift(a0, speed * t, 0), shift(b0, -speed * t, 0)
        if abs(a[0] - b[0]) < 60:
            crossing = frame
        if 16 <= frame < 21:  # both lost at the crossing: 0.17 s, 1.3 face widths of motion
            tracker.update([], np.zeros((0, len(CLASSES))), t=t)
            continue
        boxes, probs = [a, b], np.stack([onehot(HAPPY), onehot(SAD)])
        if frame % 2:  # the detector lists them in either order
            boxes, probs = boxes[::-1], probs[::-1]
        out = dict(zip(ids(tracker.update(boxes, probs, t=t)), [bx for bx in boxes]))
        by_face = {tid: ("A" if bx[1] == a[1] else "B") for tid, bx in out.items()}
        first = first or by_face
        assert by_face == first, f"frame {frame}"
    assert crossing is not None and 10 < crossing < 26  # the paths really crossed in x
    assert sorted(first) == [1, 2]
    # and no probabilities mixed between the two people
    (pa, pb) = [p for _, _, p in tracker.update([a, b], np.stack([onehot(HAPPY), onehot(SAD)]))]
    assert int(np.argmax(pa)) == HAPPY and int(np.argmax(pb)) == SAD


def test_ids_survive_natural_head_movement_with_jitter_and_random_misses():
    """Two people nodding and turning for 20 s at 30 fps, boxes jittering by a few pixels,
    each missed in 15% of frames (sometimes several in a row): two ids, never more."""
    rng = np.random.default_rng(0)
    fps = 30
    tracker = FaceTracker()
    seen: set[int] = set()
    for frame in range(20 * fps):
        t = frame / fps
        boxes = []
        for base, phase in ((LEFT, 0.0), (RIGHT, 1.3)):
            dx = 40 * np.sin(2 * np.pi * 0.3 * t + phase)  # turning
            dy = 15 * np.sin(2 * np.pi * 0.7 * t + phase)  # nodding
            grow = 6 * np.sin(2 * np.pi * 0.1 * t)  # leaning in and out
            if rng.random() < 0.15 or (frame % 97) < 8:
                continue
            jx, jy = rng.normal(0, 3, 2)
            x1, y1, x2, y2 = shift(base, dx + jx, dy + jy)
            boxes.append((x1 - round(grow), y1 - round(grow), x2 + round(grow), y2 + round(grow)))
        probs = np.stack([onehot(NEUTRAL)] * len(boxes)) if boxes else np.zeros((0, 7))
        seen |= set(ids(tracker.update(boxes, probs, t=t)))
    assert seen == {1, 2}


def test_smoothing_damps_a_one_frame_flip():
    tracker = FaceTracker(smoothing=0.6)
    for i in range(5):
        tracker.update([LEFT], onehot(HAPPY)[None], t=i / 30)
    ((_, _, p),) = tracker.update([shift(LEFT, 2, 0)], onehot(SAD)[None], t=5 / 30)
    assert int(np.argmax(p)) == HAPPY
    assert p.sum() == pytest.approx(1.0)
    # a lasting change does win after a few frames
    for i in range(4):
        ((_, _, p),) = tracker.update([LEFT], onehot(SAD)[None], t=(6 + i) / 30)
    assert int(np.argmax(p)) == SAD


def test_smoothing_zero_passes_raw_probabilities():
    tracker = FaceTracker(smoothing=0.0)
    tracker.update([LEFT], onehot(HAPPY)[None], t=0.0)
    raw = onehot(SAD, 0.7)
    ((_, _, p),) = tracker.update([LEFT], raw[None], t=0.03)
    np.testing.assert_array_equal(p, raw)


def test_swapped_box_order_keeps_ids_and_probabilities_apart():
    tracker = FaceTracker(smoothing=0.8)
    out = tracker.update([LEFT, RIGHT], np.stack([onehot(HAPPY), onehot(SAD)]), t=0.0)
    left_id, right_id = out[0][0], out[1][0]
    for step in range(6):
        boxes = [shift(RIGHT, step, 0), shift(LEFT, step, 0)]  # detector returns them swapped
        out = tracker.update(boxes, np.stack([onehot(SAD), onehot(HAPPY)]), t=(step + 1) / 30)
        assert ids(out) == [right_id, left_id]
        # each track only ever saw its own face: no mixing of the two people's probabilities
        np.testing.assert_allclose(out[0][2], onehot(SAD))
        np.testing.assert_allclose(out[1][2], onehot(HAPPY))


def test_greedy_matching_prefers_the_closest_track():
    tracker = FaceTracker(iou_threshold=0.1)
    a, b = (0, 0, 100, 100), (60, 0, 160, 100)  # two overlapping faces
    (id_a, _, _), (id_b, _, _) = tracker.update(
        [a, b], np.stack([onehot(HAPPY), onehot(SAD)]), t=0.0
    )
    # the new box closest to b is listed first; it must still go to b's track
    out = tracker.update(
        [shift(b, 5, 0), shift(a, -5, 0)], np.stack([onehot(SAD), onehot(HAPPY)]), t=0.03
    )
    assert ids(out) == [id_b, id_a]


def test_a_box_of_a_very_different_size_starts_a_new_track():
    tracker = FaceTracker()
    tracker.update([LEFT], onehot(HAPPY)[None], t=0.0)
    x1, y1, _, _ = LEFT
    ((tid, _, _),) = tracker.update([(x1, y1, x1 + 300, y1 + 300)], onehot(HAPPY)[None], t=0.03)
    assert tid == 2


def test_default_clock_and_validation():
    now = [10.0]
    tracker = FaceTracker(max_missed_s=0.5, clock=lambda: now[0])
    ((first_id, _, _),) = tracker.update([LEFT], onehot(NEUTRAL)[None])
    now[0] = 10.4
    assert tracker.update([], np.zeros((0, len(CLASSES)))) == []
    assert tracker.track_ids == [first_id]
    now[0] = 10.6
    assert tracker.update([], np.zeros((0, len(CLASSES)))) == []
    assert tracker.track_ids == []
    tracker.reset()
    ((tid, _, _),) = tracker.update([LEFT], onehot(NEUTRAL)[None])
    assert tid == 1
    with pytest.raises(ValueError):
        tracker.update([LEFT, RIGHT], onehot(NEUTRAL)[None])
    with pytest.raises(ValueError):
        FaceTracker(smoothing=1.0)
    with pytest.raises(ValueError):
        FaceTracker(max_missed_s=-1)
