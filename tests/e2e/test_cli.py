"""The command line: annotate, evaluate, bench, train dispatch — headless, on real files."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from fer_desktop.cli import main
from fer_desktop.core.emotions import CLASSES

from shared_paths import SHARED

FACES = SHARED / "testdata" / "faces"
VIDEO = SHARED / "testdata" / "videos" / "talking-720p.mp4"
FER_ZIP = SHARED / "datasets" / "fer2013.zip"
needs_faces = pytest.mark.skipif(not FACES.is_dir(), reason=f"test photos not found at {FACES}")
needs_video = pytest.mark.skipif(not VIDEO.is_file(), reason=f"test video not found at {VIDEO}")
needs_fer = pytest.mark.skipif(not FER_ZIP.is_file(), reason=f"FER2013 zip not found at {FER_ZIP}")


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def run_json(capsys, argv: list[str]):
    code = main(argv)
    out = capsys.readouterr().out
    return code, json.loads(out)


@needs_faces
def test_annotate_two_people_json(tmp_path, capsys):
    src = tmp_path / "in" / "two_people.jpg"
    src.parent.mkdir()
    shutil.copy(FACES / "two_people.jpg", src)
    before = _sha(src)
    code, out = run_json(
        capsys, ["annotate", str(src), "-o", str(tmp_path / "out"), "--json", "--detector", "yunet"]
    )
    assert code == 0 and isinstance(out, list) and len(out) == 1
    entry = out[0]
    assert entry["image"] == str(src) and entry["error"] is None
    assert len(entry["faces"]) == 2
    for face in entry["faces"]:
        assert len(face["box"]) == 4
        assert set(face["probabilities"]) == set(CLASSES)
        assert (
            face["label"] in (*CLASSES, "uncertain")
            and 0 <= face["confidence"] <= 1
            and face["emoji"]
        )
    annotated = Path(entry["annotated"])
    assert annotated.parent == tmp_path / "out" and annotated.is_file()
    img, orig = cv2.imread(str(annotated)), cv2.imread(str(src))
    assert img.shape == orig.shape and (img != orig).any()
    assert _sha(src) == before  # the original is never changed
    # a second run never overwrites the first copy
    code, out2 = run_json(capsys, ["annotate", str(src), "-o", str(tmp_path / "out"), "--json"])
    assert Path(out2[0]["annotated"]) != annotated and annotated.is_file()


@needs_faces
def test_annotate_bad_files_do_not_stop_the_others(tmp_path, capsys):
    trunc = tmp_path / "truncated.jpg"
    trunc.write_bytes((FACES / "obama.jpg").read_bytes()[:200])
    text = tmp_path / "notes.jpg"
    text.write_text("this is not an image")
    missing = tmp_path / "missing.png"
    code, out = run_json(
        capsys,
        [
            "annotate",
            str(trunc),
            str(text),
            str(missing),
            str(FACES / "obama.jpg"),
            "-o",
            str(tmp_path / "o"),
            "--json",
        ],
    )
    assert code == 1  # some files failed: the exit code says so (the others were annotated)
    errors = {Path(e["image"]).name: e["error"] for e in out}
    assert errors["truncated.jpg"] and errors["notes.jpg"] and errors["missing.png"]
    assert errors["obama.jpg"] is None and len(out[3]["faces"]) == 1
    assert text.read_text() == "this is not an image"


def test_annotate_only_bad_files_exits_non_zero(tmp_path, capsys):
    bad = tmp_path / "x.jpg"
    bad.write_bytes(b"\x00" * 10)
    code, out = run_json(capsys, ["annotate", str(bad), "--json", "--no-save"])
    assert code == 1 and out[0]["error"] and out[0]["faces"] == []


@needs_fer
def test_evaluate_json(capsys):
    code, r = run_json(capsys, ["evaluate", str(FER_ZIP), "--limit", "300", "--json"])
    assert code == 0
    assert {
        "n",
        "accuracy",
        "per_class_recall",
        "confusion_matrix",
        "classes",
        "ms_per_face",
    } <= set(r)
    assert r["n"] == 300 and r["split"] == "test" and r["classes"] == list(CLASSES)
    cm = r["confusion_matrix"]
    assert len(cm) == 7 and sum(map(sum, cm)) == 300
    assert r["accuracy"] == pytest.approx(sum(cm[i][i] for i in range(7)) / 300, abs=1e-3)
    assert r["ms_per_face"] > 0


def test_evaluate_not_a_dataset(tmp_path, capsys):
    (tmp_path / "readme.txt").write_text("hello")
    code = main(["evaluate", str(tmp_path), "--json"])
    r = json.loads(capsys.readouterr().out)
    assert code == 2 and "does not look like" in r["error"] and "train/<class>" in r["hint"]


@needs_video
def test_bench_json_on_the_video(capsys):
    code, r = run_json(
        capsys, ["bench", str(VIDEO), "--frames", "40", "--json", "--detector", "yunet"]
    )
    assert code == 0
    assert {
        "frames",
        "source_fps",
        "inference_fps",
        "stage_ms",
        "latency_ms",
        "dropped",
        "faces_per_frame",
        "peak_rss_mb",
    } <= set(r)
    assert r["frames"] == 40 and r["inference_fps"] > 0 and r["faces_per_frame"] > 0.5
    assert {"decode", "detect", "preprocess", "classify", "overlay"} <= set(r["stage_ms"])
    assert 0 < r["latency_ms"]["p50"] <= r["latency_ms"]["p95"]
    assert r["inferred"] + r["dropped"] <= r["frames"]


def test_bench_missing_source(tmp_path, capsys):
    code = main(["bench", str(tmp_path / "nope.mp4"), "--json"])
    r = json.loads(capsys.readouterr().out)
    assert code == 2 and "not found" in r["error"]


def test_bench_not_a_video(tmp_path, capsys):
    f = tmp_path / "clip.mp4"
    f.write_bytes(b"garbage" * 100)
    code = main(["bench", str(f), "--json"])
    assert code == 2 and "not a readable video" in json.loads(capsys.readouterr().out)["error"]


def test_console_scripts_and_train_dispatch():
    r = subprocess.run(
        [sys.executable, "-m", "fer_desktop", "train", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0 and "usage: fer-desktop train" in r.stdout and "--resume" in r.stdout
    r = subprocess.run(
        [sys.executable, "-m", "fer_desktop", "--version"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0 and r.stdout.strip()


def test_self_test_passes():
    r = subprocess.run(
        [sys.executable, "-m", "fer_desktop", "--self-test"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    report = json.loads(r.stdout)
    assert r.returncode == 0, report
    assert report["ok"] and report["checks"]["sample_faces"] and not report["missing"]
