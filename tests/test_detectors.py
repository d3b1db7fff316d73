"""Face detectors on real photos, and YOLO weights from a real (locally populated) Hub cache."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import cv2
import numpy as np
import pytest

from fer_desktop.core.detectors import (
    HAAR_FRONTAL,
    YOLO_FILENAME,
    YOLO_REPO_ID,
    FaceDetector,
    HaarFaceDetector,
    YoloFaceDetector,
    fetch_yolo_weights,
    make_detector,
    nms,
    yolo_weights_cached,
)
from fer_desktop.core.errors import UserError
from fer_desktop.core.resources import resource_path

TESTDATA = Path(__file__).resolve().parents[2] / "shared" / "testdata"
FACES = TESTDATA / "faces"
VIDEO = TESTDATA / "videos" / "talking-720p.mp4"

needs_testdata = pytest.mark.skipif(
    not FACES.is_dir(),
    reason=f"test photos not found at {FACES} (the shared testdata folder beside the repo)",
)

EXPECTED_FACES = {
    "obama.jpg": 1,
    "biden.jpg": 1,
    "obama-240p.jpg": 1,
    "two_people.jpg": 2,
    "obama_and_biden.jpg": 2,
    "kit_with_rose.jpg": 2,
}


def _read(name: str) -> np.ndarray:
    img = cv2.imread(str(FACES / name))
    assert img is not None, f"cannot read {name}"
    return img


@pytest.fixture(scope="module")
def haar() -> HaarFaceDetector:
    return HaarFaceDetector()


@pytest.fixture
def no_network(monkeypatch):
    """Any socket use fails the test: proves a code path stays offline."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args[:2]}")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.fixture
def no_bundled_weights(monkeypatch, tmp_path):
    """A resources folder without yolov8-face.pt, so only the Hub cache can provide YOLO weights."""
    res = tmp_path / "resources"
    (res / "detectors").mkdir(parents=True)
    monkeypatch.setenv("FER_DESKTOP_RESOURCES", str(res))
    return res


