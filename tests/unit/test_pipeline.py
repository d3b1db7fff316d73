"""The core pipeline on real photos with the shipped detector and model."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from fer_desktop.core.classify.classifier import EmotionClassifier, load_checkpoint
from fer_desktop.core.classify.crops import crop_face
from fer_desktop.core.detectors import YuNetFaceDetector
from fer_desktop.core.emotions import CLASSES, emoji_for
from fer_desktop.core.pipeline.pipeline import Pipeline
from fer_desktop.core.settings import Settings
from fer_desktop.core.support.errors import UserError

from shared_paths import SHARED

FACES = SHARED / "testdata" / "faces"
needs_faces = pytest.mark.skipif(not FACES.is_dir(), reason=f"test photos not found at {FACES}")


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline(YuNetFaceDetector(), EmotionClassifier(device="cpu"))


@needs_faces
@pytest.mark.parametrize(
    "name,count", [("obama.jpg", 1), ("two_people.jpg", 2), ("obama-240p.jpg", 1)]
)
def test_one_result_per_face(pipeline, name, count):
    frame = cv2.imread(str(FACES / name))
    r = pipeline.process(frame, track=False)
    assert len(r.faces) == count
    h, w = frame.shape[:2]
    for f in r.faces:
        x1, y1, x2, y2 = f.box
        assert 0 <= x1 < x2 <= w and 0 <= y1 < y2 <= h
        assert set(f.probabilities) == set(CLASSES)
        assert abs(sum(f.probabilities.values()) - 1) < 1e-3
        assert f.confidence == pytest.approx(max(f.probabilities.values()), abs=1e-6)
        assert f.emoji == emoji_for(f.label)
    assert set(r.stage_ms) >= {"detect", "preprocess", "classify"}


@needs_faces
def test_faces_of_a_frame_are_classified_in_one_batch(pipeline, monkeypatch):
    calls = []
    real = pipeline.classifier.predict_crops
    monkeypatch.setattr(
        pipeline.classifier, "predict_crops", lambda crops: calls.append(len(crops)) or real(crops)
    )
    pipeline.process(cv2.imread(str(FACES / "two_people.jpg")), track=False)
    assert calls == [2]


def test_uncertain_below_threshold():
    clf = EmotionClassifier(device="cpu")
    p = Pipeline(YuNetFaceDetector(), clf, threshold=0.99)
    face = p._face(1, (0, 0, 10, 10), np.full(7, 1 / 7, np.float32), 1.0)
    assert face.label == "uncertain" and face.emoji == emoji_for("uncertain")
    p.threshold = 0.1
    assert p._face(1, (0, 0, 10, 10), np.eye(7, dtype=np.float32)[3], 1.0).label == "happy"


def test_no_face_gives_empty_result(pipeline):
    r = pipeline.process(np.full((480, 640, 3), 127, np.uint8), track=False)
    assert r.faces == []


def test_tracking_keeps_ids_across_frames(pipeline):
    if not FACES.is_dir():
        pytest.skip(f"test photos not found at {FACES}")
    frame = cv2.imread(str(FACES / "two_people.jpg"))
    pipeline.reset()
    faces = [pipeline.process(frame, t=i * 0.2).faces for i in range(5)]
    assert faces[0] == []  # a detection is reported once confirmed (3 frames over 0.5 s)
    ids1 = sorted(f.track_id for f in faces[3])
    ids2 = sorted(f.track_id for f in faces[4])
    assert ids1 == ids2 == [1, 2]  # public ids count confirmed faces only


def test_crop_is_square_and_handles_border():
    gray = np.arange(100 * 100, dtype=np.uint32).reshape(100, 100).astype(np.uint8)
    c = crop_face(gray, (-20, -20, 30, 40), 48, 0.05)
    assert c.shape == (48, 48)
    assert crop_face(gray, (500, 500, 600, 600), 48, 0.0).shape == (48, 48)


def test_checkpoint_describes_itself():
    ck = load_checkpoint(EmotionClassifier().path)
    assert ck["classes"] == list(CLASSES) and ck["input_size"] == 48 and ck["arch"] == "fer_net"
    assert "mean" in ck and "std" in ck


@pytest.mark.parametrize("content", [b"", b"not a model at all", b"PK\x03\x04garbage"])
def test_bad_weights_file_is_a_clear_error(tmp_path, content):
    bad = tmp_path / "weights.pt"
    bad.write_bytes(content)
    with pytest.raises(UserError) as e:
        EmotionClassifier(bad)
    assert "weights.pt" in e.value.message and e.value.hint
    assert bad.read_bytes() == content  # the user's file is untouched


def test_torch_file_that_is_not_our_model(tmp_path):
    import torch

    other = tmp_path / "other.pt"
    torch.save({"state_dict": {}}, other)
    with pytest.raises(UserError, match="not a fer_desktop emotion model"):
        EmotionClassifier(other)


def test_settings_reject_unknown_keys_and_bad_values(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text('{"detector": "haar", "colour": 1}')
    with pytest.raises(UserError, match="colour"):
        Settings.load(path)
    path.write_text('{"smoothing": 2}')
    with pytest.raises(UserError, match="smoothing"):
        Settings.load(path)
    s = Settings(detector="yunet", smoothing=0.3)
    s.save(path)
    assert Settings.load(path) == s
