"""The ONNX export: it describes itself like the checkpoint, agrees with torch on real faces,
goes stale when its .pt changes, and a file that is not one of our models is a clear error."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from fer_desktop.core.classify.classifier import (
    EmotionClassifier,
    default_model_path,
    load_checkpoint,
)
from fer_desktop.core.classify.onnx_backend import read_metadata, sha256_of
from fer_desktop.core.support.errors import UserError

from shared_paths import SHARED

FER2013 = SHARED / "datasets" / "fer2013.zip"
SHIPPED_PT = default_model_path().with_suffix(".pt")
SHIPPED_ONNX = SHIPPED_PT.with_suffix(".onnx")
SHIPPED_INT8 = SHIPPED_PT.with_name("fer_net.int8.onnx")
CHECKPOINT_KEYS = ("arch", "arch_kwargs", "classes", "input_size", "in_channels", "mean", "std")


@pytest.fixture(scope="module")
def publictest_faces() -> tuple[np.ndarray, np.ndarray]:
    """400 PublicTest faces (48x48, a fixed random subset) with their labels."""
    if not FER2013.is_file():
        pytest.skip(f"FER2013 zip not found at {FER2013} (the shared datasets folder)")
    from fer_desktop.core.training.datasets import load_dataset

    test = load_dataset(FER2013, limit=400).splits["test"]
    assert len(test) == 400
    return test.images, test.labels


@pytest.fixture
def exported(tmp_path: Path) -> Path:
    """A copy of the shipped checkpoint, exported to ONNX by the real export command."""
    from fer_training.export import main

    pt = tmp_path / "model.pt"
    shutil.copyfile(SHIPPED_PT, pt)
    assert main([str(pt)]) == 0
    assert pt.with_suffix(".onnx").is_file()
    return pt


def test_shipped_export_is_up_to_date() -> None:
    """resources/models/fer_net.onnx was exported from the fer_net.pt beside it."""
    meta = read_metadata(SHIPPED_ONNX.read_bytes())
    assert json.loads(meta["source_sha256"]) == sha256_of(SHIPPED_PT), (
        "re-export: python -m fer_training.export resources/models/fer_net.pt"
    )


def test_export_carries_the_checkpoint_description(exported: Path) -> None:
    ckpt = load_checkpoint(exported)
    meta = {
        k: json.loads(v)
        for k, v in read_metadata(exported.with_suffix(".onnx").read_bytes()).items()
    }
    for key in CHECKPOINT_KEYS:
        assert meta[key] == ckpt[key], key
    assert meta["data_size"] == ckpt.get("data_size", ckpt["input_size"])
    assert meta["val_acc"] == ckpt["val_acc"] and meta["source_sha256"] == sha256_of(exported)
    assert "target_sharpness" not in meta  # retired (issue 14), never carried into an export

    alone = exported.parent / "alone" / "model.onnx"  # the export alone, no .pt beside it
    alone.parent.mkdir()
    shutil.copyfile(exported.with_suffix(".onnx"), alone)
    clf = EmotionClassifier(alone)
    assert clf.backend == "onnxruntime" and clf.device.type == "cpu" and clf.precision == "fp32"
    assert clf.classes == tuple(ckpt["classes"]) and clf.data_size == meta["data_size"]
    assert clf.name == f"{ckpt['arch']} (model.onnx, {clf.accuracy_text})"
    assert clf.accuracy_text.startswith(f"{ckpt['val_acc']:.1%} on ")


def test_onnx_agrees_with_torch_on_publictest(publictest_faces) -> None:
    images, labels = publictest_faces
    ref = EmotionClassifier(SHIPPED_PT, backend="torch", device="cpu", precision="fp32")
    assert ref.backend == "torch" and ref.precision == "fp32"
    p_ref = ref.predict_crops(images)
    for backend in ("onnxruntime", "opencv"):
        clf = EmotionClassifier(SHIPPED_PT, backend=backend, precision="fp32")
        assert clf.backend == backend and clf.model_file == SHIPPED_ONNX
        p = clf.predict_crops(images)
        assert p.shape == p_ref.shape == (len(images), 7)
        np.testing.assert_allclose(p.sum(1), 1.0, atol=1e-5)
        assert np.abs(p - p_ref).max() < 1e-4, backend
        assert (p.argmax(1) == p_ref.argmax(1)).all(), backend
        # Same accuracy on these faces, above what a constant answer gets (happy: 25%).
        assert (p.argmax(1) == labels).mean() == (p_ref.argmax(1) == labels).mean() > 0.3
    flipped = EmotionClassifier(SHIPPED_PT, tta=True, precision="fp32").predict_crops(images[:16])
    ref.tta = True
    assert np.abs(flipped - ref.predict_crops(images[:16])).max() < 1e-4


def test_int8_model_is_the_quantized_export_and_agrees_with_it(publictest_faces) -> None:
    """The shipped int8 file was quantized from the shipped export, and labels real faces as it
    does: the same class on nearly every face, the same accuracy within a point."""
    meta = {k: json.loads(v) for k, v in read_metadata(SHIPPED_INT8.read_bytes()).items()}
    assert meta["source_sha256"] == sha256_of(SHIPPED_ONNX), (
        "re-quantize: python -m fer_training.quantize resources/models/fer_net.onnx --calibrate "
        "../shared/datasets/ferplus.zip --evaluate ..."
    )
    assert meta["quantized"] == "int8" and meta["source"] == "fer_net.onnx"
    images, labels = publictest_faces
    fp32 = EmotionClassifier(SHIPPED_PT, precision="fp32")
    int8 = EmotionClassifier(SHIPPED_PT, precision="int8")
    assert (fp32.model_file, fp32.precision) == (SHIPPED_ONNX, "fp32")
    assert (int8.model_file, int8.precision) == (SHIPPED_INT8, "int8")
    p32, p8 = fp32.predict_crops(images), int8.predict_crops(images)
    np.testing.assert_allclose(p8.sum(1), 1.0, atol=1e-5)
    assert 1e-4 < np.abs(p8 - p32).max() < 0.35  # another network, not a copy; close to it
    assert (p8.argmax(1) == p32.argmax(1)).mean() >= 0.95
    assert abs((p8.argmax(1) == labels).mean() - (p32.argmax(1) == labels).mean()) <= 0.01
    # its own figures, measured on the file itself, are shown (the shipped checksum)
    assert int8.val_acc == meta["val_acc"] != fp32.val_acc and int8.verified


def test_int8_is_used_only_beside_the_export_it_was_quantized_from(tmp_path: Path) -> None:
    """A user's export with the shipped int8 file copied beside it: the int8 file speaks for
    another export, so auto runs the user's fp32 export and int8 asked for is refused."""
    mine = tmp_path / "mine.onnx"
    shutil.copyfile(SHIPPED_ONNX, mine)
    auto = EmotionClassifier(mine)  # a copy of the shipped export, no int8 beside it yet
    assert (auto.model_file, auto.precision) == (mine, "fp32")
    with pytest.raises(UserError, match="No int8 model for mine.onnx: there is no mine.int8"):
        EmotionClassifier(mine, precision="int8")
    shutil.copyfile(SHIPPED_INT8, tmp_path / "mine.int8.onnx")
    assert EmotionClassifier(mine, precision="int8").precision == "int8"  # same bytes: its source
    other = tmp_path / "other.onnx"
    import onnx

    model = onnx.load(str(SHIPPED_ONNX))
    model.doc_string += " (a user's copy)"  # another file, the same network
    onnx.save(model, str(other))
    shutil.copyfile(SHIPPED_INT8, tmp_path / "other.int8.onnx")
    assert EmotionClassifier(other).precision == "fp32"
    with pytest.raises(UserError, match="quantized from another version of other.onnx"):
        EmotionClassifier(other, precision="int8")
    chosen = EmotionClassifier(tmp_path / "mine.int8.onnx", precision="int8")  # chosen itself
    assert (chosen.model_file.name, chosen.precision) == ("mine.int8.onnx", "int8")
    for other_runtime in ({"backend": "opencv"}, {"backend": "torch"}, {"device": "cuda"}):
        with pytest.raises(UserError, match="int8 precision runs on the CPU, on ONNX Runtime"):
            EmotionClassifier(mine, precision="int8", **other_runtime)


