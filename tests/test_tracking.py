"""FaceTracker: stable ids, no mixing between people, smoothing of probabilities."""

from __future__ import annotations

import numpy as np
import pytest

from fer_desktop.core.emotions import CLASSES
from fer_desktop.core.tracking import FaceTracker, iou

HAPPY = CLASSES.index("happy")
SAD = CLASSES.index("sad")
NEUTRAL = CLASSES.index("neutral")


def onehot(index: int, p: float = 0.9) -> np.ndarray:
    v = np.full(len(CLASSES), (1.0 - p) / (len(CLASSES) - 1))
    v[index] = p
    return v


def shift(box, dx, dy):
    x1, y1, x2, y2 = box
    return (x1 + dx, y1 + dy, x2 + dx, y2 + dy)


LEFT = (100, 100, 200, 200)
RIGHT = (400, 120, 500, 220)


def test_iou():
    assert iou(LEFT, LEFT) == pytest.approx(1.0)
    assert iou(LEFT, RIGHT) == 0.0
    assert iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(50 / 150)


def test_ids_stable_as_two_faces_move_slightly():
    tracker = FaceTracker()
    probs = np.stack([onehot(HAPPY), onehot(SAD)])
    first = tracker.update([LEFT, RIGHT], probs)
    ids = [t for t, _, _ in first]
    assert len(set(ids)) == 2
    for step in range(1, 10):
        boxes = [shift(LEFT, 3 * step, 2 * step), shift(RIGHT, -3 * step, step)]
        out = tracker.update(boxes, probs)
        assert [t for t, _, _ in out] == ids
        assert [b for _, b, _ in out] == boxes


def test_disappeared_face_and_new_far_face_get_new_id():
    tracker = FaceTracker(max_missed=2)
    ((old_id, _, _),) = tracker.update([LEFT], onehot(HAPPY)[None])
    ((new_id, _, probs),) = tracker.update([RIGHT], onehot(SAD)[None])
    assert new_id != old_id
    np.testing.assert_allclose(probs, onehot(SAD))  # a new track starts from raw probabilities
    # the old face comes back within max_missed frames: it keeps its id and its own history
    out = tracker.update([LEFT, RIGHT], np.stack([onehot(HAPPY), onehot(SAD)]))
    assert [t for t, _, _ in out] == [old_id, new_id]
    # after more than max_missed frames without it, the old track is forgotten
    for _ in range(3):
        tracker.update([RIGHT], onehot(SAD)[None])
    (again_id, _, _), _ = tracker.update([LEFT, RIGHT], np.stack([onehot(HAPPY), onehot(SAD)]))
    assert again_id not in (old_id, new_id)


def test_smoothing_damps_a_one_frame_flip():
    tracker = FaceTracker(smoothing=0.6)
    for _ in range(5):
        tracker.update([LEFT], onehot(HAPPY)[None])
    ((_, _, p),) = tracker.update([shift(LEFT, 2, 0)], onehot(SAD)[None])  # one noisy frame
    assert int(np.argmax(p)) == HAPPY
    assert p.sum() == pytest.approx(1.0)
    # a lasting change does win after a few frames
    for _ in range(4):
        ((_, _, p),) = tracker.update([LEFT], onehot(SAD)[None])
    assert int(np.argmax(p)) == SAD


def test_smoothing_zero_passes_raw_probabilities():
    tracker = FaceTracker(smoothing=0.0)
    tracker.update([LEFT], onehot(HAPPY)[None])
    raw = onehot(SAD, 0.7)
    ((_, _, p),) = tracker.update([LEFT], raw[None])
    np.testing.assert_array_equal(p, raw)


def test_swapped_box_order_keeps_ids_and_probabilities_apart():
    tracker = FaceTracker(smoothing=0.8)
    out = tracker.update([LEFT, RIGHT], np.stack([onehot(HAPPY), onehot(SAD)]))
    left_id, right_id = out[0][0], out[1][0]
    for step in range(6):
        boxes = [shift(RIGHT, step, 0), shift(LEFT, step, 0)]  # detector returns them swapped
        out = tracker.update(boxes, np.stack([onehot(SAD), onehot(HAPPY)]))
        assert [t for t, _, _ in out] == [right_id, left_id]
        # each track only ever saw its own face: no mixing of the two people's probabilities
        np.testing.assert_allclose(out[0][2], onehot(SAD))
        np.testing.assert_allclose(out[1][2], onehot(HAPPY))


def test_greedy_matching_prefers_highest_iou():
    tracker = FaceTracker(iou_threshold=0.1)
    a, b = (0, 0, 100, 100), (60, 0, 160, 100)  # two overlapping faces
    (id_a, _, _), (id_b, _, _) = tracker.update([a, b], np.stack([onehot(HAPPY), onehot(SAD)]))
    # the new box closest to b is listed first; it must still go to b's track
    out = tracker.update([shift(b, 5, 0), shift(a, -5, 0)], np.stack([onehot(SAD), onehot(HAPPY)]))
    assert [t for t, _, _ in out] == [id_b, id_a]


def test_empty_frames_reset_and_validation():
    tracker = FaceTracker(max_missed=1)
    ((first_id, _, _),) = tracker.update([LEFT], onehot(NEUTRAL)[None])
    assert tracker.update([], np.zeros((0, len(CLASSES)))) == []
    assert tracker.track_ids == [first_id]
    assert tracker.update([], np.zeros((0, len(CLASSES)))) == []
    assert tracker.track_ids == []
    tracker.reset()
    ((tid, _, _),) = tracker.update([LEFT], onehot(NEUTRAL)[None])
    assert tid == 1
    with pytest.raises(ValueError):
        tracker.update([LEFT, RIGHT], onehot(NEUTRAL)[None])
    with pytest.raises(ValueError):
        FaceTracker(smoothing=1.0)
