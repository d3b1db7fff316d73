"""What every face detector shares: the `FaceDetector` interface and frame/box helpers.

A detector's `detect(frame_bgr)` returns `list[Detection]` (box, score, landmarks or None) in the
input frame's pixel coordinates, best score first. Empty, tiny or unusual frames (grayscale,
BGRA, non-contiguous, non-uint8) are handled here once, so each detector sees a plain BGR image.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import cv2
import numpy as np

from fer_desktop.core.geometry import Box
from fer_desktop.core.types import Detection

# No detector here finds a face in fewer pixels than this; smaller frames give [] at once.
MIN_FRAME_SIDE = 16
# Faces less tall than this (frame pixels) are not reported: the classifier reads 48-px faces, and
# below half of that it mostly guesses. It also drops most false detections (see detect_eval).
MIN_FACE = 24


@runtime_checkable
class FaceDetector(Protocol):
    """Finds faces in a BGR frame."""

    name: str  # human readable, shown in the UI and printed by the CLI
    kind: str  # "yunet" or "yolo": which implementation, for code that needs to know

    def detect(self, frame_bgr: np.ndarray) -> list[Detection]:
        """Faces in `frame_bgr`, best score first, in its pixel coordinates."""
        ...


def as_bgr(frame: np.ndarray | None) -> np.ndarray | None:
    """`frame` as a contiguous uint8 BGR image, or None when it is empty or too small for a face.

    Accepts grayscale (H, W) or (H, W, 1), BGR and BGRA; other shapes are a programming error.
    """
    if frame is None or frame.size == 0:
        return None
    if frame.ndim == 3 and frame.shape[2] == 1:
        frame = frame[:, :, 0]
    if frame.ndim not in (2, 3) or (frame.ndim == 3 and frame.shape[2] not in (3, 4)):
        raise ValueError(f"detect() needs a BGR, BGRA or grayscale image, not shape {frame.shape}")
    if min(frame.shape[:2]) < MIN_FRAME_SIDE:
        return None
    if frame.dtype != np.uint8:
        frame = cv2.normalize(frame, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    if frame.ndim == 2:
        return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    if frame.shape[2] == 4:
        return cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
    return np.ascontiguousarray(frame)


def clip_box(x1: float, y1: float, x2: float, y2: float, w: int, h: int) -> Box | None:
    """The box rounded to whole pixels inside a w x h frame, or None when under 2 px wide or tall."""
    bx1 = int(min(max(x1, 0), w) + 0.5)  # coordinates are >= 0, so +0.5 rounds
    by1 = int(min(max(y1, 0), h) + 0.5)
    bx2 = int(min(max(x2, 0), w) + 0.5)
    by2 = int(min(max(y2, 0), h) + 0.5)
    if bx2 - bx1 < 2 or by2 - by1 < 2:
        return None
    return bx1, by1, bx2, by2
