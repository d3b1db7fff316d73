"""What the face does (issue 31): MediaPipe's landmark and blendshape models on real photos,
through the app's own YuNet boxes; no mock of any model."""

from __future__ import annotations

import csv
import io
import json
import shutil
import zipfile

import cv2
import numpy as np
import pytest

from fer_desktop.core.classify import facial_actions as fa_mod
from fer_desktop.core.classify import shipped
from fer_desktop.core.classify.action_names import ACTION_COLUMNS, BLENDSHAPE_NAMES
from fer_desktop.core.classify.facial_actions import FacialActions, smile
from fer_desktop.core.detectors import YuNetFaceDetector
from fer_desktop.core.support.errors import UserError
from fer_desktop.core.support.resources import resource_path

from shared_paths import CK_ZIP, FACES, FER_ZIP, VIDEOS, needs_ck_zip, needs_fer_zip

VIDEO = VIDEOS / "talking-720p.mp4"

needs_runtime = pytest.mark.skipif(
    not fa_mod.available(), reason="ai_edge_litert is not importable (pip install ai-edge-litert)"
)
needs_faces = pytest.mark.skipif(not FACES.is_dir(), reason=f"test photos not found at {FACES}")
pytestmark = [needs_runtime, needs_faces]


@pytest.fixture(scope="module")
def fa() -> FacialActions:
    return FacialActions()


@pytest.fixture(scope="module")
def yunet() -> YuNetFaceDetector:
    return YuNetFaceDetector()


def _read(name: str) -> np.ndarray:
    img = cv2.imread(str(FACES / name))
    assert img is not None, name
    return img


def _largest_box(det, img: np.ndarray) -> tuple[int, int, int, int]:
    boxes = [d.box for d in det.detect(img)]
    assert boxes, "YuNet found no face"
    return max(boxes, key=lambda b: (b[2] - b[0]) * (b[3] - b[1]))


def _nearest_box(det, img: np.ndarray, cx: float, cy: float) -> tuple[int, int, int, int]:
    boxes = [d.box for d in det.detect(img)]
    assert boxes, "YuNet found no face"
    return min(boxes, key=lambda b: abs((b[0] + b[2]) / 2 - cx) + abs((b[1] + b[3]) / 2 - cy))


def test_the_52_names_and_their_ranges_on_a_real_photo(fa, yunet):
    img = _read("obama.jpg")
    r = fa.measure(img, _largest_box(yunet, img))
    assert r is not None and r.face_presence > 0.9
    assert list(r.blendshapes) == list(BLENDSHAPE_NAMES) and len(BLENDSHAPE_NAMES) == 52
    assert BLENDSHAPE_NAMES[0] == "_neutral" and "mouthSmileLeft" in BLENDSHAPE_NAMES
    assert all(0.0 <= v <= 1.0 for v in r.blendshapes.values())
    assert r.blink_left == r.blendshapes["eyeBlinkLeft"] < 0.5  # eyes open
    assert r.blink_right == r.blendshapes["eyeBlinkRight"] < 0.5
    assert smile(r) > 0.7  # he smiles broadly in this photo
    assert all(abs(a) < 10 for a in (r.yaw, r.pitch, r.roll))  # faces the camera
    assert len(ACTION_COLUMNS) == 57 and ACTION_COLUMNS[5] == "bs__neutral"


def test_no_face_there_gives_no_measurement(fa):
    """The landmark model's face presence gates everything: a wall is not measured."""
    wall = np.full((480, 640, 3), 128, np.uint8)
    assert fa.measure(wall, (200, 100, 400, 300)) is None
    assert fa.measure(_read("obama.jpg"), (10, 10, 10, 40)) is None  # an empty box


def test_mirroring_flips_yaw_and_roll(fa, yunet):
    """biden.jpg: his head is turned and tilted (yaw about +10, roll about -11)."""
    img = _read("biden.jpg")
    box = _largest_box(yunet, img)
    mirror = cv2.flip(img, 1)
    x1, y1, x2, y2 = box
    mbox = _nearest_box(yunet, mirror, img.shape[1] - (x1 + x2) / 2, (y1 + y2) / 2)
    r, m = fa.measure(img, box), fa.measure(mirror, mbox)
    assert r is not None and m is not None
    assert r.yaw > 5 and r.roll < -5, (r.yaw, r.roll)
    assert m.yaw < -5 and m.roll > 5, (m.yaw, m.roll)
    assert m.yaw == pytest.approx(-r.yaw, abs=3) and m.roll == pytest.approx(-r.roll, abs=3)
    assert m.pitch == pytest.approx(r.pitch, abs=4)  # pitch stays


