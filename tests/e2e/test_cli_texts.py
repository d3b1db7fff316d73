"""What the command line prints (issue 18.9): help that lists the valid choices, headers that are
whole, the runner-up of an uncertain face, JSON-only stdout."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from shared_paths import FACES, FER_ZIP, REPO

ROOT = REPO


def run(*args: str, module: str = "fer_desktop", env: dict | None = None):
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", **(env or {})},
    )


def test_fer_train_help_lists_the_valid_choices():
    pytest.importorskip("torch")
    out = " ".join(run("--help", module="fer_training").stdout.split())  # as read, unwrapped
    for word in ("adamw", "plateau", "sampler", "bf16", "fer_net", "tiny_cnn"):
        assert word in out
    assert "repeat it to train on several together" in out


def test_bench_help_says_what_json_does():
    text = " ".join(run("bench", "--help").stdout.split())
    assert "one JSON object" in text.rsplit("--json", 1)[1][:80]


@pytest.mark.skipif(not FER_ZIP.is_file(), reason="FER2013 zip not found (../shared)")
def test_evaluate_prints_every_class_name_whole_and_the_mean_recall():
    r = run("evaluate", str(FER_ZIP), "--limit", "200")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    header = lines[next(i for i, ln in enumerate(lines) if ln.startswith("confusion matrix")) + 1]
    assert header.split()[-1] == "surprise"
    assert "mean class recall" in r.stdout and "calibration error (ECE)" in r.stdout


def test_an_uncertain_face_names_its_runner_up():
    from fer_desktop.cli.annotate import _face_text

    probs = {"sad": 0.36, "neutral": 0.3, "happy": 0.34}
    face = {"label": "uncertain", "confidence": 0.36, "probabilities": probs, "emoji": "🤔"}
    assert _face_text(face) == "uncertain (sad 36%) 🤔"


@pytest.mark.skipif(not (FACES / "obama.jpg").is_file(), reason="test photos not found")
def test_self_test_stdout_is_one_json_document_on_a_fresh_home(tmp_path):
    """A fresh home: no Ultralytics settings yet, whose first-run banner once came first."""
    r = run("--self-test", env={"HOME": str(tmp_path), "FER_DESKTOP_HOME": str(tmp_path / "fd"),
                                "YOLO_CONFIG_DIR": str(tmp_path / "yolo")})  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    assert json.loads(r.stdout)["ok"] is True
