"""core.photos: loading user images safely, annotating them, saving copies and the faces CSV."""

from __future__ import annotations

import csv
import hashlib
import shutil
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from fer_desktop.core.emotions import CLASSES
from fer_desktop.core.photos import annotate as photos
from fer_desktop.core.photos import io as photo_io
from fer_desktop.core.pipeline.pipeline import build_pipeline
from fer_desktop.core.settings import Settings
from fer_desktop.core.support.errors import UserError


@pytest.fixture(scope="module")
def pipeline():
    return build_pipeline(Settings(detector="yunet", device="cpu"))


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG that declares width x height but carries almost no data (a cheap 'huge' image)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )
    return path


def test_load_image_reads_bgr_and_unicode_paths(testdata, tmp_path):
    src = testdata / "faces" / "obama.jpg"
    img = photo_io.load_image(src)
    assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3
    assert img.shape[:2] == cv2.imread(str(src)).shape[:2]
    uni = tmp_path / "Фото été 写真.jpg"
    shutil.copy(src, uni)
    assert np.array_equal(photo_io.load_image(uni), img)


def test_grayscale_and_alpha_images_become_bgr(tmp_path):
    gray = tmp_path / "gray.png"
    cv2.imwrite(str(gray), np.full((40, 50), 77, np.uint8))
    rgba = tmp_path / "rgba.png"
    cv2.imwrite(str(rgba), np.zeros((30, 20, 4), np.uint8))
    assert photo_io.load_image(gray).shape == (40, 50, 3)
    assert photo_io.load_image(rgba).shape == (30, 20, 3)


@pytest.mark.parametrize("kind", ["missing", "empty", "truncated", "text", "folder"])
def test_unusable_files_raise_a_clear_user_error(kind, testdata, tmp_path):
    path = tmp_path / f"{kind}.jpg"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "truncated":
        path.write_bytes((testdata / "faces" / "obama.jpg").read_bytes()[:100])
    elif kind == "text":
        path.write_text("this is not a picture\n" * 20)
    elif kind == "folder":
        path.mkdir()
    with pytest.raises(UserError) as info:
        photo_io.load_image(path)
    assert path.name in info.value.message
    assert info.value.hint  # says what to do


def test_huge_image_is_refused_before_decoding(tmp_path):
    path = png_header_only(tmp_path / "huge.png", 12_000, 10_000)  # 120 MP
    with pytest.raises(UserError, match="too large") as info:
        photo_io.load_image(path)
    assert "120 MP" in info.value.message and "100 MP" in info.value.message
    # Beyond Pillow's own decompression-bomb limit too.
    bomb = png_header_only(tmp_path / "bomb.png", 30_000, 30_000)
    with pytest.raises(UserError, match="too large"):
        photo_io.load_image(bomb)


def test_annotate_two_people_finds_two_faces_and_draws(pipeline, testdata):
    path = testdata / "faces" / "two_people.jpg"
    original = photo_io.load_image(path)
    result, annotated = photos.annotate_image(pipeline, path)
    assert len(result.faces) == 2
    assert sorted(f.track_id for f in result.faces) == [1, 2]  # faces numbered from 1, as live
    for f in result.faces:
        assert set(f.probabilities) == set(CLASSES)
        assert sum(f.probabilities.values()) == pytest.approx(1.0, abs=1e-3)
        x1, y1, x2, y2 = f.box
        assert 0 <= x1 < x2 <= original.shape[1] and 0 <= y1 < y2 <= original.shape[0]
    assert annotated.shape == original.shape
    changed = np.any(annotated != original, axis=2)
    for f in result.faces:  # the overlay touched every face's box outline
        x1, y1, x2, y2 = f.box
        assert changed[y1 : y2 + 1, x1 : x2 + 1].any()


def test_no_face_image_gets_a_banner(pipeline, tmp_path):
    path = tmp_path / "black.png"
    cv2.imwrite(str(path), np.zeros((300, 400, 3), np.uint8))
    result, annotated = photos.annotate_image(pipeline, path)
    assert result.faces == []
    assert annotated[:40, :200].max() > 200  # white "No face found" text


def test_save_never_overwrites_and_keeps_originals(pipeline, testdata, tmp_path):
    src = tmp_path / "two_people.jpg"
    shutil.copy(testdata / "faces" / "two_people.jpg", src)
    before = sha(src)
    _, annotated = photos.annotate_image(pipeline, src)
    first = photos.save_annotated(annotated, src, tmp_path)
    assert first.name == "two_people_annotated.jpg"
    first_hash = sha(first)
    second = photos.save_annotated(annotated, src, tmp_path)
    assert second != first and second.exists()
    assert sha(first) == first_hash and sha(src) == before
    assert photo_io.load_image(first).shape == annotated.shape
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave no temp files


def test_save_unsupported_extension_falls_back_to_png(tmp_path):
    img = np.zeros((10, 10, 3), np.uint8)
    out = photos.save_annotated(img, tmp_path / "scan.pgm", tmp_path / "out")
    assert out.name == "scan_annotated.png" and out.is_file()


def test_faces_csv(pipeline, testdata, tmp_path):
    path = testdata / "faces" / "two_people.jpg"
    result, _ = photos.annotate_image(pipeline, path)
    rows = photos.faces_csv_rows(path, result)
    out = photos.write_faces_csv(rows, tmp_path / "faces.csv")
    again = photos.write_faces_csv(rows, tmp_path / "faces.csv")
    assert again.name == "faces-1.csv"
    with out.open(encoding="utf-8", newline="") as f:
        read = list(csv.DictReader(f))
    assert list(read[0].keys()) == list(photos.PHOTO_CSV_COLUMNS)
    assert len(read) == 2
    for row, face in zip(read, result.faces):
        assert row["image"] == "two_people.jpg"
        assert [int(row[k]) for k in ("x1", "y1", "x2", "y2")] == list(face.box)
        assert row["label"] == face.label and row["emoji"] == face.emoji
        assert sum(float(row[c]) for c in CLASSES) == pytest.approx(1.0, abs=2e-3)
    assert [r["face"] for r in read] == ["1", "2"]


def test_collect_images_expands_folders(testdata, tmp_path):
    (tmp_path / "sub").mkdir()
    shutil.copy(testdata / "faces" / "obama.jpg", tmp_path / "sub" / "a.jpg")
    (tmp_path / "notes.txt").write_text("x")
    got = photo_io.collect_images([tmp_path, testdata / "faces" / "biden.jpg"])
    assert got == [tmp_path / "sub" / "a.jpg", testdata / "faces" / "biden.jpg"]