def test_rotating_the_face_by_15_degrees_raises_roll_by_about_15(fa, yunet):
    img = _read("obama.jpg")
    x1, y1, x2, y2 = box = _largest_box(yunet, img)
    centre = ((x1 + x2) / 2, (y1 + y2) / 2)
    m = cv2.getRotationMatrix2D(centre, 15, 1.0)  # counter-clockwise as displayed
    turned = cv2.warpAffine(img, m, (img.shape[1], img.shape[0]), borderMode=cv2.BORDER_REPLICATE)
    r0 = fa.measure(img, box)
    r1 = fa.measure(turned, _nearest_box(yunet, turned, *centre))
    assert r0 is not None and r1 is not None
    assert 10 <= r1.roll - r0.roll <= 20, (r0.roll, r1.roll)


def _zip_faces(zip_path, folder: str, n: int) -> list[np.ndarray]:
    """The first `n` images of `folder` in the zip, read in memory (never extracted)."""
    with zipfile.ZipFile(zip_path) as z:
        names = sorted(i for i in z.namelist() if i.startswith(folder) and i.endswith(".png"))
        names += sorted(i for i in z.namelist() if i.startswith(folder) and i.endswith(".jpg"))
        out = []
        for name in names[:n]:
            buf = np.frombuffer(io.BytesIO(z.read(name)).getvalue(), np.uint8)
            out.append(cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE))
    assert len(out) == n, f"{folder}: {len(out)} images"
    return out


def _smile_of_48px(fa, det, grey: np.ndarray) -> float:
    """A 48x48 grey face: upscaled 4x and padded (as a photo would frame it), YuNet's box (the
    whole face when YuNet misses it)."""
    big = cv2.resize(grey, (192, 192), interpolation=cv2.INTER_CUBIC)
    big = cv2.cvtColor(
        cv2.copyMakeBorder(big, 64, 64, 64, 64, cv2.BORDER_REPLICATE), cv2.COLOR_GRAY2BGR
    )
    boxes = [d.box for d in det.detect(big)]
    box = max(boxes, key=lambda b: b[2] - b[0]) if boxes else (64, 64, 256, 256)
    r = fa.measure(big, box)
    return smile(r) if r is not None else float("nan")


@needs_ck_zip
@needs_fer_zip
def test_a_happy_face_smiles_more_than_a_neutral_one(fa, yunet):
    """CK+ happy (posed) against FER2013 neutral (in the wild): the prototype measured 0.90
    against 0.04 on all of them."""
    happy = [_smile_of_48px(fa, yunet, g) for g in _zip_faces(CK_ZIP, "test/happy/", 12)]
    neutral = [_smile_of_48px(fa, yunet, g) for g in _zip_faces(FER_ZIP, "test/neutral/", 12)]
    h, n = np.nanmean(happy), np.nanmean(neutral)
    assert np.isfinite(happy).sum() >= 10 and np.isfinite(neutral).sum() >= 10
    assert h > 0.6 and n < 0.3 and h > n + 0.4, (h, n)