def _populate_hub_cache(hub: Path, weights: Path) -> Path:
    """The layout huggingface_hub writes: models--<org>--<name>/{refs/main, snapshots/<hash>/}."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo_dir = hub / ("models--" + YOLO_REPO_ID.replace("/", "--"))
    snapshot = repo_dir / "snapshots" / commit
    snapshot.mkdir(parents=True)
    (repo_dir / "refs").mkdir()
    (repo_dir / "refs" / "main").write_text(commit)
    shutil.copyfile(weights, snapshot / YOLO_FILENAME)
    return snapshot / YOLO_FILENAME


@pytest.fixture
def offline_hub(monkeypatch, tmp_path, no_bundled_weights):
    """An empty Hub cache with HF_HUB_OFFLINE=1 (read by detectors at call time)."""
    hub = tmp_path / "hub"
    hub.mkdir()
    monkeypatch.setenv("HF_HUB_CACHE", str(hub))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return hub


# ---------------------------------------------------------------------------------------------
# Haar
# ---------------------------------------------------------------------------------------------


def test_haar_cascade_ships_in_resources():
    det = HaarFaceDetector()
    assert det.cascade_path == resource_path("detectors", HAAR_FRONTAL)
    assert det.cascade_path.is_file()
    assert resource_path("detectors", "LICENSE.md").is_file()
    assert isinstance(det, FaceDetector)
    assert "Haar" in det.name and "offline" in det.name


def test_haar_falls_back_to_opencv_data(no_bundled_weights):
    det = HaarFaceDetector(profile=True)
    assert det.cascade_path == Path(cv2.data.haarcascades) / HAAR_FRONTAL


@needs_testdata
@pytest.mark.parametrize("name,expected", sorted(EXPECTED_FACES.items()))
def test_haar_counts_faces_on_photos(haar, name, expected):
    img = _read(name)
    h, w = img.shape[:2]
    dets = haar.detect(img)
    assert len(dets) == expected, f"{name}: {dets}"
    for (x1, y1, x2, y2), score in dets:
        assert all(isinstance(v, int) for v in (x1, y1, x2, y2))
        assert 0 <= x1 < x2 <= w and 0 <= y1 < y2 <= h
        assert 0.0 < score <= 1.0
        bw, bh = x2 - x1, y2 - y1
        assert 0.7 < bw / bh < 1.4, "a face box is roughly square"
        assert 0.05 * min(h, w) < bw < 0.9 * min(h, w)
        # faces in these photos are in the upper part of the frame
        assert (y1 + y2) / 2 < 0.65 * h
    if expected == 1:
        (x1, _, x2, _), _ = dets[0]
        assert w * 0.25 < (x1 + x2) / 2 < w * 0.75, "portrait: face near the horizontal centre"
    else:
        centres = sorted((b[0] + b[2]) / 2 for b, _ in dets)
        assert centres[0] < w / 2 < centres[1], "one face on each side"
        (a, _), (b, _) = dets
        assert min(a[2], b[2]) <= max(a[0], b[0]), "two people: boxes do not overlap"


@needs_testdata
def test_haar_partial_face_and_tiny_images(haar):
    assert len(haar.detect(_read("obama_partial_face.jpg"))) <= 1
    assert haar.detect(np.zeros((10, 10, 3), np.uint8)) == []
    assert haar.detect(np.zeros((480, 640, 3), np.uint8)) == []
    gray = cv2.cvtColor(_read("obama.jpg"), cv2.COLOR_BGR2GRAY)
    assert len(haar.detect(gray)) == 1


@needs_testdata
def test_haar_on_720p_video_frames(haar):
    if not VIDEO.is_file():
        pytest.skip(f"test video not found at {VIDEO}")
    cap = cv2.VideoCapture(str(VIDEO))
    counts = []
    try:
        for i in range(0, 120, 20):
            cap.set(cv2.CAP_PROP_POS_FRAMES, i)
            ok, frame = cap.read()
            assert ok and frame.shape == (720, 1280, 3)
            counts.append(len(haar.detect(frame)))
    finally:
        cap.release()
    assert counts == [1] * len(counts)


def test_nms_merges_overlaps_and_nested_boxes():
    dets = [
        ((0, 0, 100, 100), 0.9),
        ((5, 5, 105, 105), 0.8),  # IoU 0.82 with the first
        ((20, 20, 70, 70), 0.7),  # nested inside the first
        ((200, 0, 300, 100), 0.6),  # separate face
    ]
    assert nms(dets) == [((0, 0, 100, 100), 0.9), ((200, 0, 300, 100), 0.6)]


# ---------------------------------------------------------------------------------------------
# YOLO from a locally populated Hugging Face cache
# ---------------------------------------------------------------------------------------------


@needs_testdata
def test_yolo_loads_from_hub_cache_offline(untrained_yolo_pt, offline_hub, no_network):
    import torch

    cached = _populate_hub_cache(offline_hub, untrained_yolo_pt)
    assert yolo_weights_cached() == cached
    threads = torch.get_num_threads()
    omp = os.environ.get("OMP_NUM_THREADS")

    det = YoloFaceDetector(imgsz=320)
    assert det.weights == cached.resolve()
    assert YOLO_REPO_ID in det.name
    assert isinstance(det, FaceDetector)

    img = _read("obama.jpg")
    dets = det.detect(img)  # untrained weights: any number of boxes
    assert isinstance(dets, list)
    h, w = img.shape[:2]
    for (x1, y1, x2, y2), score in dets:
        assert 0 <= x1 < x2 <= w and 0 <= y1 < y2 <= h
        assert det.conf <= score <= 1.0
    # loading and predicting leave torch's thread count and the environment as they were
    assert torch.get_num_threads() == threads
    assert os.environ.get("OMP_NUM_THREADS") == omp
    assert os.environ.get("YOLO_OFFLINE") == "1"

    auto = make_detector("auto")
    assert isinstance(auto, YoloFaceDetector)


def test_yolo_accepts_local_pt_file(untrained_yolo_pt, no_network, tmp_path):
    import torch

    local = tmp_path / "my face model.pt"
    shutil.copyfile(untrained_yolo_pt, local)
    det = make_detector("yolo", weights=local)
    assert isinstance(det, YoloFaceDetector)
    assert det.name == "YOLOv8 face (my face model.pt)"
    assert isinstance(det.detect(np.zeros((240, 320, 3), np.uint8)), list)
    # the app's device names: "auto" (the settings default) resolves; a missing GPU is a UserError
    auto = YoloFaceDetector(local, device="auto")
    assert auto.device in {"cpu", "mps"} or auto.device.isdigit()
    if not torch.cuda.is_available():
        with pytest.raises(UserError):
            YoloFaceDetector(local, device="cuda")


def test_empty_cache_offline_is_a_user_error(offline_hub, no_network):
    assert yolo_weights_cached() is None
    with pytest.raises(UserError) as info:
        YoloFaceDetector()
    assert "not downloaded" in info.value.message
    assert "offline detector" in info.value.hint and "Fetch" in info.value.hint
    with pytest.raises(UserError):
        make_detector("yolo")
    with pytest.raises(UserError) as info:
        fetch_yolo_weights()
    assert "HF_HUB_OFFLINE" in info.value.hint


def test_auto_with_empty_cache_is_haar(offline_hub, no_network):
    det = make_detector("auto")
    assert isinstance(det, HaarFaceDetector)
    assert isinstance(make_detector("haar"), HaarFaceDetector)
    with pytest.raises(UserError):
        make_detector("retinaface")


def _garbage_files(tmp_path: Path) -> list[Path]:
    import torch

    files = []
    rnd = tmp_path / "random.pt"
    rnd.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    files.append(rnd)
    text = tmp_path / "notes.pt"
    text.write_text("this is a text file, not a model\n")
    files.append(text)
    empty = tmp_path / "empty.pt"
    empty.write_bytes(b"")
    files.append(empty)
    state = tmp_path / "state_dict.pt"
    torch.save({"weight": torch.zeros(3, 3)}, state)
    files.append(state)
    module = tmp_path / "linear.pt"
    torch.save(torch.nn.Linear(2, 2), module)
    files.append(module)
    wrapped = tmp_path / "wrapped.pt"  # has a "model" key, but not an ultralytics network
    torch.save({"model": torch.nn.Linear(2, 2)}, wrapped)
    files.append(wrapped)
    return files


def test_garbage_pt_files_are_user_errors(tmp_path, no_network):
    for path in _garbage_files(tmp_path):
        with pytest.raises(UserError) as info:
            YoloFaceDetector(path)
        assert "is not a YOLO model file" in info.value.message, path.name
        assert info.value.hint


def test_missing_or_wrong_kind_of_file(tmp_path, no_network):
    with pytest.raises(UserError, match="does not exist"):
        YoloFaceDetector(tmp_path / "absent.pt")
    other = tmp_path / "model.onnx"
    other.write_bytes(b"\x08\x01")
    with pytest.raises(UserError, match="is not a YOLO model file"):
        YoloFaceDetector(other)
    with pytest.raises(UserError, match="is not a YOLO model file"):
        YoloFaceDetector(tmp_path)


def test_broken_cached_weights_are_reported_not_hidden(offline_hub, tmp_path, no_network):
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a model at all" * 100)
    _populate_hub_cache(offline_hub, garbage)
    with pytest.raises(UserError, match="is not a YOLO model file"):
        make_detector("auto")