def test_default_is_the_int8_onnx_model_on_a_cpu() -> None:
    clf = EmotionClassifier(device="cpu")
    assert clf.backend == "onnxruntime" and clf.model_file == SHIPPED_INT8
    assert clf.runtime == "cpu (int8, onnxruntime)"
    frame = np.full((240, 320, 3), 128, np.uint8)
    probs, ms = clf.classify(frame, [(100, 60, 200, 180)], landmarks=[None])
    assert probs.shape == (1, 7) and set(ms) == {"preprocess", "classify"}


def test_stale_export_is_not_used(exported: Path) -> None:
    """After the .pt changes (a resumed run improved it), its old .onnx no longer speaks for it."""
    import torch

    ckpt = load_checkpoint(exported)
    ckpt["val_acc"] = 0.99
    torch.save(ckpt, exported)
    clf = EmotionClassifier(exported, device="cpu")
    assert clf.backend == "torch" and clf.val_acc == 0.99
    with pytest.raises(UserError, match="exported from another version") as e:
        EmotionClassifier(exported, backend="onnx")
    assert "fer_training.export" in e.value.hint


@pytest.mark.parametrize(
    "content",
    [b"", b"not a model at all", b"\x08\x07\x12\x05hello", "truncated"],
    ids=["empty", "text", "no-graph", "truncated"],
)
def test_onnx_file_that_is_not_a_model_is_a_clear_error(tmp_path: Path, content) -> None:
    if content == "truncated":
        content = SHIPPED_ONNX.read_bytes()[:100_000]
    bad = tmp_path / "weights.onnx"
    bad.write_bytes(content)
    with pytest.raises(UserError) as e:
        EmotionClassifier(bad)
    assert "weights.onnx" in e.value.message and e.value.hint
    assert bad.read_bytes() == content  # the user's file is untouched


