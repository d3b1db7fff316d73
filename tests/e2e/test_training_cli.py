"""fer-train end to end: real short runs through the command line on the real FER2013 zip.

Kept tiny (a few hundred images, 1-3 epochs) because a long training may share the CPU.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from fer_desktop.core.classify.classifier import EmotionClassifier
from fer_desktop.core.emotions import CLASSES
from fer_desktop.core.training.datasets import load_dataset

from shared_paths import FER_ZIP, needs_fer_zip

TRAIN = [sys.executable, "-m", "fer_training"]
RUN_TIMEOUT = 900  # seconds; generous because a background training competes for the CPU

pytestmark = needs_fer_zip


def run_cli(args: list[str], cwd: Path) -> tuple[list[dict], int, str]:
    r = subprocess.run(
        TRAIN + args,
        check=False,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=RUN_TIMEOUT,
        env=_env(cwd),
    )
    return parse_events(r.stdout), r.returncode, r.stderr


def _env(tmp: Path) -> dict:
    return {**os.environ, "FER_DESKTOP_HOME": str(tmp / "home"), "PYTHONUNBUFFERED": "1"}


def parse_events(stdout: str) -> list[dict]:
    """Every stdout line must be one JSON object with an `event`."""
    events = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    assert all(isinstance(e, dict) and "event" in e for e in events)
    return events


def of(events: list[dict], kind: str) -> list[dict]:
    return [e for e in events if e["event"] == kind]


@pytest.fixture(scope="module")
def short_run(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("cli")
    out = tmp / "run"
    events, code, err = run_cli(
        ["--data", str(FER_ZIP), "--arch", "tiny_cnn", "--epochs", "2", "--limit", "300",
         "--batch-size", "32", "--out", str(out)],
        tmp,
    )  # fmt: skip
    assert code == 0, err[-2000:]
    return {"events": events, "out": out}


def test_help_works():
    exe = shutil.which("fer-train", path=str(Path(sys.executable).parent)) or shutil.which(
        "fer-train"
    )
    assert exe, "the fer-train console script is not installed"
    r = subprocess.run([exe, "--help"], check=False, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0
    for flag in ("--data", "--arch", "--epochs", "--resume", "--limit", "--balance"):
        assert flag in r.stdout
    r = subprocess.run(TRAIN + ["--help"], check=False, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "fer-train" in r.stdout


def test_events_and_confusion_matrices(short_run):
    events = short_run["events"]
    start = of(events, "start")[0]
    assert start["start_epoch"] == 1 and start["classes"] == list(CLASSES)
    assert start["train_images"] == 300 and start["val_images"] == 300
    epochs = of(events, "epoch")
    assert [e["epoch"] for e in epochs] == [1, 2]
    for e in epochs:
        cm = np.array(e["confusion_matrix"])
        assert cm.shape == (7, 7)
        assert cm.sum() == start["val_images"]
        assert np.trace(cm) / cm.sum() == pytest.approx(e["val_acc"], abs=1e-3)
        assert len(e["precision"]) == len(e["recall"]) == 7
        assert e["epochs"] == 2 and e["images_per_second"] > 0
    assert of(events, "progress"), "no progress events"
    fin = of(events, "finished")[0]
    assert fin["epochs_done"] == 2 and fin["best_epoch"] in (1, 2)
    assert events[-1]["event"] == "finished"
    assert Path(fin["best_checkpoint"]).is_file()


def test_run_folder_contents(short_run):
    out = short_run["out"]
    for name in ("config.json", "history.csv", "history.json", "best.pt", "last.pt"):
        assert (out / name).is_file(), name
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["config"]["arch"] == "tiny_cnn" and cfg["config"]["epochs"] == 2
    rows = list(csv.reader(io.StringIO((out / "history.csv").read_text())))
    assert rows[0][:5] == ["epoch", "train_loss", "train_acc", "val_loss", "val_acc"]
    assert [r[0] for r in rows[1:]] == ["1", "2"]
    hist = json.loads((out / "history.json").read_text())
    assert [h["epoch"] for h in hist] == [1, 2]
    for h in hist:
        assert np.array(h["confusion_matrix"]).shape == (7, 7)
        assert len(h["precision"]) == 7 and len(h["recall"]) == 7


def test_checkpoint_loads_in_the_app_and_predicts(short_run):
    clf = EmotionClassifier(short_run["out"] / "best.pt", device="cpu")
    assert clf.arch == "tiny_cnn" and clf.classes == CLASSES and clf.input_size == 48
    ckpt = torch.load(short_run["out"] / "best.pt", weights_only=True)
    assert "target_sharpness" not in ckpt  # sharpness matching is retired
    assert ckpt["weights"] in ("raw", "ema")
    faces = load_dataset(FER_ZIP, limit=5).splits["test"].images
    probs = clf.predict_crops(faces)
    assert probs.shape == (5, 7)
    assert np.allclose(probs.sum(1), 1.0, atol=1e-4) and (probs >= 0).all()


@pytest.mark.skipif(os.name == "nt", reason="SIGTERM is POSIX")
def test_stop_with_sigterm_then_resume_continues_the_epochs(tmp_path: Path):
    out = tmp_path / "run"
    args = ["--data", str(FER_ZIP), "--arch", "tiny_cnn", "--epochs", "3", "--limit", "200",
            "--batch-size", "32", "--out", str(out)]  # fmt: skip
    proc = subprocess.Popen(TRAIN + args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True, env=_env(tmp_path))  # fmt: skip
    events = []
    try:
        for line in proc.stdout:
            events.append(json.loads(line))
            if events[-1]["event"] == "epoch":
                proc.send_signal(signal.SIGTERM)  # clean stop after the current batch
        code = proc.wait(timeout=RUN_TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
    assert code != 0 and code == 3  # 3 = stopped
    from fer_desktop.core.training.events import KINDS

    assert {e["event"] for e in events} <= set(KINDS)  # the trainer speaks only the shared kinds
    stopped = of(events, "stopped")
    assert stopped and stopped[0]["epochs_done"] == 1, events[-3:]
    assert [e["epoch"] for e in of(events, "epoch")] == [1]
    assert [h["epoch"] for h in json.loads((out / "history.json").read_text())] == [1]
    last = torch.load(out / "last.pt", weights_only=True)  # a resume never runs pickled code
    assert last["epoch"] == 1
    assert {"torch", "python", "numpy"} <= set(last["rng"])  # every random source is restored

    # Resume given --epochs 4 explicitly (even the GUI's default value) trains on to 4, and keeps
    # the run's other settings (batch size 32, limit 200) unless they are given again.
    events, code, err = run_cli(["--resume", str(out), "--epochs", "4"], tmp_path)
    assert code == 0, err[-2000:]
    start = of(events, "start")[0]
    assert start["start_epoch"] == 2 and start["config"]["epochs"] == 4
    assert start["config"]["batch_size"] == 32 and start["config"]["limit"] == 200
    assert [e["epoch"] for e in of(events, "epoch")] == [2, 3, 4]
    assert of(events, "finished")[0]["epochs_done"] == 4
    assert [h["epoch"] for h in json.loads((out / "history.json").read_text())] == [1, 2, 3, 4]
    assert len((out / "history.csv").read_text().strip().splitlines()) == 1 + 4
    assert "resumed" in (out / "train.log").read_text()


# FER2013's own label order in fer2013.csv (not the app's alphabetical CLASSES)
FER_CSV_ORDER = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


def test_fer2013_csv_format(tmp_path: Path):
    """A fer2013.csv (emotion,pixels,Usage) built from the zip's images trains for one epoch."""
    per_split = {"Training": 12, "PublicTest": 5}  # images per class
    expected = {"train": [0] * 7, "test": [0] * 7}
    lines = ["emotion,pixels,Usage"]
    with zipfile.ZipFile(FER_ZIP) as z:
        names = z.namelist()
        for usage, n in per_split.items():
            folder = "train" if usage == "Training" else "test"
            for label, cls in enumerate(FER_CSV_ORDER):
                files = sorted(
                    f for f in names if f.startswith(f"{folder}/{cls}/") and f.endswith(".jpg")
                )
                for f in files[:n]:
                    img = cv2.imdecode(np.frombuffer(z.read(f), np.uint8), cv2.IMREAD_GRAYSCALE)
                    assert img.shape == (48, 48)
                    lines.append(f"{label},{' '.join(map(str, img.ravel()))},{usage}")
                    expected[folder][CLASSES.index(cls)] += 1
    csv_path = tmp_path / "fer2013.csv"
    csv_path.write_text("\n".join(lines) + "\n")

    ds = load_dataset(csv_path)  # labels mapped from FER order to the app's classes
    assert {k: s.class_counts() for k, s in ds.splits.items()} == expected

    events, code, err = run_cli(
        ["--data", str(csv_path), "--arch", "tiny_cnn", "--epochs", "1", "--batch-size", "16",
         "--out", str(tmp_path / "run")],
        tmp_path,
    )  # fmt: skip
    assert code == 0, err[-2000:]
    start = of(events, "start")[0]
    assert start["train_images"] == 7 * 12 and start["val_images"] == 7 * 5
    ep = of(events, "epoch")[0]
    assert np.array(ep["confusion_matrix"]).sum() == 7 * 5
    assert of(events, "finished")[0]["epochs_done"] == 1


