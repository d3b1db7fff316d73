"""The classifier's face crop: square around the box, calibrated per detector, eyes levelled."""

from __future__ import annotations

import cv2
import numpy as np

from fer_desktop.core.classify.crops import CropSpec, crop_face, square_crop_box
from fer_desktop.core.detectors import YuNetFaceDetector
from fer_desktop.core.pipeline.pipeline import crop_for


def test_square_box_margin_and_shift():
    assert square_crop_box((100, 100, 200, 200), 0.0) == (100, 100, 200, 200)
    assert square_crop_box((100, 100, 200, 200), 0.2) == (90, 90, 210, 210)
    assert square_crop_box((100, 100, 200, 200), 0.0, shift_y=0.1) == (100, 110, 200, 210)
    assert square_crop_box((100, 100, 150, 200), 0.0) == (
        75,
        100,
        175,
        200,
    )  # square on the long side


def test_tilted_eyes_are_levelled():
    img = np.full((300, 300), 128, np.uint8)
    eyes = np.array([[110.0, 130.0], [190.0, 170.0]], np.float32)  # tilted by about 26.6 degrees
    for x, y in eyes:
        cv2.circle(img, (int(x), int(y)), 6, 0, -1)
    box = (90, 90, 210, 230)
    marks = np.vstack([eyes, [[150, 180], [120, 210], [180, 210]]]).astype(np.float32)
    plain = crop_face(img, box, 48, CropSpec(align=False), marks)
    level = crop_face(img, box, 48, CropSpec(align=True), marks)

    def eye_rows(face: np.ndarray) -> list[float]:
        dark = np.argwhere(face < 60)
        left, right = dark[dark[:, 1] < 24], dark[dark[:, 1] >= 24]
        return [left[:, 0].mean(), right[:, 0].mean()]

    a, b = eye_rows(plain)
    assert abs(a - b) > 4  # tilted as given
    a, b = eye_rows(level)
    assert abs(a - b) < 1.5  # level after the rotation
    assert crop_face(img, box, 48, CropSpec(align=True), None).shape == (
        48,
        48,
    )  # no landmarks: plain


def test_each_detector_brings_its_calibrated_crop_and_the_user_margin_wins():
    spec = crop_for(YuNetFaceDetector())
    assert spec == YuNetFaceDetector.crop and spec.margin == 0.0 and spec.shift_y > 0
    assert crop_for(YuNetFaceDetector(), 0.3).margin == 0.3
    assert crop_for(object()) == CropSpec()  # a detector without a calibration: the plain square


def _ramp(h: int = 120, w: int = 160) -> np.ndarray:
    """A picture where every pixel says where it is (no two neighbours alike)."""
    y, x = np.mgrid[0:h, 0:w]
    return ((x * 7 + y * 13) % 251).astype(np.uint8)


def test_the_crop_takes_the_pixels_of_its_square_at_the_dataset_size():
    img = _ramp()
    got = crop_face(
        img, (40, 30, 80, 70), 20, CropSpec(margin=0.0)
    )  # 40x40 -> 20x20: area averaging
    want = cv2.resize(img[30:70, 40:80], (20, 20), interpolation=cv2.INTER_AREA)
    assert np.array_equal(got, want)
    got = crop_face(img, (40, 30, 50, 40), 48, 0.0)  # a bare margin; 10x10 -> 48: linear
    want = cv2.resize(img[30:40, 40:50], (48, 48), interpolation=cv2.INTER_LINEAR)
    assert np.array_equal(got, want)
    shifted = crop_face(img, (40, 30, 80, 70), 40, CropSpec(margin=0.0, shift_y=0.25))
    assert np.array_equal(shifted, img[40:80, 40:80])  # the square moved down by a quarter box


def test_a_crop_past_the_frame_repeats_the_edge_pixels():
    img = _ramp()
    got = crop_face(img, (-10, -5, 30, 35), 40, CropSpec(margin=0.0))
    want = np.pad(img, ((5, 0), (10, 0)), mode="edge")[0:40, 0:40]
    assert np.array_equal(got, want)
    got = crop_face(
        img, (140, 100, 180, 140), 40, CropSpec(margin=0.0)
    )  # past the right and bottom
    want = np.pad(img, ((0, 20), (0, 20)), mode="edge")[100:140, 140:180]
    assert np.array_equal(got, want)
    assert np.array_equal(
        crop_face(img, (500, 500, 540, 540), 8, CropSpec(margin=0.0)), np.full((8, 8), 128)
    )


