"""Find a known face again near where it was: detection in a small region instead of the frame.

Between full-frame detections the pipeline looks for each tracked face only in a square region
around its last box (the box grown by `GROW` of its size on every side), at the scale the
detector sees whole frames at: it sees a tenth of a 720p frame's pixels, the face at the size a
full detection sees it. Boxes and landmarks are mapped back to frame pixels. What trackers in this
field do (MediaPipe's face pipeline): detect now and then, follow in between (issue 29).
"""

from __future__ import annotations

import cv2
import numpy as np

from fer_desktop.core.detectors.base import clip_box
from fer_desktop.core.geometry import iou
from fer_desktop.core.types import Detection

# The box grown by 0.75 of its size on each side: a face moving a quarter of its width between
# two frames (fast head turns at 30 fps) stays well inside, and the face fills 40% of the region.
GROW = 0.25
# A region is shown to the detector at the scale the detector sees the whole frame at (YuNet:
# longest side 640), so the box it finds is the box a full detection finds (same labels); for a
# detector without that notion, at 160 px (the face about 64 px).
REGION_SIDE = 160
BIG_REGION = 192  # input pixels: above it the region is looked at half the scale (cost / 4); 192
# rather than 256: the same labels on 99.1% of frames and faces within 0.4% (compare_detect), 12%
# less time a frame on a 720p talking head (issue 29)


def region_of(box, frame_w: int, frame_h: int, grow: float = GROW) -> tuple[int, int, int]:
    """(x0, y0, side) of the square region around `box`, grown by `grow` of its longer side on
    every side. It may reach outside the frame (that part is black)."""
    x1, y1, x2, y2 = (float(v) for v in box)
    side = max(x2 - x1, y2 - y1) * (1.0 + 2.0 * grow)
    cx, cy = (x1 + x2) / 2.0, (y1 + y2) / 2.0
    side = max(8.0, min(side, 2.0 * max(frame_w, frame_h)))
    return round(cx - side / 2.0), round(cy - side / 2.0), round(side)


def crop_region(frame: np.ndarray, x0: int, y0: int, side: int, out: int) -> np.ndarray:
    """The `side` x `side` square at (x0, y0) of `frame`, black outside it, resized to `out`.

    Only the part inside the frame is resized (then placed on black), halving while it is at
    least twice the target (INTER_AREA's fast path): a 640 px region of a 720p frame to 160 px
    costs 0.2 ms instead of 1.0 (padding the whole square, then one 4x INTER_AREA)."""
    h, w = frame.shape[:2]
    ax0, ay0, ax1, ay1 = max(x0, 0), max(y0, 0), min(x0 + side, w), min(y0 + side, h)
    if ax1 <= ax0 or ay1 <= ay0:
        return np.zeros((out, out, 3), np.uint8)
    f = out / side
    ox0, oy0 = round((ax0 - x0) * f), round((ay0 - y0) * f)
    ox1 = min(out, max(ox0 + 1, round((ax1 - x0) * f)))
    oy1 = min(out, max(oy0 + 1, round((ay1 - y0) * f)))
    small = shrink(frame[ay0:ay1, ax0:ax1], (ox1 - ox0, oy1 - oy0))
    if (ox0, oy0, ox1, oy1) == (0, 0, out, out):
        return small
    canvas = np.zeros((out, out) + small.shape[2:], np.uint8)
    canvas[oy0:oy1, ox0:ox1] = small
    return canvas


def shrink(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """`img` resized to `size` (w, h): halved with INTER_AREA while it is at least twice as
    large (the same 2x2 means as one 4x INTER_AREA, to a grey level), then INTER_AREA down or
    INTER_LINEAR up for what is left."""
    while img.shape[1] >= 2 * size[0] and img.shape[0] >= 2 * size[1]:
        img = cv2.resize(img, (img.shape[1] // 2, img.shape[0] // 2), interpolation=cv2.INTER_AREA)
    if (img.shape[1], img.shape[0]) == tuple(size):
        return img
    interp = cv2.INTER_AREA if img.shape[1] > size[0] else cv2.INTER_LINEAR
    return cv2.resize(img, tuple(size), interpolation=interp)


def place_region(detector, box, frame_w: int, frame_h: int) -> tuple[int, int, int, int]:
    """(x0, y0, region, side): the square of `region` frame pixels at (x0, y0) around `box`, and
    the detector's input side for it. A detector with a whole-frame scale (YuNet: longest side
    `max_side`) sees the region at that scale and on that scale's 32 px grid: the same pixels, the
    same cells, so the box a full detection would find (labels that do not change with the
    path). Its side is a multiple of 32 (a network re-plans for each new input size)."""
    x0, y0, region = region_of(box, frame_w, frame_h)
    max_side = getattr(detector, "max_side", None)
    if not max_side:
        return x0, y0, region, REGION_SIDE
    scale = min(1.0, max_side / max(frame_w, frame_h))
    while region * scale > BIG_REGION:  # a big face: found at half the scale, still >= 80 px
        scale /= 2.0
    side = int(min(640, max(96, -(-region * scale // 32) * 32)))
    region = round(side / scale)
    cell = 32.0 / scale
    cx, cy = (box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0
    x0 = int((cx - region / 2.0) // cell * cell)
    y0 = int((cy - region / 2.0) // cell * cell)
    return x0, y0, region, side


def detect_near(detector, frame: np.ndarray, box) -> Detection | None:
    """The face nearest `box` found in its region (the best overlap with `box`, then the best
    score), in frame pixels; None when the region holds no face."""
    h, w = frame.shape[:2]
    x0, y0, region, side = place_region(detector, box, w, h)
    small = crop_region(frame, x0, y0, region, side)
    found = getattr(detector, "detect_region", detector.detect)(small)
    if not found:
        return None
    s = region / side
    best: Detection | None = None
    best_key = (-1.0, -1.0)
    for d in found:
        bx1, by1, bx2, by2 = d.box
        mapped = clip_box(bx1 * s + x0, by1 * s + y0, bx2 * s + x0, by2 * s + y0, w, h)
        if mapped is None:
            continue
        key = (iou(mapped, box), d.score)
        if key > best_key:
            marks = None
            if d.landmarks is not None:
                marks = np.asarray(d.landmarks, np.float32) * s + np.array((x0, y0), np.float32)
            best, best_key = Detection(mapped, d.score, marks), key
    if best is None or best_key[0] <= 0.0:  # another face in the corner of the region
        return None
    return best


def drop_duplicates(dets: list[Detection], overlap: float = 0.5) -> list[Detection]:
    """Two tracks that found the same face: keep the better-scored box (NMS over regions)."""
    kept: list[Detection] = []
    for d in sorted(dets, key=lambda d: d.score, reverse=True):
        if all(iou(d.box, k.box) < overlap for k in kept):
            kept.append(d)
    return kept
