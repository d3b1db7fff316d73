"""Face detectors on real photos: the shipped YuNet, and YOLOv8-face on real weights loaded through
the real Hugging Face cache lookup (a locally populated cache, HF_HUB_OFFLINE=1)."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import types
from pathlib import Path

import cv2
import numpy as np
import pytest

from fer_desktop.core.detectors import (
    YOLO_REPO_ID,
    YUNET_FILE,
    FaceDetector,
    YoloFaceDetector,
    YuNetFaceDetector,
    fetch_yolo_weights,
    find_yolo_weights,
    make_detector,
    resolve_kind,
    yolo_weights_cached,
)
from fer_desktop.core.geometry import iou
from fer_desktop.core.settings import Settings
from fer_desktop.core.support.errors import UserError
from fer_desktop.core.support.resources import resource_path

from shared_paths import REPO, SHARED

TESTDATA = SHARED / "testdata"
FACES = TESTDATA / "faces"
VIDEO = TESTDATA / "videos" / "talking-720p.mp4"
YUNET_SHA256 = "ebafce4e3c118d6554634be5c27ab333b4c047a9a8c3faf1d7cf93101c22f0f0"

needs_testdata = pytest.mark.skipif(
    not FACES.is_dir(),
    reason=f"test photos not found at {FACES} (the shared testdata folder beside the repo)",
)

EXPECTED_FACES = {
    "obama.jpg": 1,
    "biden.jpg": 1,
    "obama-240p.jpg": 1,
    "obama_partial_face.jpg": 1,  # cut by the left border
    "two_people.jpg": 2,
    "kit_with_rose.jpg": 2,
    "obama_and_biden.jpg": 3,  # two adults and, small at the bottom right, a child
}


def _read(name: str) -> np.ndarray:
    img = cv2.imread(str(FACES / name))
    assert img is not None, f"cannot read {name}"
    return img


@pytest.fixture(scope="module")
def yunet() -> YuNetFaceDetector:
    return YuNetFaceDetector()


@pytest.fixture(scope="module")
def yolo(yolo_face_pt) -> YoloFaceDetector:
    return YoloFaceDetector(yolo_face_pt)


def _check_faces(name: str, img: np.ndarray, dets: list, landmarks: bool) -> None:
    """What any good detector must say about the face photos."""
    h, w = img.shape[:2]
    assert len(dets) == EXPECTED_FACES[name], f"{name}: {[d.box for d in dets]}"
    assert [d.score for d in dets] == sorted((d.score for d in dets), reverse=True)
    for d in dets:
        x1, y1, x2, y2 = d.box
        assert all(isinstance(v, int) for v in d.box)
        assert 0 <= x1 < x2 <= w and 0 <= y1 < y2 <= h
        assert 0.0 < d.score <= 1.0
        if name != "obama_partial_face.jpg":
            assert 0.55 < (x2 - x1) / (y2 - y1) < 1.3, "a face box is about as wide as tall"
        if not landmarks:
            assert d.landmarks is None
            continue
        m = d.landmarks
        assert m.shape == (5, 2) and m.dtype == np.float32
        bw = x2 - x1
        assert (m[:, 0] > x1 - bw / 4).all() and (m[:, 0] < x2 + bw / 4).all()
        assert (m[:, 1] > y1).all() and (m[:, 1] < y2).all()
        assert m[0, 0] < m[1, 0], "landmark 0 is the eye on the image's left"
        assert max(m[0, 1], m[1, 1]) < m[2, 1] < min(m[3, 1], m[4, 1]), "eyes, nose, mouth"
    if name == "obama_and_biden.jpg":
        child = min(dets, key=lambda d: d.box[2] - d.box[0])
        cx, cy = (child.box[0] + child.box[2]) / 2, (child.box[1] + child.box[3]) / 2
        assert cx > w / 2 and cy > h / 2, "the child's face is the small one at the bottom right"
        for adult in (d for d in dets if d is not child):
            assert (adult.box[1] + adult.box[3]) / 2 < h / 2
    if EXPECTED_FACES[name] == 2:
        a, b = sorted(dets, key=lambda d: d.box[0])
        assert (a.box[0] + a.box[2]) / 2 < w / 2 < (b.box[0] + b.box[2]) / 2
        assert a.box[2] <= b.box[0], "two people: boxes do not overlap"


# ---------------------------------------------------------------------------------------------
# YuNet: the shipped offline default
# ---------------------------------------------------------------------------------------------


def test_yunet_ships_with_its_licence_and_haar_is_gone(yunet):
    path = resource_path("detectors", YUNET_FILE)
    assert yunet.model_path == path
    assert hashlib.sha256(path.read_bytes()).hexdigest() == YUNET_SHA256
    licence = resource_path("detectors", "LICENSE.md").read_text(encoding="utf-8")
    assert "YuNet" in licence and "MIT License" in licence and "Shiqi Yu" in licence
    assert not list(resource_path("detectors").glob("haarcascade_*.xml"))
    assert isinstance(yunet, FaceDetector) and yunet.kind == "yunet"
    assert "YuNet" in yunet.name and "offline" in yunet.name


@needs_testdata
@pytest.mark.parametrize("name", sorted(EXPECTED_FACES))
def test_yunet_finds_the_faces_with_landmarks(yunet, name):
    img = _read(name)
    _check_faces(name, img, yunet.detect(img), landmarks=True)


@needs_testdata
def test_yunet_maps_boxes_and_landmarks_back_from_its_input_size():
    img = _read("two_people.jpg")  # 1126 px wide: shrunk to 320, not shrunk at 1280
    small = YuNetFaceDetector(max_side=320).detect(img)
    full = YuNetFaceDetector(max_side=1280).detect(img)
    assert len(small) == len(full) == 2
    for a in small:
        b = max(full, key=lambda d: iou(a.box, d.box))
        assert iou(a.box, b.box) > 0.75
        eye_gap = abs(b.landmarks[1, 0] - b.landmarks[0, 0])
        assert np.abs(a.landmarks - b.landmarks).max() < 0.25 * eye_gap


@needs_testdata
def test_yunet_min_face_drops_faces_too_small_to_read(yunet):
    img = _read("obama-240p.jpg")  # the face is about 70 px tall
    (face,) = yunet.detect(img)
    assert 24 <= face.box[3] - face.box[1] < 100
    assert YuNetFaceDetector(min_face=100).detect(img) == []


@needs_testdata
def test_unusual_frames_are_handled(yunet):
    img = _read("obama.jpg")
    (ref,) = yunet.detect(img)
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    bgra = cv2.cvtColor(img, cv2.COLOR_BGR2BGRA)
    for frame in (gray, gray[:, :, None], bgra, img.astype(np.float32) / 255.0):
        (d,) = yunet.detect(frame)
        assert iou(d.box, ref.box) > 0.8
    mirrored = img[:, ::-1]  # a non-contiguous view, as the live view's mirror makes
    (m,) = yunet.detect(mirrored)
    w = img.shape[1]
    assert iou((w - m.box[2], m.box[1], w - m.box[0], m.box[3]), ref.box) > 0.8
    with pytest.raises(ValueError, match="BGR"):
        yunet.detect(np.zeros((2, 20, 20, 3), np.uint8))


@pytest.mark.parametrize("kind", ["yunet", "yolo"])
def test_empty_tiny_and_blank_frames_give_no_faces(kind, request):
    det = request.getfixturevalue(kind)
    for frame in (
        None,
        np.zeros((0, 0, 3), np.uint8),
        np.zeros((10, 10, 3), np.uint8),
        np.zeros((1, 500, 3), np.uint8),
        np.zeros((15, 15), np.uint8),
        np.zeros((480, 640, 3), np.uint8),
        np.full((720, 1280, 3), 255, np.uint8),
    ):
        assert det.detect(frame) == []


@needs_testdata
def test_yunet_on_720p_video_frames(yunet):
    if not VIDEO.is_file():
        pytest.skip(f"test video not found at {VIDEO}")
    cap = cv2.VideoCapture(str(VIDEO))
    counts = []
    try:
        for i in range(0, 120, 30):
            cap.set(cv2.CAP_PROP_POS_FRAMES, i)
            ok, frame = cap.read()
            assert ok and frame.shape == (720, 1280, 3)
            counts.append(len(yunet.detect(frame)))
    finally:
        cap.release()
    assert counts == [1] * len(counts)


@pytest.fixture
def resources_without_yunet(tmp_path, monkeypatch) -> Path:
    res = tmp_path / "resources"
    (res / "detectors").mkdir(parents=True)
    monkeypatch.setenv("FER_DESKTOP_RESOURCES", str(res))
    return res / "detectors"


def test_missing_yunet_file_is_a_user_error(resources_without_yunet, offline_hub, tmp_path):
    for name in ("yunet", "auto"):
        with pytest.raises(UserError, match="is missing") as info:
            make_detector(name)
        assert "Reinstall" in info.value.hint
    with pytest.raises(UserError, match="does not exist"):
        YuNetFaceDetector(tmp_path / "absent.onnx")


def test_corrupt_yunet_file_is_a_user_error(resources_without_yunet, tmp_path):
    data = (REPO / "resources" / "detectors" / YUNET_FILE).read_bytes()
    shipped = resources_without_yunet / YUNET_FILE
    for broken in (data[: len(data) // 3], b"not a model\n" * 50, b""):
        shipped.write_bytes(broken)
        with pytest.raises(UserError, match="not a working YuNet model") as info:
            YuNetFaceDetector()
        assert "Reinstall" in info.value.hint
    custom = tmp_path / "Gesichter äöü.onnx"  # read as bytes: non-ASCII paths work everywhere
    custom.write_bytes(data[:5000])
    with pytest.raises(UserError, match="not a working YuNet model") as info:
        make_detector("yunet", weights=custom)
    assert custom.name in info.value.hint
    wrong = tmp_path / "face.pt"
    wrong.write_bytes(data)
    with pytest.raises(UserError, match="expected a .onnx file"):
        make_detector("yunet", weights=wrong)
    custom.write_bytes(data)
    assert make_detector("auto", weights=custom).name == f"YuNet ({custom.name})"


# ---------------------------------------------------------------------------------------------
# YOLOv8-face on the real shared weights
# ---------------------------------------------------------------------------------------------


@needs_testdata
def test_yolo_loads_from_the_hub_cache_offline(yolo_hub_cache, no_network):
    import torch

    assert yolo_weights_cached() == yolo_hub_cache
    threads, omp = torch.get_num_threads(), os.environ.get("OMP_NUM_THREADS")
    det = make_detector("auto", imgsz=640)
    assert isinstance(det, YoloFaceDetector) and det.kind == "yolo"
    assert det.weights == yolo_hub_cache and yolo_hub_cache.is_symlink()  # as the hub writes it
    assert YOLO_REPO_ID in det.name and det.class_names == {0: "face"}
    img = _read("obama_and_biden.jpg")
    _check_faces("obama_and_biden.jpg", img, det.detect(img), landmarks=False)
    # loading and predicting leave torch's thread count and the environment as they were
    assert torch.get_num_threads() == threads
    assert os.environ.get("OMP_NUM_THREADS") == omp
    assert os.environ.get("YOLO_OFFLINE") == "1"
    assert fetch_yolo_weights() == yolo_hub_cache  # offline: the cached copy, no download


@needs_testdata
@pytest.mark.parametrize("name", sorted(EXPECTED_FACES))
def test_yolo_finds_the_faces_yunet_finds(yolo, yunet, name):
    img = _read(name)
    dets = yolo.detect(img)
    _check_faces(name, img, dets, landmarks=False)
    for d in yunet.detect(img):
        assert max(iou(d.box, y.box) for y in dets) > 0.5, "both detectors see the same faces"


def test_auto_prefers_cached_then_bundled_yolo_else_yunet(
    offline_hub, yolo_face_pt, tmp_path, monkeypatch
):
    assert resolve_kind("auto") == "yunet"
    assert isinstance(make_detector("auto"), YuNetFaceDetector)
    assert resolve_kind("auto", "x.onnx") == "yunet" and resolve_kind("auto", "x.pt") == "yolo"
    assert resolve_kind("YuNet") == "yunet" and resolve_kind(None) == "yunet"
    res = tmp_path / "bundle-resources"
    (res / "detectors").mkdir(parents=True)
    shutil.copyfile(resource_path("detectors", YUNET_FILE), res / "detectors" / YUNET_FILE)
    shutil.copyfile(yolo_face_pt, res / "detectors" / "yolov8-face.pt")
    monkeypatch.setenv("FER_DESKTOP_RESOURCES", str(res))
    det = make_detector("auto")
    assert isinstance(det, YoloFaceDetector)
    assert det.weights == res / "detectors" / "yolov8-face.pt"
    for bad in ("haar", "retinaface"):
        with pytest.raises(UserError, match="Unknown face detector"):
            make_detector(bad)


def test_old_haar_setting_becomes_yunet():
    assert Settings.from_dict({"detector": "haar"}).detector == "yunet"
    with pytest.raises(UserError):
        Settings(detector="haar").validate()


def test_default_detector_never_imports_torch(tmp_path):
    """The offline default path (auto without YOLO weights) stays free of torch and ultralytics."""
    code = (
        "import sys, numpy as np\n"
        "from fer_desktop.core.detectors import make_detector\n"
        "d = make_detector('auto')\n"
        "d.detect(np.zeros((480, 640, 3), np.uint8))\n"
        "print(d.kind, 'torch' in sys.modules, 'ultralytics' in sys.modules)\n"
    )
    env = {**os.environ, "HF_HUB_CACHE": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    env.pop("FER_DESKTOP_RESOURCES", None)
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["yunet", "False", "False"]


def test_yolo_accepts_local_pt_file_and_app_device_names(yolo_face_pt, no_network, tmp_path):
    import torch

    local = tmp_path / "my face model.pt"
    shutil.copyfile(yolo_face_pt, local)
    det = make_detector("yolo", weights=local)
    assert det.name == "YOLOv8 face (my face model.pt)"
    auto = YoloFaceDetector(local, device="auto")
    assert auto.device in {"cpu", "mps"} or auto.device.isdigit()
    if not torch.cuda.is_available():
        with pytest.raises(UserError):
            YoloFaceDetector(local, device="cuda")


def test_empty_cache_offline_is_a_user_error(offline_hub, no_network):
    assert yolo_weights_cached() is None
    with pytest.raises(UserError) as info:
        find_yolo_weights()
    assert "not downloaded" in info.value.message
    assert "YuNet" in info.value.hint and "Fetch" in info.value.hint
    with pytest.raises(UserError):
        make_detector("yolo")
    with pytest.raises(UserError) as info:
        fetch_yolo_weights()
    assert "HF_HUB_OFFLINE" in info.value.hint


@pytest.fixture(scope="module")
def wrong_kind_files(tmp_path_factory) -> dict[str, Path]:
    """Real files of the wrong kind, built offline: ultralytics pose/classify/COCO-style detect
    networks from its bundled yaml configs, a YOLOv5-repository checkpoint (its pickle names
    yolov5's `models.yolo.Model`), and a .pt whose pickle would create a folder when loaded."""
    import torch

    from fer_desktop.core.detectors.yolo import _import_ultralytics

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args[:2]}")

    folder = tmp_path_factory.mktemp("wrong-kind")
    files = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket, "getaddrinfo", refuse)
        mp.setattr(socket, "create_connection", refuse)
        mp.setattr(socket.socket, "connect", refuse)
        YOLO, _, _ = _import_ultralytics()
        for kind, cfg in (
            ("pose", "yolov8n-pose"),
            ("classify", "yolov8n-cls"),
            ("coco", "yolov8n"),
        ):
            files[kind] = folder / f"{cfg}.pt"
            YOLO(f"{cfg}.yaml", verbose=False).save(str(files[kind]))

        class Model(torch.nn.Module):  # stands for yolov5's models.yolo.Model
            def __init__(self) -> None:
                super().__init__()
                self.conv = torch.nn.Conv2d(3, 8, 3)

        Model.__module__, Model.__qualname__ = "models.yolo", "Model"
        yolo_pkg, yolo_mod = types.ModuleType("models"), types.ModuleType("models.yolo")
        yolo_mod.Model, yolo_pkg.yolo = Model, yolo_mod
        mp.setitem(sys.modules, "models", yolo_pkg)
        mp.setitem(sys.modules, "models.yolo", yolo_mod)
        files["yolov5"] = folder / "yolov5s.pt"
        torch.save({"model": Model(), "epoch": 300}, files["yolov5"])

    class MakesAFolder:
        def __reduce__(self):
            return (os.mkdir, (str(folder / "code-ran"),))

    files["code"] = folder / "runs-code.pt"
    torch.save({"model": MakesAFolder()}, files["code"])
    return files


