"""Face detectors behind one interface: YuNet (offline default) and YOLOv8-face.

`make_detector(name, ...)` builds one ("auto", "yunet", "yolo"); each `detect(frame_bgr)` returns
`list[Detection]` (box, score, landmarks or None). Importing this package imports neither torch
nor ultralytics; the YOLO detector imports them when it is built.
"""

from fer_desktop.core.detectors.base import MIN_FRAME_SIDE, FaceDetector, as_bgr, clip_box
from fer_desktop.core.detectors.factory import DETECTOR_CHOICES, make_detector, resolve_kind
from fer_desktop.core.detectors.weights import (
    BUNDLED_YOLO_NAME,
    YOLO_FILENAME,
    YOLO_REPO_ID,
    bundled_yolo_weights,
    fetch_yolo_weights,
    find_yolo_weights,
    yolo_available,
    yolo_weights_cached,
)
from fer_desktop.core.detectors.yolo import YoloFaceDetector
from fer_desktop.core.detectors.yunet import YUNET_FILE, YuNetFaceDetector
from fer_desktop.core.types import Detection

__all__ = [
    "BUNDLED_YOLO_NAME",
    "DETECTOR_CHOICES",
    "MIN_FRAME_SIDE",
    "YOLO_FILENAME",
    "YOLO_REPO_ID",
    "YUNET_FILE",
    "Detection",
    "FaceDetector",
    "YoloFaceDetector",
    "YuNetFaceDetector",
    "as_bgr",
    "bundled_yolo_weights",
    "clip_box",
    "fetch_yolo_weights",
    "find_yolo_weights",
    "make_detector",
    "resolve_kind",
    "yolo_available",
    "yolo_weights_cached",
]
