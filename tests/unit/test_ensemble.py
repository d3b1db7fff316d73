"""An ensemble of models stands where one model does (issue 17: the teachers' own figures)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from fer_desktop.core.classify.classifier import EmotionClassifier
from fer_desktop.core.classify.ensemble import EnsembleClassifier
from fer_desktop.core.support.errors import UserError
from fer_desktop.core.support.resources import resource_path


def test_an_ensemble_averages_its_members(tmp_path):
    onnx = resource_path("models", "fer_net.onnx")
    a, b = tmp_path / "a.onnx", tmp_path / "b.onnx"
    shutil.copy(onnx, a)
    shutil.copy(onnx, b)
    crops = np.random.default_rng(0).integers(0, 256, (5, 48, 48), dtype=np.uint8)
    one = EmotionClassifier(a).predict_crops(crops)
    both = EnsembleClassifier([a, b])
    assert np.allclose(both.predict_crops(crops), one, atol=1e-6)
    assert (
        both.name == "ensemble of a.onnx, b.onnx" and both.classes == EmotionClassifier(a).classes
    )
    with pytest.raises(UserError):
        EnsembleClassifier([a])