def test_a_slight_tilt_or_missing_eyes_crop_without_rotation():
    img = _ramp()
    box = (40, 30, 80, 70)
    plain = crop_face(img, box, 40, CropSpec(margin=0.0))
    almost_level = np.array([[50.0, 45.0], [70.0, 45.3]])  # under one degree
    assert np.array_equal(
        crop_face(img, box, 40, CropSpec(margin=0.0, align=True), almost_level), plain
    )
    assert np.array_equal(
        crop_face(img, box, 40, CropSpec(margin=0.0, align=True), almost_level[:1]), plain
    )
    tilted = np.array([[50.0, 40.0], [70.0, 50.0]])
    assert not np.array_equal(
        crop_face(img, box, 40, CropSpec(margin=0.0, align=True), tilted), plain
    )
    swapped = tilted[::-1].copy()  # the eyes in either order: the same levelled crop
    assert np.array_equal(crop_face(img, box, 40, CropSpec(margin=0.0, align=True), tilted),
                          crop_face(img, box, 40, CropSpec(margin=0.0, align=True), swapped))  # fmt: skip
    assert np.array_equal(crop_face(img, box, 40, CropSpec(margin=0.0), tilted), plain)


def test_a_levelled_crop_turns_by_the_eyes_angle_about_the_crop_centre():
    img = np.full((200, 200), 200, np.uint8)
    img[95:105, 60:140] = 0  # a dark bar through the centre, tilted after the rotation below
    m = cv2.getRotationMatrix2D((100.0, 100.0), -30, 1.0)
    img = cv2.warpAffine(img, m, (200, 200), borderValue=200)
    eyes = np.array([[100 - 40 * np.cos(np.radians(30)), 100 - 40 * np.sin(np.radians(30))],
                     [100 + 40 * np.cos(np.radians(30)), 100 + 40 * np.sin(np.radians(30))]])  # fmt: skip
    level = crop_face(img, (50, 50, 150, 150), 100, CropSpec(margin=0.0, align=True), eyes)
    rows = np.where((level < 100).sum(axis=1) > 60)[0]  # the bar, level again, across the middle
    assert len(rows) >= 6 and abs(rows.mean() - 50) < 2


def test_crops_of_many_faces_equal_each_face_cropped_from_the_whole_frame():
    from fer_desktop.core.classify.crops import face_crops

    bgr = np.dstack([_ramp(), _ramp()[::-1], _ramp()[:, ::-1]])
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    boxes = [(10, 12, 40, 44), (100, 60, 150, 118), (-8, 90, 20, 130)]
    eyes = [np.array([[15.0, 20.0], [35.0, 30.0]]), None, np.array([[0.0, 100.0], [15.0, 101.0]])]
    for spec in (CropSpec(), CropSpec(margin=0.2, shift_y=0.1), CropSpec(align=True)):
        marks = [e if e is not None else np.array([[0.0, 0.0]]) for e in eyes]
        got = face_crops(bgr, boxes, 48, spec, marks)
        want = [crop_face(gray, b, 48, spec, m) for b, m in zip(boxes, marks)]
        assert got.shape == (3, 48, 48) and got.dtype == np.uint8
        for g, w in zip(got, want):
            assert np.abs(g.astype(int) - w.astype(int)).max() <= 1, spec  # rounding at most
    assert face_crops(bgr, [], 48, CropSpec(margin=0.0)).shape == (0, 48, 48)
    one = crop_face(gray, boxes[0], 48, CropSpec(margin=0.0))
    assert np.array_equal(face_crops(gray, boxes[:1], 48, CropSpec(margin=0.0))[0], one)  # grey
    outside = face_crops(bgr, [(500, 500, 540, 540)], 8, CropSpec(margin=0.0))
    assert np.array_equal(outside, np.full((1, 8, 8), 128))