@pytest.mark.parametrize(
    "kind,why",
    [
        ("pose", "it is a YOLO pose model"),
        ("classify", "it is a YOLO classify model"),
        ("coco", "none is a face"),
        ("yolov5", "YOLOv5 model from the yolov5 repository"),
        ("code", "not loaded, for safety"),
    ],
)
def test_yolo_files_of_the_wrong_kind_are_user_errors(wrong_kind_files, no_network, kind, why):
    path = wrong_kind_files[kind]
    with pytest.raises(UserError) as info:
        make_detector("auto", weights=path)
    assert "is not a YOLO face detector file" in info.value.message and why in info.value.message
    assert "YOLOv8 face detection model" in info.value.hint
    assert not (path.parent / "code-ran").exists(), "loading a .pt file must never run its code"


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
        assert "is not a YOLO face detector file" in info.value.message, path.name
        assert info.value.hint


def test_missing_or_wrong_kind_of_file(tmp_path, no_network):
    with pytest.raises(UserError, match="does not exist"):
        YoloFaceDetector(tmp_path / "absent.pt")
    other = tmp_path / "model.onnx"
    other.write_bytes(b"\x08\x01")
    with pytest.raises(UserError, match="expected a .pt file"):
        YoloFaceDetector(other)
    with pytest.raises(UserError, match="it is a folder"):
        YoloFaceDetector(tmp_path)


