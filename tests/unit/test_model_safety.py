"""A model file a user opens never runs code (issue 14.6): a hostile pickle is refused with a
clear error in every place that opens one, and the command it carries never runs."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from fer_desktop.core.classify.classifier import EmotionClassifier
from fer_desktop.core.support.errors import UserError

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the payload uses a POSIX shell")


class _Payload:
    """Unpickling this calls os.system: what a malicious 'model' would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch '{self.marker}'",))


def _hostile_files(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(torch-format .pt, plain-pickle .pt, marker). Both look like checkpoints."""
    import torch

    marker = tmp_path / "PWNED"
    fields = {"arch": "fer_net", "classes": ["angry"], "input_size": 48, "mean": 0.5, "std": 0.5}
    zipped = tmp_path / "evil.pt"
    torch.save({**fields, "model": _Payload(marker)}, zipped)
    raw = tmp_path / "evil_raw.pt"  # protocol 2, as torch.save writes: reaches the GLOBAL check
    raw.write_bytes(pickle.dumps({**fields, "model": _Payload(marker)}, protocol=2))
    return zipped, raw, marker


def test_hostile_pickle_is_refused_by_the_classifier(tmp_path: Path) -> None:
    zipped, raw, marker = _hostile_files(tmp_path)
    for path in (zipped, raw):
        with pytest.raises(UserError, match="refused") as e:
            EmotionClassifier(path, device="cpu")
        assert path.name in e.value.message and "trust" in e.value.hint
        assert not marker.exists(), f"loading {path.name} ran its code"
    newer = tmp_path / "evil_p5.pt"  # a newer pickle protocol fails even earlier: still an error
    newer.write_bytes(pickle.dumps({"model": _Payload(marker)}, protocol=5))
    with pytest.raises(UserError, match="evil_p5.pt"):
        EmotionClassifier(newer, device="cpu")
    assert not marker.exists()
    # Control: the payload is real. An unsafe load runs it (this is what the app must never do).
    with raw.open("rb") as f:
        pickle.load(f)  # deliberately unsafe, on our own test file
    assert marker.exists()


def _run(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "FER_DESKTOP_HOME": str(tmp_path / "home")}
    return subprocess.run(
        [sys.executable, "-m", *args], capture_output=True, text=True, env=env, timeout=300
    )


def test_hostile_pickle_is_refused_by_evaluate_export_and_resume(tmp_path: Path) -> None:
    zipped, _, marker = _hostile_files(tmp_path)
    data = tmp_path / "data"  # any labelled folder: the model is opened before the data
    for cls in ("happy", "sad"):
        (data / "test" / cls).mkdir(parents=True)
    proc = _run(["fer_desktop", "evaluate", str(data), "--model", str(zipped), "--json"], tmp_path)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "refused" in json.loads(proc.stdout.strip().splitlines()[-1])["error"]

    proc = _run(["fer_training.export", str(zipped)], tmp_path)
    assert proc.returncode == 2 and "refused" in proc.stderr, (
        proc.stdout + proc.stderr[-2000:]
    )  # errors on stderr
    assert not zipped.with_suffix(".onnx").exists()

    run = tmp_path / "run"  # fer-train --resume reads the run's last.pt
    run.mkdir()
    (run / "last.pt").write_bytes(zipped.read_bytes())
    proc = _run(["fer_training", "--resume", str(run)], tmp_path)
    assert proc.returncode != 0
    errors = [json.loads(x) for x in proc.stdout.splitlines() if '"error"' in x]
    assert errors and "Cannot resume" in errors[-1]["message"], proc.stdout[-2000:]
    assert not marker.exists(), "a hostile checkpoint ran its code"


# --- issue 19.3: a model is checked before it is trusted -------------------------------------
def _damaged_models(tmp_path):
    """The three damaged exports of the shipped model: flipped weight bytes, a wrong input
    shape, a wrong number of outputs (the last two re-labelled as if exported so)."""
    import numpy as np

    onnx = pytest.importorskip("onnx")
    from fer_desktop.core.support.resources import resource_path

    src = resource_path("models", "fer_net.onnx")
    data = bytearray(src.read_bytes())
    rng = np.random.default_rng(0)
    mid = len(data) // 2
    for i in rng.choice(np.arange(mid - 1_000_000, mid + 1_000_000), 2000, replace=False):
        data[i] ^= 0xFF
    (tmp_path / "flipped.onnx").write_bytes(bytes(data))

    def relabel(m, name):
        props = {p.key: p.value for p in m.metadata_props if p.key != "graph_sha256"}
        del m.metadata_props[:]
        onnx.helper.set_model_props(m, props)
        onnx.save(m, str(tmp_path / name))

    m = onnx.load(str(src))
    for d in (2, 3):
        m.graph.input[0].type.tensor_type.shape.dim[d].dim_value = 64
    relabel(m, "wrong_input.onnx")
    m = onnx.load(str(src))
    out = m.graph.output[0]
    m.graph.node.append(onnx.helper.make_node("Slice", [out.name, "s0", "s1", "ax"], ["p5"]))
    for n, v in (("s0", [0]), ("s1", [5]), ("ax", [1])):
        m.graph.initializer.append(onnx.numpy_helper.from_array(np.array(v, np.int64), n))
    out.name = "p5"
    out.type.tensor_type.shape.dim[1].dim_value = 5
    relabel(m, "wrong_output.onnx")
    return tmp_path


@pytest.mark.parametrize(
    "name, why",
    [
        ("flipped.onnx", "do not match the checksum"),
        ("wrong_input.onnx", "cannot take a 48x48 grey face"),
        ("wrong_output.onnx", "gives 5 outputs per face for its 7 classes"),
    ],
)
def test_damaged_models_are_refused_with_a_message(tmp_path, name, why):
    from fer_desktop.core.classify.classifier import EmotionClassifier

    folder = _damaged_models(tmp_path)
    with pytest.raises(UserError) as err:
        EmotionClassifier(folder / name)
    assert why in err.value.message
    # and on the command line: one message, exit 2, no traceback
    import subprocess
    import sys

    r = subprocess.run(
        [sys.executable, "-m", "fer_desktop", "evaluate", "--model", str(folder / name),
         str(tmp_path / "nothing.zip")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode == 2 and why in r.stderr and "Traceback" not in r.stderr


def test_the_shipped_model_is_verified_and_says_its_accuracy():
    from fer_desktop.core.classify.classifier import EmotionClassifier

    clf = EmotionClassifier()
    assert clf.verified and "% on FER+ Valid" in clf.name


def test_the_shipped_model_is_calibrated_and_finds_the_rare_classes():
    """Temperature and logit adjustment travel with the model (issue 17): the temperature never
    changes the label, the adjustment favours the rare classes, and PublicTest confirms it."""
    import numpy as np

    from fer_desktop.core.evaluation.classifier_eval import evaluate_classifier

    from shared_paths import FERPLUS_ZIP

    clf = EmotionClassifier()
    cal = clf.calibration
    assert cal and 0.5 < cal["temperature"] < 2 and cal["tau"] == 0.25  # v5, on FER+ Valid
    p = np.random.default_rng(0).dirichlet(np.ones(7), 50).astype(np.float32)
    adjusted = clf.calibrate(p)
    prior = np.asarray(cal["prior"])
    assert np.allclose(adjusted.sum(1), 1, atol=1e-5)
    expected = (np.log(p) - cal["tau"] * np.log(prior)).argmax(1)
    assert (adjusted.argmax(1) == expected).all()  # T only changes how sure
    if not FERPLUS_ZIP.is_file():
        pytest.skip(f"FER+ zip not found at {FERPLUS_ZIP}")
    r = evaluate_classifier(clf, str(FERPLUS_ZIP))  # majority of ten annotators, 7 classes
    assert r["accuracy"] >= 0.84 and r["mean_recall"] >= 0.70 and r["ece"] <= 0.03
    assert r["votes_kl"] < 0.5  # and close to what the ten people saw
    assert r["accuracy"] == pytest.approx(clf.val_acc, abs=0.002)  # the label says what it does


def test_an_old_default_threshold_moves_to_the_calibrated_default():
    from fer_desktop.core.settings import Settings

    assert Settings.from_dict({"threshold": 0.4}).threshold == Settings().threshold  # older file
    assert Settings.from_dict({"threshold": 0.4, "settings_version": 2}).threshold == 0.4
    assert Settings.from_dict({"threshold": 0.5}).threshold == 0.5  # the user's own choice