def test_onnx_model_that_is_not_ours_is_a_clear_error(tmp_path: Path) -> None:
    yunet = SHARED / "models" / "face_detection_yunet.onnx"
    if not yunet.is_file():
        pytest.skip(f"{yunet} not found (the shared models folder)")
    other = tmp_path / "detector.onnx"
    shutil.copyfile(yunet, other)
    with pytest.raises(UserError, match="not a fer_desktop emotion model"):
        EmotionClassifier(other)


def test_fer_train_exports_best_onnx_and_the_app_uses_it(tmp_path: Path) -> None:
    """The end of every run writes best.onnx beside best.pt ("Use this model" needs no torch)."""
    if not FER2013.is_file():
        pytest.skip(f"FER2013 zip not found at {FER2013} (the shared datasets folder)")
    from fer_training.cli import main

    out = tmp_path / "run"
    args = ["--data", str(FER2013), "--arch", "tiny_cnn", "--epochs", "1", "--limit", "64"]
    assert main([*args, "--batch-size", "32", "--out", str(out)]) == 0
    best = out / "best.pt"
    assert best.is_file() and best.with_suffix(".onnx").is_file()
    clf = EmotionClassifier(best, device="cpu")
    assert clf.backend == "onnxruntime" and clf.arch == "tiny_cnn"
    ref = EmotionClassifier(best, backend="torch", device="cpu", precision="fp32")
    faces = np.random.default_rng(0).integers(0, 256, (8, 48, 48), dtype=np.uint8)
    assert np.abs(clf.predict_crops(faces) - ref.predict_crops(faces)).max() < 1e-4


def test_shipping_a_checkpoint_in_place_keeps_a_loadable_pt_and_exports_beside_it(tmp_path: Path):
    """`export X.pt X.pt` (as the model card's command does) strips X.pt in place and writes
    X.onnx beside it; it once wrote the ONNX over the .pt."""
    from fer_training.export import main

    pt = tmp_path / "model.pt"
    shutil.copyfile(SHIPPED_PT, pt)
    assert main([str(pt), str(pt)]) == 0
    ckpt = load_checkpoint(pt)  # still a checkpoint, not ONNX bytes
    assert ckpt["arch"] and pt.with_suffix(".onnx").is_file()
    meta = read_metadata(pt.with_suffix(".onnx").read_bytes())
    assert json.loads(meta["source_sha256"]) == sha256_of(pt)