def test_broken_cached_weights_are_reported_not_hidden(offline_hub, tmp_path, no_network):
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a model at all" * 100)
    offline_hub.add(garbage)
    with pytest.raises(UserError, match="is not a YOLO face detector file"):
        make_detector("auto")


# ---------------------------------------------------------------------------------------------
# YuNet on ONNX Runtime (issue 29): OpenCV's decoding and NMS, the same faces
# ---------------------------------------------------------------------------------------------


def _same_faces(a: list, b: list) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert np.abs(np.subtract(x.box, y.box)).max() <= 1  # whole pixels, rounded
        assert abs(x.score - y.score) < 1e-4
        assert np.abs(x.landmarks - y.landmarks).max() < 0.05


@needs_testdata
def test_yunet_on_onnx_runtime_finds_what_opencv_finds():
    """Photos of 1-3 faces, crowded WIDER FACE photos, 720p video frames and the small regions
    region tracking looks at: the same boxes, scores and landmarks from both runtimes."""
    from fer_desktop.core.pipeline.regions import crop_region, place_region

    on_ort = YuNetFaceDetector(engine="onnxruntime")
    on_cv = YuNetFaceDetector(engine="opencv")
    assert (on_ort.engine, on_cv.engine) == ("onnxruntime", "opencv")
    images = [_read(p.name) for p in sorted(FACES.glob("*.jpg"))]
    images += [cv2.imread(str(p)) for p in sorted((TESTDATA / "face-boxes").rglob("*.jpg"))[:12]]
    cap = cv2.VideoCapture(str(VIDEO))
    images += [cap.read()[1] for _ in range(3)]
    cap.release()
    faces = regions = 0
    for img in images:
        found = on_cv.detect(img)
        _same_faces(on_ort.detect(img), found)
        faces += len(found)
        h, w = img.shape[:2]
        for d in found[:3]:
            x0, y0, side, size = place_region(on_cv, d.box, w, h)
            region = crop_region(img, x0, y0, side, size)
            _same_faces(on_ort.detect_region(region), on_cv.detect_region(region))
            regions += 1
    assert faces >= 60 and regions >= 20  # crowds, small faces and regions were compared
    # a low threshold: many overlapping candidates, so the NMS must match OpenCV's too
    low = [YuNetFaceDetector(engine=e, score=0.05, min_face=1) for e in ("onnxruntime", "opencv")]
    for img in images[::2]:
        _same_faces(low[0].detect(img), low[1].detect(img))


def test_detector_engine_is_a_setting_and_a_flag():
    from fer_desktop.cli import build_parser
    from fer_desktop.cli.common import settings_from
    from fer_desktop.core.pipeline.pipeline import build_pipeline

    with pytest.raises(UserError, match="detector_engine must be one of auto, onnxruntime, opencv"):
        Settings(detector_engine="gpu").validate()
    with pytest.raises(ValueError, match="engine must be auto, onnxruntime or opencv"):
        YuNetFaceDetector(engine="cuda")
    args = build_parser().parse_args(["bench", "0", "--detector", "yunet"])
    assert build_pipeline(settings_from(args)).detector.engine == "onnxruntime"  # auto
    args = build_parser().parse_args(
        ["bench", "0", "--detector", "yunet", "--detector-engine", "opencv"]
    )
    assert build_pipeline(settings_from(args)).detector.engine == "opencv"
