"""The app, not the model file, knows which files are the shipped models (issue 28)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from fer_desktop.core.classify import shipped
from fer_desktop.core.classify.classifier import EmotionClassifier, default_model_path
from fer_desktop.core.classify.onnx_backend import sha256_of
from fer_desktop.core.support.errors import UserError


def test_the_table_lists_every_shipped_model_file_as_it_is():
    assert shipped.current_table() == shipped.SHIPPED_SHA256, (
        "a model in resources/models/ changed: python -m fer_desktop.core.classify.shipped"
    )


def test_the_shipped_model_shows_its_figures_and_a_replaced_one_does_not(tmp_path, monkeypatch):
    clf = EmotionClassifier(default_model_path().with_suffix(".onnx"), device="cpu")
    assert clf.val_sets, "the shipped model names its measured figures"
    # the same bytes with one weight changed and the file's own checksum written again would
    # pass the file's check; here simply a copy under resources/ that is not the listed bytes
    fake_root = tmp_path / "resources"
    (fake_root / "models").mkdir(parents=True)
    onnx = default_model_path().with_suffix(".onnx")
    copy = fake_root / "models" / onnx.name
    shutil.copy(onnx, copy)
    monkeypatch.setenv("FER_DESKTOP_RESOURCES", str(fake_root))
    monkeypatch.setitem(shipped.SHIPPED_SHA256, onnx.name, "0" * 64)  # not these bytes
    replaced = EmotionClassifier(copy, device="cpu")
    assert not replaced.val_sets and replaced.val_acc is None
    assert "%" not in replaced.name


def test_a_replaced_accurate_member_is_refused(tmp_path, monkeypatch):
    """A version that ships an ensemble: its members are checked byte for byte against the app's
    list; one replaced by another file, or missing, is refused with a message."""
    from fer_desktop.core.classify.ensemble import accurate_models

    teachers = sorted(
        (Path(__file__).resolve().parents[2] / "training" / "teachers").glob("v4_*.onnx")
    )
    fake = tmp_path / "resources" / "models" / "accurate"
    fake.mkdir(parents=True)
    for t in teachers:
        shutil.copy(t, fake / t.name)
        monkeypatch.setitem(shipped.SHIPPED_SHA256, f"accurate/{t.name}", sha256_of(t))
    monkeypatch.setenv("FER_DESKTOP_RESOURCES", str(tmp_path / "resources"))
    assert [p.name for p in accurate_models()] == [t.name for t in teachers]  # intact: accepted
    (fake / teachers[0].name).write_bytes(teachers[1].read_bytes())  # replaced by another
    with pytest.raises(UserError, match="replaced or damaged"):
        accurate_models()
    (fake / teachers[0].name).unlink()
    with pytest.raises(UserError, match="missing"):
        accurate_models()
