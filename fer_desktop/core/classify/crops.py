"""The face crop the emotion classifier sees: square, margin-padded, grayscale, at the dataset size.

Calibrated to FER2013's framing for the shipped detector (see `CropSpec`), optionally rotated so
that the eyes are level when the detector gives eye landmarks.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class CropSpec:
    """How a detector box becomes a classifier crop.

    margin: the square's side is the box's longer side times (1 + margin).
    shift_y: the square's centre moves down by this share of the box height (FER2013 faces sit
        a little high in their frame relative to most detectors' boxes).
    align: rotate about the eyes' midpoint so the eyes are level (needs landmarks).
    """

    margin: float = 0.05
    shift_y: float = 0.0
    align: bool = False


def square_crop_box(box, margin: float, shift_y: float = 0.0) -> tuple[int, int, int, int]:
    """A square box around `box`, enlarged by `margin` of its side (may extend past the frame)."""
    x1, y1, x2, y2 = box
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2 + shift_y * (y2 - y1)
    side = max(x2 - x1, y2 - y1) * (1 + margin)
    h = side / 2
    return int(round(cx - h)), int(round(cy - h)), int(round(cx + h)), int(round(cy + h))


def _eye_angle(landmarks) -> float | None:
    """Degrees to rotate so the eyes are level; landmarks[0], [1] are the two eyes (YuNet order)."""
    if landmarks is None or len(landmarks) < 2:
        return None
    (ax, ay), (bx, by) = landmarks[0][:2], landmarks[1][:2]
    if bx < ax:
        (ax, ay), (bx, by) = (bx, by), (ax, ay)
    return float(np.degrees(np.arctan2(by - ay, bx - ax)))


def crop_face(
    gray: np.ndarray, box, size: int, spec: CropSpec | float = CropSpec(), landmarks=None
) -> np.ndarray:
    """Square crop around `box` resized to size x size; borders replicated past the frame.

    `spec` may be a bare margin (float) for callers that only set the margin."""
    if not isinstance(spec, CropSpec):
        spec = CropSpec(margin=float(spec))
    x1, y1, x2, y2 = square_crop_box(box, spec.margin, spec.shift_y)
    angle = _eye_angle(landmarks) if spec.align else None
    if angle is not None and abs(angle) > 1.0:
        # One affine warp: rotate about the crop centre and scale the square to size x size.
        cx, cy, side = (x1 + x2) / 2, (y1 + y2) / 2, max(1, x2 - x1)
        m = cv2.getRotationMatrix2D((cx, cy), angle, size / side)
        m[0, 2] += size / 2 - cx
        m[1, 2] += size / 2 - cy
        return cv2.warpAffine(
            gray,
            m,
            (size, size),
            flags=cv2.INTER_AREA if side > size else cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
    H, W = gray.shape[:2]
    cx1, cy1, cx2, cy2 = max(0, x1), max(0, y1), min(W, x2), min(H, y2)
    if cx2 <= cx1 or cy2 <= cy1:
        return np.full((size, size), 128, np.uint8)
    crop = gray[cy1:cy2, cx1:cx2]
    if (cx1, cy1, cx2, cy2) != (x1, y1, x2, y2):
        crop = cv2.copyMakeBorder(
            crop, cy1 - y1, y2 - cy2, cx1 - x1, x2 - cx2, cv2.BORDER_REPLICATE
        )
    interp = cv2.INTER_AREA if crop.shape[0] > size else cv2.INTER_LINEAR
    return cv2.resize(crop, (size, size), interpolation=interp)


def face_crops(frame: np.ndarray, boxes, size: int, spec: CropSpec, landmarks=None) -> np.ndarray:
    """uint8 (N, size, size) grey crops for every box of a BGR (or grey) frame.

    Only the part of the frame the crops cover is converted to grey (a 720p frame's full
    conversion costs more than classifying a face)."""
    if len(boxes) == 0:
        return np.zeros((0, size, size), np.uint8)
    marks = list(landmarks) if landmarks is not None else [None] * len(boxes)
    H, W = frame.shape[:2]
    pad = 0.5 if spec.align else 0.0  # a rotated square reaches past its corners
    squares = []
    for b in boxes:
        x1, y1, x2, y2 = square_crop_box(b, spec.margin, spec.shift_y)
        e = int((x2 - x1) * pad) + 1
        squares.append((x1 - e, y1 - e, x2 + e, y2 + e))
    rx1 = max(0, min(q[0] for q in squares))
    ry1 = max(0, min(q[1] for q in squares))
    rx2 = min(W, max(q[2] for q in squares))
    ry2 = min(H, max(q[3] for q in squares))
    if rx2 <= rx1 or ry2 <= ry1:  # every crop lies outside the frame
        rx1, ry1, rx2, ry2 = 0, 0, W, H
    roi = frame[ry1:ry2, rx1:rx2]
    gray = roi if roi.ndim == 2 else cv2.cvtColor(roi, cv2.COLOR_BGR2GRAY)
    out = []
    for b, m in zip(boxes, marks):
        box = (b[0] - rx1, b[1] - ry1, b[2] - rx1, b[3] - ry1)
        lm = None if m is None else np.asarray(m, np.float32) - np.array([rx1, ry1], np.float32)
        out.append(crop_face(gray, box, size, spec, lm))
    return np.stack(out)
