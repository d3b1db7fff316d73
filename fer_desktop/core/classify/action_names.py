"""The names of what a face does (issue 31): MediaPipe's 52 blendshapes, spelt and ordered as
MediaPipe spells them, and the per-face columns the CSV files carry for them.

Plain constants, no runtime: the session and photo CSV writers and readers use them whether or
not the facial-actions runtime is installed. Source of the names and of the landmark subset the
blendshape model reads: mediapipe/tasks/cc/vision/face_landmarker/face_blendshapes_graph.cc
(kBlendshapeNames, kLandmarksSubsetIdxs).
"""

from __future__ import annotations

import math

BLENDSHAPE_NAMES: tuple[str, ...] = (
    "_neutral", "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft",
    "browOuterUpRight", "cheekPuff", "cheekSquintLeft", "cheekSquintRight", "eyeBlinkLeft",
    "eyeBlinkRight", "eyeLookDownLeft", "eyeLookDownRight", "eyeLookInLeft", "eyeLookInRight",
    "eyeLookOutLeft", "eyeLookOutRight", "eyeLookUpLeft", "eyeLookUpRight", "eyeSquintLeft",
    "eyeSquintRight", "eyeWideLeft", "eyeWideRight", "jawForward", "jawLeft", "jawOpen",
    "jawRight", "mouthClose", "mouthDimpleLeft", "mouthDimpleRight", "mouthFrownLeft",
    "mouthFrownRight", "mouthFunnel", "mouthLeft", "mouthLowerDownLeft", "mouthLowerDownRight",
    "mouthPressLeft", "mouthPressRight", "mouthPucker", "mouthRight", "mouthRollLower",
    "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper", "mouthSmileLeft", "mouthSmileRight",
    "mouthStretchLeft", "mouthStretchRight", "mouthUpperUpLeft", "mouthUpperUpRight",
    "noseSneerLeft", "noseSneerRight",
)  # fmt: skip

# The 146 of the 478 landmarks the blendshape model reads, in its input order.
LANDMARKS_SUBSET: tuple[int, ...] = (
    0, 1, 4, 5, 6, 7, 8, 10, 13, 14, 17, 21, 33, 37, 39,
    40, 46, 52, 53, 54, 55, 58, 61, 63, 65, 66, 67, 70, 78, 80,
    81, 82, 84, 87, 88, 91, 93, 95, 103, 105, 107, 109, 127, 132, 133,
    136, 144, 145, 146, 148, 149, 150, 152, 153, 154, 155, 157, 158, 159, 160,
    161, 162, 163, 168, 172, 173, 176, 178, 181, 185, 191, 195, 197, 234, 246,
    249, 251, 263, 267, 269, 270, 276, 282, 283, 284, 285, 288, 291, 293, 295,
    296, 297, 300, 308, 310, 311, 312, 314, 317, 318, 321, 323, 324, 332, 334,
    336, 338, 356, 361, 362, 365, 373, 374, 375, 377, 378, 379, 380, 381, 382,
    384, 385, 386, 387, 388, 389, 390, 397, 398, 400, 402, 405, 409, 415, 454,
    466, 468, 469, 470, 471, 472, 473, 474, 475, 476, 477,
)  # fmt: skip

POSE_AND_BLINK: tuple[str, ...] = ("yaw", "pitch", "roll", "blink_left", "blink_right")
BLENDSHAPE_PREFIX = "bs_"
# faces.csv and the photos' faces.csv: these columns after all the older ones (empty cells when
# facial actions were off or the face was not measured).
ACTION_COLUMNS: tuple[str, ...] = (
    *POSE_AND_BLINK,
    *(BLENDSHAPE_PREFIX + n for n in BLENDSHAPE_NAMES),
)


def action_cells(actions) -> list[str]:
    """One face's ACTION_COLUMNS as CSV cells: angles to 0.01 degree, scores to 1e-4; all empty
    for None (off, or no face found by the landmark model), one empty for an angle not found."""
    if actions is None:
        return [""] * len(ACTION_COLUMNS)
    angles = [actions.yaw, actions.pitch, actions.roll]
    cells = ["" if not math.isfinite(a) else f"{a:.2f}" for a in angles]
    scores = [actions.blink_left, actions.blink_right]
    scores += [actions.blendshapes.get(n, math.nan) for n in BLENDSHAPE_NAMES]
    return cells + ["" if not math.isfinite(v) else f"{v:.4f}" for v in scores]
