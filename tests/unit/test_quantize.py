"""`python -m fer_training.quantize`: the real quantization of the shipped export, calibrated on
real FER+ faces, loaded by the app as int8 beside its export, with its own measured figures."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from fer_desktop.core.classify.classifier import EmotionClassifier, default_model_path
from fer_desktop.core.classify.onnx_backend import read_metadata, sha256_of
from fer_desktop.core.evaluation.classifier_eval import evaluate_classifier

from shared_paths import REPO, SHARED

FERPLUS = SHARED / "datasets" / "ferplus.zip"
CKPLUS = SHARED / "datasets" / "ckplus48.zip"
EXPORT = default_model_path().with_suffix(".onnx")

needs_data = pytest.mark.skipif(
    not (FERPLUS.is_file() and CKPLUS.is_file()), reason=f"FER+ or CK+ zip not found in {SHARED}"
)


@needs_data
def test_quantized_export_loads_as_int8_with_its_own_figures(tmp_path, capsys):
    from fer_training.quantize import main

    mine = tmp_path / "mine.onnx"
    shutil.copyfile(EXPORT, mine)
    args = [str(mine), "--calibrate", str(FERPLUS), "--count", "40", "--evaluate", str(CKPLUS)]
    assert main(args) == 0
    out = tmp_path / "mine.int8.onnx"
    assert capsys.readouterr().out.strip() == str(out)
    meta = {k: json.loads(v) for k, v in read_metadata(out.read_bytes()).items()}
    assert meta["quantized"] == "int8" and meta["source_sha256"] == sha256_of(mine)
    assert "40 faces of ferplus.zip train" in meta["quantization"]
    assert meta["classes"] == json.loads(read_metadata(EXPORT.read_bytes())["classes"])

    int8 = EmotionClassifier(mine)  # auto: the int8 file beside the export it came from
    fp32 = EmotionClassifier(mine, precision="fp32")
    assert (int8.model_file, int8.precision, fp32.precision) == (out, "int8", "fp32")
    measured = evaluate_classifier(int8, str(CKPLUS))
    assert meta["val_sets"]["ckplus48"]["acc"] == measured["accuracy"] == meta["val_acc"]
    assert meta["val_sets"]["ckplus48"]["confusion_matrix"] == measured["confusion_matrix"]
    reference = evaluate_classifier(fp32, str(CKPLUS))
    assert abs(measured["accuracy"] - reference["accuracy"]) <= 0.03
    x = np.random.default_rng(0).integers(0, 256, (8, 48, 48), dtype=np.uint8)
    assert np.abs(int8.predict_crops(x) - fp32.predict_crops(x)).max() > 1e-4  # not a copy


@needs_data
def test_what_is_not_our_export_is_a_one_line_error(tmp_path, capsys):
    from fer_training.quantize import main

    yunet = REPO / "resources" / "detectors" / "face_detection_yunet.onnx"
    assert main([str(yunet), "--calibrate", str(FERPLUS), "-o", str(tmp_path / "q.onnx")]) == 2
    assert "is not a fer_desktop export" in capsys.readouterr().err
    assert not (tmp_path / "q.onnx").exists()
