"""Build a face detector by name: "auto" picks YOLOv8-face when its weights are here (and torch
is installed), else YuNet. Where the weights live is `weights.py`'s job; the factory finds the path
and hands it to the detector, so no detector module imports this one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fer_desktop.core.choices import DETECTORS as DETECTOR_CHOICES
from fer_desktop.core.detectors.base import FaceDetector
from fer_desktop.core.detectors.weights import YOLO_REPO_ID, find_yolo_weights, yolo_available
from fer_desktop.core.support.errors import UserError
from fer_desktop.core.support.resources import FULL_BUILD_HINT, torch_available


def resolve_kind(name: str | None, weights: str | Path | None = None) -> str:
    """ "yunet" or "yolo" for a detector name; `auto` looks at `weights`, then at the YOLO cache."""
    key = (name or "auto").strip().lower()
    if key not in DETECTOR_CHOICES:
        raise UserError(
            f"Unknown face detector '{name}'.", "Use " + ", ".join(DETECTOR_CHOICES) + "."
        )
    if key != "auto":
        return key
    if weights is not None and str(weights).strip():
        return "yunet" if Path(weights).suffix.lower() == ".onnx" else "yolo"
    return "yolo" if torch_available() and yolo_available() else "yunet"  # YOLO needs torch


def make_detector(
    name: str = "auto",
    weights: str | Path | None = None,
    device: str = "cpu",
    imgsz: int = 640,
    *,
    yunet_side: int | None = None,
    score: float | None = None,
    engine: str = "auto",
) -> FaceDetector:
    """A detector by name: "auto", "yunet" or "yolo".

    `weights`: a local file (YOLO .pt, YuNet .onnx) instead of the default. `imgsz`: YOLO input
    size; `yunet_side`: YuNet's longest input side; `score`: minimum face score (each detector's
    default when None); `engine`: YuNet's runtime (auto, onnxruntime, opencv). "yolo" without
    cached or bundled weights, and any broken weights file,
    raise `UserError` (the caller shows it and may fall back to `make_detector("yunet")`).
    """
    kind = resolve_kind(name, weights)
    weights = weights if weights is not None and str(weights).strip() else None
    if kind == "yolo":
        if not torch_available():
            raise UserError("The YOLOv8 face detector needs PyTorch.", FULL_BUILD_HINT)
        from fer_desktop.core.detectors.yolo import YoloFaceDetector

        extra: dict[str, Any] = {} if score is None else {"conf": score}
        if weights is None:  # the hub's weights: the path is found here and handed in
            path, label = find_yolo_weights(), f"YOLOv8 face ({YOLO_REPO_ID})"
        else:
            path = Path(weights).expanduser()
            label = f"YOLOv8 face ({path.name})"
        return YoloFaceDetector(path, device=device, imgsz=imgsz, label=label, **extra)
    from fer_desktop.core.detectors.yunet import YuNetFaceDetector

    kw: dict[str, Any] = {} if yunet_side is None else {"max_side": yunet_side}
    if score is not None:
        kw["score"] = score
    return YuNetFaceDetector(weights, engine=engine, **kw)
