"""Plain data that crosses layers and threads: one result per face, one per frame."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Detection:
    """One face a detector found: box (x1, y1, x2, y2) in frame pixels, its score, and where the
    detector gives them, 5 landmarks (x, y): right eye, left eye, nose tip, right and left mouth
    corner (YuNet's order, as seen in the image: "right eye" is the one on the image's left)."""

    box: tuple[int, int, int, int]
    score: float = 1.0
    landmarks: np.ndarray | None = None  # shape (5, 2), float32, or None


def _finite(v: float, digits: int) -> float | None:
    return round(float(v), digits) if math.isfinite(v) else None


@dataclass(frozen=True)
class FaceActions:
    """What one face does (core/classify/facial_actions.py): MediaPipe's 52 blendshape scores
    (0-1, by MediaPipe's names), each eye's blink (eyeBlinkLeft/Right: the person's own eyes)
    and the head pose in degrees (yaw > 0: turned to the person's left; pitch > 0: looking up;
    roll > 0: tilted counter-clockwise as seen). NaN: an angle that could not be found."""

    blendshapes: dict[str, float]
    blink_left: float
    blink_right: float
    yaw: float
    pitch: float
    roll: float
    face_presence: float = 1.0  # the landmark model's probability that this is a face

    def to_json(self) -> dict:
        return {
            "blendshapes": {k: round(float(v), 4) for k, v in self.blendshapes.items()},
            "blink_left": round(float(self.blink_left), 4),
            "blink_right": round(float(self.blink_right), 4),
            "yaw": _finite(self.yaw, 2),
            "pitch": _finite(self.pitch, 2),
            "roll": _finite(self.roll, 2),
            "face_presence": round(float(self.face_presence), 4),
        }


@dataclass
class FaceResult:
    """One face in one frame. `box` is (x1, y1, x2, y2) in frame pixels."""

    box: tuple[int, int, int, int]
    probabilities: dict[str, float]
    label: str  # a class name, or "uncertain" when confidence < threshold
    confidence: float  # probability of the top class
    emoji: str
    track_id: int = -1
    detector_score: float = 1.0
    # What the face does; None when facial actions are off or the landmark model saw no face.
    actions: FaceActions | None = None

    @property
    def area(self) -> int:
        x1, y1, x2, y2 = self.box
        return max(0, x2 - x1) * max(0, y2 - y1)

    def to_json(self) -> dict:
        return {
            "box": [int(v) for v in self.box],
            "probabilities": {k: round(float(v), 4) for k, v in self.probabilities.items()},
            "label": self.label,
            "confidence": round(float(self.confidence), 4),
            "emoji": self.emoji,
            "track_id": int(self.track_id),
            "actions": None if self.actions is None else self.actions.to_json(),
        }


@dataclass
class FrameResult:
    """Everything the pipeline found in one frame, with timings in milliseconds per stage."""

    frame_index: int
    faces: list[FaceResult]
    stage_ms: dict[str, float] = field(default_factory=dict)
    captured_at: float = 0.0  # time.perf_counter() when the frame was read
    finished_at: float = 0.0
    frame: np.ndarray | None = None  # the BGR frame the faces refer to

    @property
    def latency_ms(self) -> float:
        return (self.finished_at - self.captured_at) * 1000.0