@pytest.mark.parametrize("kind", ["empty_folder", "text_files", "not_a_zip"])
def test_malformed_dataset_is_an_error_event(tmp_path: Path, kind: str):
    if kind == "not_a_zip":
        data = tmp_path / "faces.zip"
        data.write_bytes(b"PK but not really a zip archive" * 10)
    else:
        data = tmp_path / kind
        data.mkdir()
        if kind == "text_files":
            for i in range(4):
                (data / f"note_{i}.txt").write_text("random text " * i)
    events, code, _ = run_cli(
        ["--data", str(data), "--epochs", "1", "--out", str(tmp_path / "r")], tmp_path
    )
    assert code != 0
    assert [e["event"] for e in events] == ["error"]
    err = events[0]
    text = err["message"] + " " + err["hint"]
    assert "expected" in text.lower() and "train/<class>" in text  # names what was expected
    if kind == "not_a_zip":
        assert "zip" in err["message"]


@pytest.mark.slow
def test_inception_resnet_v2_trains_a_step_and_loads_in_the_app(tmp_path: Path):
    from fer_desktop.core.classify.nets import ARCHITECTURES, build_model
    from fer_desktop.core.training.config import TrainConfig
    from fer_training.checkpoint import checkpoint_payload

    spec = ARCHITECTURES["inception_resnet_v2"]
    assert spec.input_size == 299
    torch.manual_seed(0)
    model = build_model("inception_resnet_v2", num_classes=7)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    x, y = torch.randn(2, 1, 299, 299), torch.tensor([0, 3])
    before = next(model.parameters()).detach().clone()
    loss = torch.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    assert torch.isfinite(loss)
    assert not torch.equal(before, next(model.parameters()))

    cfg = TrainConfig(arch="inception_resnet_v2")
    path = tmp_path / "irv2.pt"
    torch.save(checkpoint_payload(model, cfg, spec.input_size, spec.in_channels, CLASSES), path)
    clf = EmotionClassifier(path, device="cpu", precision="fp32")
    assert clf.arch == "inception_resnet_v2" and clf.input_size == 299
    assert clf.data_size == 48  # faces are cropped at the dataset size and upscaled, as in training
    crops = np.random.default_rng(0).integers(0, 256, (1, 48, 48), dtype=np.uint8)
    probs = clf.predict_crops(crops)
    assert probs.shape == (1, 7) and np.isclose(probs.sum(), 1.0, atol=1e-4)


