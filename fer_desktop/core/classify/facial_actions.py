"""What the face does (issue 31): MediaPipe Face Landmarker's 52 blendshapes, blink and head pose
for a face the app's detector found, without the `mediapipe` package.

Two models from Google's face_landmarker.task (`resources/models/facial_actions/`, see its
LICENSE-NOTICE.txt), run by Google's LiteRT runtime (`ai-edge-litert`, optional: without it
facial actions are off and `runtime_problem()` says why in one sentence):
- face_landmarks_detector.tflite: a 256x256 RGB crop -> 478 landmarks and a face-presence score;
- face_blendshapes.tflite: 146 of those landmarks (x, y) -> 52 scores in MediaPipe's names.
Head pose is `head_pose.py`.

The crop is MediaPipe's: a square on the detector's box (pass 1), then again on the box of the
pass-1 landmarks, rotated along the eye line, scale 1.5 (pass 2, as MediaPipe's tracking path),
which makes the result nearly independent of the detector's box convention and of head roll.
Measured on one core: landmarks 7-10 ms per pass, blendshapes 0.9 ms, pose 0.2 ms; one face
13.5 ms with one pass, 19 ms with both (docs/facial-actions.md).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from fer_desktop.core.classify.action_names import BLENDSHAPE_NAMES, LANDMARKS_SUBSET
from fer_desktop.core.classify.head_pose import head_pose, parse_geometry
from fer_desktop.core.support.errors import UserError
from fer_desktop.core.support.resources import resource_path
from fer_desktop.core.types import FaceActions

MODEL_FOLDER = "facial_actions"  # under resources/models/
LANDMARKS_FILE = "face_landmarks_detector.tflite"
BLENDSHAPES_FILE = "face_blendshapes.tflite"
GEOMETRY_FILE = "geometry_pipeline_metadata_landmarks.binarypb"
MODEL_FILES = (LANDMARKS_FILE, BLENDSHAPES_FILE, GEOMETRY_FILE)

LM_INPUT = 256  # the landmark model's input side
BOX_SCALE = 1.3  # pass 1: square side relative to max(w, h) of the detector's box
BOX_SHIFT_Y = 0.05  # pass 1: centre moved down by this share of h (measured on YuNet's boxes)
ROI_SCALE = 1.5  # pass 2: MediaPipe's scale of the landmarks' box
MIN_PRESENCE = 0.5  # below: the landmarks (and all that follows) are not a face's

INSTALL_HINT = 'pip install "ai-edge-litert>=2.3" (there is no build for Intel Macs)'
MISSING_RUNTIME = (
    "Facial actions are off: their runtime, ai-edge-litert, is not installed; "
    f"to have them, {INSTALL_HINT}."
)


@functools.cache
def _interpreter_class() -> Any:
    """LiteRT's Interpreter, imported on first use; None when the runtime is not installed."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        return None
    return Interpreter


def runtime_problem() -> str | None:
    """Why facial actions cannot run here (one sentence, with how to install), or None."""
    return MISSING_RUNTIME if _interpreter_class() is None else None


def available() -> bool:
    return runtime_problem() is None


def model_path(name: str) -> Path:
    return resource_path("models", MODEL_FOLDER, name)


def read_checked(name: str) -> bytes:
    """A model file's bytes, refused (UserError) unless they are the shipped bytes (shipped.py)."""
    from fer_desktop.core.classify.shipped import is_shipped

    path = model_path(name)
    hint = "Reinstall fer-desktop, or turn facial actions off (--no-facial-actions)."
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UserError(f"The facial actions model {name} is missing ({path}).", hint) from exc
    if is_shipped(path, data) is not True:
        raise UserError(f"The facial actions model {name} was replaced or damaged.", hint)
    return data


