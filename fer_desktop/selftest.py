"""`fer-desktop --self-test`: check that an install or a bundle has everything it needs, headlessly."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import traceback

from .core.emotions import CLASSES, UNCERTAIN, emoji_codepoints
from .core.resources import resource_path, resources_dir


def self_test() -> int:
    report: dict = {
        "ok": False,
        "frozen": bool(getattr(sys, "frozen", False)),
        "resources": str(resources_dir()),
        "missing": [],
        "checks": {},
    }
    t0 = time.perf_counter()
    needed = [
        resource_path("models", "fer_net.pt"),
        resource_path("samples", "astronaut.jpg"),
        resource_path("detectors", "haarcascade_frontalface_alt2.xml"),
    ]
    needed += [resource_path("emoji", emoji_codepoints(c) + ".png") for c in (*CLASSES, UNCERTAIN)]
    report["missing"] = [str(p) for p in needed if not p.is_file()]
    try:
        from .core.classifier import EmotionClassifier
        from .core.detectors import make_detector
        from .core.photos import annotate_image, save_annotated
        from .core.pipeline import Pipeline

        detector = make_detector("auto")
        classifier = EmotionClassifier()
        report["checks"]["detector"] = detector.name
        report["checks"]["model"] = classifier.name
        report["checks"]["device"] = str(classifier.device)
        pipeline = Pipeline(detector, classifier)
        result, annotated = annotate_image(pipeline, resource_path("samples", "astronaut.jpg"))
        report["checks"]["sample_faces"] = [f.to_json() for f in result.faces]
        with tempfile.TemporaryDirectory() as tmp:
            out = save_annotated(annotated, resource_path("samples", "astronaut.jpg"), tmp)
            report["checks"]["annotated_bytes"] = os.path.getsize(out)
        if not result.faces:
            report["missing"].append("no face found on the sample image (detector files broken?)")
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        from PySide6.QtWidgets import QApplication

        app = QApplication.instance() or QApplication([])
        report["checks"]["qt_platform"] = app.platformName()
        import fer_training.cli  # noqa: F401  (training must be launchable from the bundle)

        report["checks"]["training"] = "importable"
    except Exception as exc:
        report["missing"].append(f"{type(exc).__name__}: {exc}")
        report["traceback"] = traceback.format_exc(limit=5)
    report["seconds"] = round(time.perf_counter() - t0, 2)
    report["ok"] = not report["missing"]
    print(json.dumps(report, indent=1, ensure_ascii=False))
    return 0 if report["ok"] else 1