def test_ema_warms_up_and_the_better_weights_are_validated():
    """With decay 0.998 a plain EMA stays near the random start for the first epochs and a short run
    showed "all neutral"; the ramped EMA follows the raw weights early, and whichever of raw and EMA
    validates better is the one shown and shipped."""
    from fer_desktop.core.classify.nets import build_model
    from fer_training.engine import make_ema, pick_weights

    torch.manual_seed(0)
    model = build_model("tiny_cnn")
    ema = make_ema(model, 0.998)
    for _ in range(20):  # 20 optimiser steps: a plain EMA would keep 96% of the initial weights
        with torch.no_grad():
            for p in model.parameters():
                p.add_(torch.randn_like(p) * 0.1)
        ema.update_parameters(model)
    for e, m in zip(ema.module.parameters(), model.parameters()):
        assert torch.allclose(e, m, atol=0.05)  # ramped: decay ~0.01 after 20 steps

    # Validation picks the better of the two: here the EMA is made useless (constant output).
    with torch.no_grad():
        for p in ema.module.parameters():
            p.zero_()
    x = torch.randn(64, 1, 48, 48)
    y = model.eval()(x).argmax(1)  # labels the raw model gets right
    loader = [(x, y)]
    chosen, source, raw_acc, _, acc, _, per_set, score = pick_weights(
        model, ema, [("val", loader)], torch.device("cpu"), "fp32", 7
    )
    assert source == "raw" and chosen is model and acc == raw_acc == 1.0
    assert score == 1.0 and per_set["val"]["acc"] == 1.0  # one set: selected on its accuracy


