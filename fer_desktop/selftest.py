"""`fer-desktop --self-test`: check that an install or a bundle has everything it needs, headlessly.

It first opens the real main window (offscreen) and plays a video in the Live tab, timing the
first frame shown and the first frame with emotions from the start of the process: the cold
start a user waits for. `--source VIDEO` picks the video (default: a short clip made from the
shipped sample photo). Then it annotates the sample photo with the default models and checks
what the build can do: the small build (no PyTorch) runs the ONNX classifier and YuNet; the
full build also trains, exports and runs the torch backend.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import time
import traceback
from typing import cast

from fer_desktop.core.emotions import CLASSES, UNCERTAIN, emoji_codepoints
from fer_desktop.core.support.resources import resource_path, resources_dir, torch_available

LIVE_TIMEOUT_S = 120.0


def _since_process_start() -> float:
    import psutil

    return time.time() - psutil.Process().create_time()


def _sample_clip(folder: str) -> str:
    """A 2 s MJPG clip of the sample photo (OpenCV writes it without any codec library)."""
    import cv2

    frame = cv2.imread(str(resource_path("samples", "astronaut.jpg")))
    path = os.path.join(folder, "sample.avi")
    out = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), 15, frame.shape[1::-1])
    for _ in range(30):
        out.write(frame)
    out.release()
    return path


def _live_check(source: str | None, report: dict) -> None:
    """Main window + Live tab on a video: seconds from process start to the first frame shown
    and to the first frame with results."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from fer_desktop.core.settings import Settings
    from fer_desktop.ui.main_window import MainWindow

    # PySide6's stubs type instance() as the QCoreApplication; here it is the QApplication
    app = cast(QApplication, QApplication.instance() or QApplication(sys.argv[:1]))
    report["checks"]["qt_platform"] = app.platformName()
    with tempfile.TemporaryDirectory() as tmp:
        source = source or _sample_clip(tmp)
        window = MainWindow(Settings())  # the defaults, as on a fresh machine
        window.show()
        times: dict[str, float] = {}
        session = window.live_tab.session
        session.frame_ready.connect(lambda *a: times.setdefault("frame", _since_process_start()))
        session.result_ready.connect(lambda *a: times.setdefault("result", _since_process_start()))
        # a face is reported once confirmed (seen for 0.5 s): wait for the first result with one
        session.result_ready.connect(
            lambda r: r.faces and times.setdefault("face", _since_process_start())
        )
        window.live_tab.start_source(source)
        loop = QEventLoop()
        poll = QTimer(interval=20)
        poll.timeout.connect(lambda: loop.quit() if "face" in times and "frame" in times else None)
        poll.start()
        QTimer.singleShot(int(LIVE_TIMEOUT_S * 1000), loop.quit)
        loop.exec()
        poll.stop()
        faces = len(window.live_tab.last_result.faces) if window.live_tab.last_result else 0
        window.close()
    report["checks"]["live"] = {
        "source": os.path.basename(source) if source else None,
        "first_frame_s": round(times.get("frame", -1), 2),
        "first_result_s": round(times.get("result", -1), 2),
        "first_face_s": round(times.get("face", -1), 2),
        "faces": faces,
        "status": {k: v.text() for k, v in window.status_labels.items()},
    }
    if "result" not in times:
        report["missing"].append(f"the Live tab showed no result within {LIVE_TIMEOUT_S:.0f} s")


def _core_checks(report: dict) -> None:
    from fer_desktop.core.classify.classifier import EmotionClassifier
    from fer_desktop.core.detectors import make_detector
    from fer_desktop.core.photos.annotate import annotate_image, save_annotated
    from fer_desktop.core.pipeline.pipeline import Pipeline

    checks = report["checks"]
    detector = make_detector("auto")
    classifier = EmotionClassifier()
    checks["detector"] = detector.name
    checks["model"] = classifier.name
    checks["device"] = str(classifier.device)
    checks["runtime"] = classifier.runtime
    sample = resource_path("samples", "astronaut.jpg")
    result, annotated = annotate_image(Pipeline(detector, classifier), sample)
    checks["sample_faces"] = [f.to_json() for f in result.faces]
    with tempfile.TemporaryDirectory() as tmp:
        out = save_annotated(annotated, sample, tmp)
        checks["annotated_bytes"] = os.path.getsize(out)
    if not result.faces:
        report["missing"].append("no face found on the sample image (detector files broken?)")
    if not torch_available():
        checks["training"] = (
            "not in this build (the full build or a Python install trains)"
            if getattr(sys, "frozen", False)
            else 'not in this install (pip install -e ".[train]" adds PyTorch)'
        )
        return
    import numpy as np
    import onnx  # noqa: F401

    import fer_training.cli  # training must be launchable from the bundle
    import fer_training.export  # noqa: F401  (fer-train exports best.onnx at the end of a run)

    checks["training"] = "importable"
    torch_clf = EmotionClassifier(backend="torch", device="cpu", precision="fp32")
    crops = classifier.preprocess(annotated, [f.box for f in result.faces])
    diff = np.abs(torch_clf.predict_crops(crops) - classifier.predict_crops(crops)).max()
    checks["torch_backend"] = {"runtime": torch_clf.runtime, "max_dp_vs_default": float(diff)}
    if diff > 1e-3:
        report["missing"].append(f"torch and {classifier.backend} disagree (max |dp| {diff:.2g})")
    with contextlib.redirect_stdout(sys.stderr):  # its first-run banner: not on our JSON stdout
        import ultralytics  # noqa: F401  (the YOLOv8 detector)

    checks["yolo"] = "importable"


def self_test(source: str | None = None) -> int:
    report: dict = {
        "ok": False,
        "frozen": bool(getattr(sys, "frozen", False)),
        "build": "full" if torch_available() else "small (no PyTorch)",
        "resources": str(resources_dir()),
        "missing": [],
        "checks": {},
    }
    t0 = time.perf_counter()
    needed = [
        resource_path("models", "fer_net.onnx"),
        resource_path("samples", "astronaut.jpg"),
        resource_path("detectors", "face_detection_yunet.onnx"),
    ]
    if torch_available():
        needed.append(resource_path("models", "fer_net.pt"))
    needed += [resource_path("emoji", emoji_codepoints(c) + ".png") for c in (*CLASSES, UNCERTAIN)]
    report["missing"] = [str(p) for p in needed if not p.is_file()]
    for check in (lambda: _live_check(source, report), lambda: _core_checks(report)):
        try:
            check()
        except Exception as exc:  # noqa: BLE001 - every failure goes into the report
            report["missing"].append(f"{type(exc).__name__}: {exc}")
            report.setdefault("tracebacks", []).append(traceback.format_exc(limit=6))
    report["heavy_modules"] = sorted(
        m for m in ("torch", "torchvision", "ultralytics", "onnxruntime") if m in sys.modules
    )
    report["seconds"] = round(time.perf_counter() - t0, 2)
    report["ok"] = not report["missing"]
    print(json.dumps(report, indent=1, ensure_ascii=False))
    return 0 if report["ok"] else 1
