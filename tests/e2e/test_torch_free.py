"""With the defaults, the live, photo and analyze paths never import torch (issue 12).

Each path runs for real in a fresh subprocess (a clean `sys.modules`), with an empty per-user
folder (default settings) and an empty Hugging Face cache (so `auto` picks the offline YuNet
detector, as on a fresh machine), then reports which heavy modules were imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from fer_desktop.core.classify.classifier import default_model_path

HEAVY = ("torch", "torchvision", "ultralytics")

REPORT = f"""
import json, sys
print("@@" + json.dumps({{
    "heavy": sorted(m for m in sys.modules if m.split(".")[0] in {HEAVY!r}),
    "result": result,
}}))
"""


def _run(script: str, tmp_path: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FER_", "HF_"))}
    env.update(
        FER_DESKTOP_HOME=str(tmp_path / "home"),
        HF_HUB_CACHE=str(tmp_path / "hf-hub"),
        HF_HUB_OFFLINE="1",
        QT_QPA_PLATFORM="offscreen",
    )
    code = textwrap.dedent(script) + REPORT
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(x for x in proc.stdout.splitlines() if x.startswith("@@"))
    return json.loads(line[2:])


@pytest.fixture(autouse=True)
def _onnx_export_present() -> None:
    if not default_model_path().with_suffix(".onnx").is_file():
        pytest.fail("resources/models/fer_net.onnx is missing: python -m fer_training.export ...")


def test_photo_path_never_imports_torch(testdata: Path, tmp_path: Path) -> None:
    photo = testdata / "faces" / "two_people.jpg"
    report = _run(
        f"""
        import contextlib, io, json
        from fer_desktop.cli import main
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            code = main(["annotate", {str(photo)!r}, "--json", "-o", "out"])
        from fer_desktop.core.pipeline.pipeline import build_pipeline
        p = build_pipeline()
        result = {{"code": code, "out": json.loads(buf.getvalue()),
                   "backend": p.classifier.backend, "detector": p.detector.name}}
        """,
        tmp_path,
    )
    assert report["heavy"] == [], report["heavy"]
    r = report["result"]
    assert r["code"] == 0 and r["backend"] == "onnxruntime" and "YuNet" in r["detector"], r
    (entry,) = r["out"]
    assert entry["error"] is None and len(entry["faces"]) >= 1, entry
    assert (tmp_path / "out").is_dir() and any((tmp_path / "out").iterdir())


def test_live_path_never_imports_torch(video_path: Path, tmp_path: Path) -> None:
    report = _run(
        f"""
        import threading
        from fer_desktop.core.live.engine import LiveEngine
        from fer_desktop.core.pipeline.pipeline import build_pipeline
        from fer_desktop.core.live.sources import FrameSource, parse_source
        pipeline = build_pipeline()
        results, done = [], threading.Event()
        engine = LiveEngine(
            FrameSource(parse_source({str(video_path)!r})), pipeline,
            on_result=results.append, on_ended=done.set, paced=True, max_frames=45,
        )  # 1.5 s at the file's pace: a face is reported once seen for 0.5 s
        engine.start()
        assert done.wait(120), "the live engine did not finish 45 frames"
        assert engine.wait(10)
        result = {{"frames": len(results), "faces": sum(len(r.faces) for r in results),
                   "backend": pipeline.classifier.backend, "error": str(engine.error or "")}}
        """,
        tmp_path,
    )
    assert report["heavy"] == [], report["heavy"]
    r = report["result"]
    assert r["error"] == "" and r["frames"] >= 1 and r["faces"] >= 1, r
    assert r["backend"] == "onnxruntime"


def test_analyze_path_never_imports_torch(video_path: Path, tmp_path: Path) -> None:
    report = _run(
        f"""
        import contextlib, io, json
        from fer_desktop.cli import main
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            code = main(["analyze", {str(video_path)!r}, "--every", "10", "-o", "session",
                         "--json"])
        result = {{"code": code, "out": json.loads(buf.getvalue())}}
        """,
        tmp_path,
    )
    assert report["heavy"] == [], report["heavy"]
    r = report["result"]
    assert r["code"] == 0 and r["out"]["frames"] >= 1 and r["out"]["tracks"], r
    assert (tmp_path / r["out"]["outputs"]["csv"]).is_file()  # relative to its cwd


def test_a_pt_without_export_still_runs_on_torch(tmp_path: Path) -> None:
    """The other side of the rule: a user's .pt with no .onnx beside it falls back to torch."""
    pt = tmp_path / "mine.pt"
    pt.write_bytes(default_model_path().with_suffix(".pt").read_bytes())
    report = _run(
        f"""
        from fer_desktop.core.classify.classifier import EmotionClassifier
        clf = EmotionClassifier({str(pt)!r}, device="cpu")
        result = {{"backend": clf.backend, "runtime": clf.runtime}}
        """,
        tmp_path,
    )
    assert report["result"]["backend"] == "torch" and "torch" in report["heavy"], report


def test_small_build_window_says_training_and_yolo_need_the_full_build(qtbot, monkeypatch):
    """Where torch is missing (the default bundle), the Training tab and the YOLOv8 menu entries
    say what to get instead of failing; FER_DESKTOP_NO_TORCH=1 makes this install behave so."""
    from fer_desktop.core.settings import Settings
    from fer_desktop.core.support import resources
    from fer_desktop.ui.main_window import MainWindow
    from fer_desktop.ui.training_page import NoTrainingPage

    monkeypatch.setenv("FER_DESKTOP_NO_TORCH", "1")
    resources.torch_available.cache_clear()
    try:
        win = MainWindow(Settings(detector="yunet", device="cpu"), preload=False)
        qtbot.addWidget(win)
        assert isinstance(win.training_tab, NoTrainingPage)
        # A pip install without torch (pip install -e .): it says which extra to install.
        assert "Training needs PyTorch" in win.training_tab.label.text()
        assert 'pip install -e ".[train]"' in win.training_tab.label.text()
        yolo = [a for a in win.detector_actions.actions() if a.data() == "yolo"]
        assert yolo and not yolo[0].isEnabled() and "needs PyTorch" in yolo[0].text()
        assert ".[train]" in yolo[0].toolTip()
        win.close()
    finally:
        monkeypatch.delenv("FER_DESKTOP_NO_TORCH")
        resources.torch_available.cache_clear()
    assert resources.torch_available()  # this install has torch


def test_the_window_with_its_training_tab_starts_without_torch(tmp_path: Path) -> None:
    """On a full install (torch importable), the main window and its Training tab (the form
    lists the architectures) start without importing torch (issue 33): the architectures' names
    and sizes come from a torch-free registry (core/classify/arch_names.py)."""
    r = _run(
        """
        from PySide6.QtWidgets import QApplication
        app = QApplication([])
        from fer_desktop.core.support.resources import torch_available
        from fer_desktop.ui.main_window import MainWindow
        from fer_desktop.ui.training.tab import TrainingTab
        win = MainWindow(preload=False)
        tab = win.training_tab
        result = [torch_available(), isinstance(tab, TrainingTab), tab.form.arch.count()]
        win.close()
        """,
        tmp_path,
    )
    assert r["result"] == [True, True, 4]  # a full install: the real Training tab, 4 archs
    assert r["heavy"] == [], r["heavy"]