# --- issue 17: several datasets, sequences, selection, soft targets, distillation --------------
def test_sequence_frames_share_one_weight():
    from fer_desktop.core.training.datasets import Split
    from fer_training.multidata import image_weights

    names = [
        "train/happy/S005_001_00000009.png",
        "train/happy/S005_001_00000010.png",
        "train/happy/S005_001_00000011.png",
        "train/sad/S010_002_00000003.png",
        "train/sad/plain_photo.png",
    ]
    split = Split(np.zeros((5, 48, 48), np.uint8), np.zeros(5, np.int64), names)
    w = image_weights(split, by_sequence=True)
    assert np.allclose(w, [1 / 3, 1 / 3, 1 / 3, 1.0, 1.0]) and w.sum() == pytest.approx(3.0)
    assert np.allclose(image_weights(split, by_sequence=False), 1.0)


@needs_fer_zip
def test_two_datasets_in_one_run_each_validated_then_distilled(tmp_path):
    """FER2013 and CK+ (no neutral class) in one run: each is validated on its own test split,
    the selection mixes both; its soft targets then distil a student."""
    from shared_paths import CK_ZIP

    if not CK_ZIP.is_file():
        pytest.skip("CK+ zip not found")
    out = tmp_path / "teacher"
    events, code, err = run_cli(
        ["--data", str(FER_ZIP), "--data", str(CK_ZIP), "--arch", "tiny_cnn", "--epochs", "1",
         "--limit", "150", "--data-mix", "[0.8, 0.2]", "--select-weights", "[0.7, 0.3]",
         "--prefetch", "0", "--out", str(out)],
        tmp_path,
    )  # fmt: skip
    assert code == 0, err[-2000:]
    epoch = of(events, "epoch")[0]
    assert set(epoch["val_sets"]) == {"fer2013", "ckplus48"}
    ck = epoch["val_sets"]["ckplus48"]
    assert sum(ck["confusion_matrix"][CLASSES.index("neutral")]) == 0  # CK+ has no neutral
    fer, want = epoch["val_sets"]["fer2013"], 0.0
    for name, w in (("fer2013", 0.7), ("ckplus48", 0.3)):
        s = epoch["val_sets"][name]
        want += w * (s["acc"] + s["mean_recall"]) / 2
    assert epoch["select_score"] == pytest.approx(want, abs=2e-4) and fer["acc"] == epoch["val_acc"]

    soft = tmp_path / "soft.npz"
    r = subprocess.run(
        [sys.executable, "-m", "fer_training.soft_targets", str(out / "best.pt"), "--data",
         str(FER_ZIP), "--data", str(CK_ZIP), "--out", str(soft), "--limit", "150"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    with np.load(soft) as z:
        assert z["logits"].dtype == np.float16 and z["logits"].shape[1] == 7
        n = len(z["names"])
    assert n == 150 + 150  # every training image of both (sliced) datasets
    student = tmp_path / "student"
    events, code, err = run_cli(
        ["--data", str(FER_ZIP), "--data", str(CK_ZIP), "--arch", "tiny_cnn", "--epochs", "1",
         "--teachers", json.dumps([str(soft)]), "--prefetch", "0", "--out", str(student),
         "--limit", "150"],
        tmp_path,
    )  # fmt: skip
    assert code == 0, err[-2000:]
    assert of(events, "finished") and (student / "best.pt").is_file()