class FacialActions:
    """Measures one face at a time: `measure(frame, box)` -> FaceActions, or None when the
    landmark model does not see a face there. Not thread-safe: one per pipeline."""

    def __init__(self, *, num_threads: int = 1, refine: bool = True) -> None:
        interpreter = _interpreter_class()
        if interpreter is None:
            raise UserError(MISSING_RUNTIME, "Or turn facial actions off (--no-facial-actions).")
        self.refine = refine
        self._lm = interpreter(model_content=read_checked(LANDMARKS_FILE), num_threads=num_threads)
        self._lm.allocate_tensors()
        self._lm_in = self._lm.get_input_details()[0]["index"]
        outs = {d["name"]: d["index"] for d in self._lm.get_output_details()}
        self._lm_points, self._lm_score = outs["Identity"], outs["Identity_1"]
        self._bs = interpreter(
            model_content=read_checked(BLENDSHAPES_FILE), num_threads=num_threads
        )
        self._bs.allocate_tensors()
        self._bs_in = self._bs.get_input_details()[0]["index"]
        self._bs_out = self._bs.get_output_details()[0]["index"]
        self._basis, self._canonical = parse_geometry(read_checked(GEOMETRY_FILE))
        self._subset = np.array(LANDMARKS_SUBSET, np.int64)

    def _landmarks_in(
        self, frame: np.ndarray, cx: float, cy: float, side: float, angle: float
    ) -> tuple[np.ndarray, float]:
        """478 landmarks (x, y in frame pixels, z scaled like x) in a square of `side` pixels
        centred on (cx, cy) and turned by `angle` radians, and the face-presence probability."""
        c, s = math.cos(angle), math.sin(angle)
        k = side / LM_INPUT
        a = np.array([[c * k, -s * k, 0.0], [s * k, c * k, 0.0]])  # crop pixel -> frame pixel
        a[:, 2] = np.array([cx, cy]) - a[:, :2] @ np.array([LM_INPUT / 2, LM_INPUT / 2])
        crop = cv2.warpAffine(
            frame, a, (LM_INPUT, LM_INPUT), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0),
        )  # fmt: skip
        crop = cv2.cvtColor(crop, cv2.COLOR_GRAY2RGB if crop.ndim == 2 else cv2.COLOR_BGR2RGB)
        self._lm.set_tensor(self._lm_in, (crop.astype(np.float32) * (1.0 / 255.0))[None])
        self._lm.invoke()
        p = self._lm.get_tensor(self._lm_points).reshape(478, 3).astype(np.float64)
        logit = float(self._lm.get_tensor(self._lm_score).reshape(-1)[0])
        xy = p[:, :2] @ a[:, :2].T + a[:, 2]
        presence = 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, logit))))
        return np.hstack([xy, p[:, 2:3] * k]), presence

    @staticmethod
    def _roi_from(points: np.ndarray) -> tuple[float, float, float, float]:
        """MediaPipe's tracking ROI: the landmarks' box, turned along the eye line (33 -> 263),
        scaled 1.5, square on its long side."""
        lo, hi = points[:, :2].min(0), points[:, :2].max(0)
        ex, ey = points[263, :2] - points[33, :2]
        side = float(max(hi - lo)) * ROI_SCALE
        return float(lo[0] + hi[0]) / 2, float(lo[1] + hi[1]) / 2, side, math.atan2(ey, ex)

    def landmarks(self, frame: np.ndarray, box: Sequence[float]) -> tuple[np.ndarray, float]:
        """478 landmarks in frame pixels and the face-presence probability for the face in
        `box` (x1, y1, x2, y2, the app's detector boxes)."""
        x1, y1, x2, y2 = (float(v) for v in box)
        w, h = x2 - x1, y2 - y1
        side = max(w, h) * BOX_SCALE
        points, presence = self._landmarks_in(
            frame, x1 + w / 2, y1 + h / 2 + BOX_SHIFT_Y * h, side, 0.0
        )
        if self.refine and presence >= MIN_PRESENCE:
            points, presence = self._landmarks_in(frame, *self._roi_from(points))
        return points, presence

    def blendshapes(self, points: np.ndarray) -> np.ndarray:
        """The 52 scores (BLENDSHAPE_NAMES order, clipped to 0-1) for 478 landmarks."""
        self._bs.set_tensor(self._bs_in, points[self._subset, :2].astype(np.float32)[None])
        self._bs.invoke()
        return np.clip(self._bs.get_tensor(self._bs_out).reshape(-1), 0.0, 1.0)

    def measure(self, frame: np.ndarray, box: Sequence[float]) -> FaceActions | None:
        """What the face in `box` (x1, y1, x2, y2) of the BGR `frame` does; None when the box
        is empty or the landmark model's face presence is below 0.5 (no measurement)."""
        x1, y1, x2, y2 = (float(v) for v in box)
        if x2 - x1 < 2 or y2 - y1 < 2:
            return None
        points, presence = self.landmarks(frame, box)
        if presence < MIN_PRESENCE or not np.isfinite(points).all():
            return None
        scores = {n: float(v) for n, v in zip(BLENDSHAPE_NAMES, self.blendshapes(points))}
        h, w = frame.shape[:2]
        yaw, pitch, roll = head_pose(points, w, h, self._basis, self._canonical)
        return FaceActions(
            blendshapes=scores,
            blink_left=scores["eyeBlinkLeft"],
            blink_right=scores["eyeBlinkRight"],
            yaw=yaw,
            pitch=pitch,
            roll=roll,
            face_presence=presence,
        )


def smile(actions: FaceActions) -> float:
    """The mean of mouthSmileLeft and mouthSmileRight."""
    b = actions.blendshapes
    return (b["mouthSmileLeft"] + b["mouthSmileRight"]) / 2.0