def test_a_changed_model_file_is_refused(tmp_path, monkeypatch):
    """The shipped bytes only: one byte changed in the landmark model and it does not load."""
    src = resource_path("models", fa_mod.MODEL_FOLDER)
    dst = tmp_path / "resources" / "models" / fa_mod.MODEL_FOLDER
    shutil.copytree(src, dst)
    monkeypatch.setenv("FER_DESKTOP_RESOURCES", str(tmp_path / "resources"))
    assert FacialActions() is not None  # the copy, intact, loads
    data = bytearray((dst / fa_mod.LANDMARKS_FILE).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (dst / fa_mod.LANDMARKS_FILE).write_bytes(bytes(data))
    with pytest.raises(UserError, match="replaced or damaged"):
        FacialActions()
    (dst / fa_mod.GEOMETRY_FILE).unlink()
    with pytest.raises(UserError, match="missing"):
        fa_mod.read_checked(fa_mod.GEOMETRY_FILE)
    assert "facial_actions/face_landmarks_detector.tflite" in shipped.SHIPPED_SHA256


# ------------------------------------------------------------------ the pipeline and the CLI
def test_the_pipeline_measures_each_face_only_when_the_setting_is_on():
    from fer_desktop.core.pipeline.pipeline import build_pipeline
    from fer_desktop.core.settings import Settings

    img = _read("two_people.jpg")
    on = build_pipeline(Settings(detector="yunet", facial_actions=True)).process(img, track=False)
    assert len(on.faces) == 2 and all(f.actions is not None for f in on.faces)
    assert on.stage_ms["actions"] > 0
    assert all(len(f.to_json()["actions"]["blendshapes"]) == 52 for f in on.faces)
    off = build_pipeline(Settings(detector="yunet", facial_actions=False)).process(img, track=False)
    assert [f.box for f in off.faces] == [f.box for f in on.faces]  # nothing else changes
    assert [f.label for f in off.faces] == [f.label for f in on.faces]
    assert all(f.actions is None for f in off.faces) and "actions" not in off.stage_ms
    assert all(f.to_json()["actions"] is None for f in off.faces)


def _main_json(capsys, argv: list[str]):
    from fer_desktop.cli import main

    code = main(argv)
    return code, json.loads(capsys.readouterr().out)


def test_annotate_json_gives_what_each_face_does(capsys, tmp_path):
    photo = str(FACES / "obama.jpg")
    code, out = _main_json(
        capsys, ["annotate", photo, "--json", "-o", str(tmp_path), "--detector", "yunet"]
    )  # fmt: skip  (photos: on by default)
    assert code == 0
    a = out[0]["faces"][0]["actions"]
    assert list(a["blendshapes"]) == list(BLENDSHAPE_NAMES)
    assert {"blink_left", "blink_right", "yaw", "pitch", "roll"} <= set(a)
    assert a["blendshapes"]["mouthSmileLeft"] > 0.7 and abs(a["yaw"]) < 10
    assert a["blink_left"] == a["blendshapes"]["eyeBlinkLeft"]
    code, out = _main_json(capsys, ["annotate", photo, "--json", "--no-save",
                                    "--detector", "yunet", "--no-facial-actions"])  # fmt: skip
    assert code == 0 and out[0]["faces"][0]["actions"] is None
    assert out[0]["faces"][0]["label"] == "happy"


def test_the_photos_csv_has_the_columns(tmp_path):
    from fer_desktop.core.photos import annotate as photos
    from fer_desktop.core.pipeline.pipeline import build_pipeline
    from fer_desktop.core.settings import Settings

    path = FACES / "biden.jpg"
    result, _ = photos.annotate_image(
        build_pipeline(Settings(detector="yunet", facial_actions=True)), path
    )
    out = photos.write_faces_csv(photos.faces_csv_rows(path, result), tmp_path / "faces.csv")
    with out.open(encoding="utf-8", newline="") as f:
        row = next(csv.DictReader(f))
    assert list(row)[-len(ACTION_COLUMNS) :] == list(ACTION_COLUMNS)
    assert float(row["yaw"]) > 5 and float(row["roll"]) < -5  # as measured above
    assert 0 <= float(row["bs_jawOpen"]) <= 1 and row["bs__neutral"] != ""


@pytest.mark.skipif(not VIDEO.is_file(), reason=f"test video not found at {VIDEO}")
def test_analyze_writes_the_columns_and_the_session_reads_them_back(capsys, tmp_path):
    from fer_desktop.core.sessions.layout import CSV_COLUMNS, V4_CSV_COLUMNS
    from fer_desktop.core.sessions.reader import load_session

    out = tmp_path / "session"
    code, _ = _main_json(capsys, ["analyze", str(VIDEO), "-o", str(out), "--every", "4",
                                  "--json", "--detector", "yunet", "--facial-actions"])  # fmt: skip
    assert code == 0
    with (out / "faces.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert list(CSV_COLUMNS[: len(V4_CSV_COLUMNS)]) == list(V4_CSV_COLUMNS)  # appended after
    assert sum(r["yaw"] != "" for r in rows) >= 0.9 * len(rows)
    session = load_session(out)
    (track,) = session.tracks.values()
    yaw, smile_ = track.action("yaw"), track.action("smile")
    assert len(yaw) == len(track.times) and np.isfinite(yaw).mean() >= 0.9
    assert np.nanmax(np.abs(yaw)) < 45 and 0 <= np.nanmin(smile_) <= np.nanmax(smile_) <= 1
    blink = track.action("blink_left")
    assert np.nanmax(blink) <= 1 and isinstance(track.blinks(), list)
