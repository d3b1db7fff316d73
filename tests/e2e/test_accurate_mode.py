"""Accurate mode (issue 17): annotate and analyze run the teachers' shipped ensemble with
--accurate; bench and Live never do; a missing ensemble is one clear message."""

from __future__ import annotations

import json

import pytest

from fer_desktop.cli import main
from fer_desktop.core.classify.ensemble import EnsembleClassifier, accurate_models
from fer_desktop.core.pipeline.pipeline import build_pipeline
from fer_desktop.core.pipeline.shared_models import load_models
from fer_desktop.core.settings import Settings
from fer_desktop.core.support.resources import resources_dir

from shared_paths import FACES

needs_faces = pytest.mark.skipif(not FACES.is_dir(), reason=f"test photos not found at {FACES}")


def _annotate(capsys, *extra: str) -> dict:
    code = main(["annotate", str(FACES / "obama.jpg"), "--no-save", "--json", "--detector",
                 "yunet", *extra])  # fmt: skip
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and len(out[0]["faces"]) == 1
    return out[0]["faces"][0]["probabilities"]


def test_the_shipped_ensemble_is_three_calibrated_models():
    names = [p.name for p in accurate_models()]
    assert names == ["fer_net_v2.onnx", "teacher_a.onnx", "teacher_c.onnx"]
    clf = build_pipeline(Settings(detector="yunet", accurate=True)).classifier
    assert isinstance(clf, EnsembleClassifier)
    assert all(m.verified and m.calibration for m in clf.members)  # checksummed, calibrated


@needs_faces
def test_annotate_accurate_runs_the_ensemble_and_differs(capsys):
    fast, accurate = _annotate(capsys), _annotate(capsys, "--accurate")
    assert abs(sum(accurate.values()) - 1) < 0.01
    assert max(abs(fast[c] - accurate[c]) for c in fast) > 0.01  # another model answered


def test_live_models_keep_the_fast_model_when_accurate_is_on():
    models = load_models(Settings(detector="yunet", device="cpu", accurate=True))
    assert isinstance(models.accurate, EnsembleClassifier)
    live = models.pipeline(Settings())  # the Live tab's call
    assert live.classifier is models.classifier and models.classifier.arch == "fer_net"
    assert models.pipeline(Settings(), accurate=True).classifier is models.accurate
    s = Settings(detector="yunet", accurate=True)
    assert build_pipeline(s, accurate=False).classifier.arch == "fer_net"  # what bench runs


@needs_faces
def test_missing_ensemble_is_one_message_and_the_photo_untouched(tmp_path, monkeypatch, capsys):
    real = resources_dir()
    res = tmp_path / "resources"
    (res / "models").mkdir(parents=True)
    for entry in real.iterdir():
        if entry.name != "models":
            (res / entry.name).symlink_to(entry)
    for f in (real / "models").iterdir():
        if f.name != "accurate":
            (res / "models" / f.name).symlink_to(f)
    monkeypatch.setenv("FER_DESKTOP_RESOURCES", str(res))
    code = main(["annotate", str(FACES / "obama.jpg"), "--no-save", "--accurate"])
    err = capsys.readouterr().err
    assert code != 0 and "accurate mode's models are missing" in err and "Traceback" not in err
    assert _annotate(capsys, "--no-accurate")  # the fast model still works
