"""Dataset reading (fer_desktop.core.training.datasets) on real files: layouts, class names, bad files."""

from __future__ import annotations

import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest

from fer_desktop.core.emotions import CLASSES
from fer_desktop.core.support.errors import UserError
from fer_desktop.core.training.datasets import EXPECTED, load_dataset, train_val_splits

from shared_paths import FER_ZIP, needs_fer_zip


def _write_faces(folder: Path, n: int, seed: int, ext: str = ".png") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        img = rng.integers(0, 256, (64, 64), dtype=np.uint8)  # not 48x48: must be resized
        assert cv2.imwrite(str(folder / f"face_{i}{ext}"), img)


@pytest.fixture
def images_layout(tmp_path: Path) -> Path:
    """images/train + images/validation with capitalised / alias class names and one bad file."""
    root = tmp_path / "ds"
    _write_faces(root / "images" / "train" / "Anger", 3, 1)
    _write_faces(root / "images" / "train" / "Happiness", 2, 2, ".jpg")
    _write_faces(root / "images" / "train" / "Surprised", 1, 3)
    _write_faces(root / "images" / "validation" / "Anger", 2, 4)
    _write_faces(root / "images" / "validation" / "happy", 1, 5)
    (root / "images" / "train" / "Anger" / "broken.jpg").write_bytes(b"this is not a jpeg")
    (root / "images" / "train" / "notes.txt").write_text("not an image, ignored")
    (root / "images" / "train" / "unicorn").mkdir()
    _write_faces(root / "images" / "train" / "unicorn", 2, 6)  # not an emotion: ignored
    return root


def test_images_train_validation_layout_and_class_names(images_layout: Path):
    ds = load_dataset(images_layout)
    assert set(ds.splits) == {"train", "val"}
    train, val = ds.splits["train"], ds.splits["val"]
    assert train.images.shape == (6, 48, 48) and train.images.dtype == np.uint8
    counts = dict(zip(CLASSES, train.class_counts()))
    assert counts["angry"] == 3 and counts["happy"] == 2 and counts["surprise"] == 1
    assert sum(counts.values()) == 6
    assert dict(zip(CLASSES, val.class_counts()))["angry"] == 2
    assert len(val) == 3
    # the unreadable image is skipped and counted, and named
    assert ds.skipped == 1
    assert any("broken.jpg" in e for e in ds.skipped_examples)
    assert "1 unreadable skipped" in ds.summary()
    t, v, name = train_val_splits(ds)
    assert name == "val" and len(t) == 6 and len(v) == 3


def test_same_layout_inside_a_zip_with_a_top_folder(images_layout: Path, tmp_path: Path):
    zpath = tmp_path / "faces.zip"
    with zipfile.ZipFile(zpath, "w") as z:
        for f in images_layout.rglob("*"):
            if f.is_file():
                z.write(f, "my-dataset/" + f.relative_to(images_layout).as_posix())
    ds = load_dataset(zpath)
    assert {k: len(s) for k, s in ds.splits.items()} == {"train": 6, "val": 3}
    assert ds.skipped == 1


def test_single_split_holds_out_validation(tmp_path: Path):
    for i, cls in enumerate(("sad", "Fear", "neutral")):
        _write_faces(tmp_path / "flat" / cls, 10, i)
    ds = load_dataset(tmp_path / "flat")
    assert list(ds.splits) == ["all"]
    train, val, name = train_val_splits(ds)
    assert len(train) + len(val) == 30 and len(val) == 3 and "held out" in name


@needs_fer_zip
def test_limit_keeps_at_most_n_per_split():
    ds = load_dataset(FER_ZIP, limit=25)
    assert {k: len(s) for k, s in ds.splits.items()} == {"train": 25, "test": 25}


@pytest.mark.parametrize("kind", ["empty", "text_files", "fake_zip", "missing", "bad_csv"])
def test_malformed_datasets_name_the_expected_layout(tmp_path: Path, kind: str):
    path = tmp_path / kind
    if kind == "empty":
        path.mkdir()
    elif kind == "text_files":
        path.mkdir()
        for i in range(3):
            (path / f"random_{i}.txt").write_text(f"hello {i}\n")
    elif kind == "fake_zip":
        path = tmp_path / "faces.zip"
        path.write_text("definitely not a zip archive")
    elif kind == "bad_csv":
        path = tmp_path / "fer2013.csv"
        path.write_text("a,b\n1,2\n")
    with pytest.raises(UserError) as info:
        load_dataset(path)
    text = f"{info.value.message} {info.value.hint}"
    assert EXPECTED in text or "emotion,pixels" in text
    if kind != "bad_csv":
        assert "train/<class>" in text


@needs_fer_zip
def test_shared_zip_is_the_sharp_copy_with_the_documented_counts():
    """The zip now holds the sharp Training split (28,278 faces) and PublicTest (3,589)."""
    ds = load_dataset(FER_ZIP)
    train, test = ds.splits["train"], ds.splits["test"]
    assert np.bincount(train.labels, minlength=7).tolist() == [
        3912,
        411,
        4020,
        7187,
        4937,
        4804,
        3007,
    ]
    assert np.bincount(test.labels, minlength=7).tolist() == [467, 56, 496, 895, 607, 653, 415]

    # sharp, like the test faces: median Laplacian variance of both splits within 30% of each other
    def detail(images: np.ndarray) -> float:
        return float(np.median([cv2.Laplacian(im, cv2.CV_32F).var() for im in images[:500]]))

    assert 0.7 < detail(train.images) / detail(test.images) < 1.3
