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
