"""Sharpness matching: faces sharper than the training faces are blurred down to them, never sharpened."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from fer_desktop.core.datasets import load_dataset, match_sharpness, sharpness, sharpness_target

FER_ZIP = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "fer2013.zip"


def _face() -> np.ndarray:
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (48, 48), dtype=np.uint8)
    return cv2.GaussianBlur(img, (0, 0), 0.7)


def test_sharp_face_is_blurred_to_the_target():
    face = _face()
    target = sharpness(cv2.GaussianBlur(face, (0, 0), 3.0)[None])
    out = match_sharpness(face, target)
    got = cv2.Laplacian(out.astype(np.float32), cv2.CV_32F).var()
    assert got == pytest.approx(target, rel=0.15)
    assert out.shape == face.shape and out.dtype == np.uint8


def test_soft_face_is_left_alone():
    soft = cv2.GaussianBlur(_face(), (0, 0), 4.0)
    assert match_sharpness(soft, sharpness(_face()[None])) is soft


def test_target_only_when_validation_is_sharper():
    sharp = np.stack([_face()] * 4)
    blurred = np.stack([cv2.GaussianBlur(f, (0, 0), 3.0) for f in sharp])
    assert sharpness_target(blurred, sharp) == pytest.approx(sharpness(blurred), rel=1e-3)
    assert sharpness_target(sharp, sharp) is None
    assert sharpness_target(sharp, blurred) is None


@pytest.mark.skipif(not FER_ZIP.is_file(), reason=f"FER2013 zip not found at {FER_ZIP}")
def test_shared_fer_zip_has_blurred_training_faces():
    ds = load_dataset(FER_ZIP, limit=400)
    train, test = ds.splits["train"].images, ds.splits["test"].images
    assert sharpness(train) * 20 < sharpness(test)  # measured: about 6 vs 2100
    assert sharpness_target(train, test) is not None
