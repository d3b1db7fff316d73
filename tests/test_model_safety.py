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

from fer_desktop.core.classifier import EmotionClassifier
from fer_desktop.core.errors import UserError

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
        pickle.load(f)  # noqa: S301 - deliberately unsafe, on our own test file
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
    assert proc.returncode == 2 and "refused" in proc.stdout, proc.stdout + proc.stderr[-2000:]
    assert not zipped.with_suffix(".onnx").exists()

    run = tmp_path / "run"  # fer-train --resume reads the run's last.pt
    run.mkdir()
    (run / "last.pt").write_bytes(zipped.read_bytes())
    proc = _run(["fer_training", "--resume", str(run)], tmp_path)
    assert proc.returncode != 0
    errors = [json.loads(x) for x in proc.stdout.splitlines() if '"error"' in x]
    assert errors and "Cannot resume" in errors[-1]["message"], proc.stdout[-2000:]
    assert not marker.exists(), "a hostile checkpoint ran its code"
