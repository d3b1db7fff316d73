"""Draw face boxes, labels and colour emoji onto BGR frames (numpy + OpenCV only, no Qt).

Emoji are shipped as Twemoji PNGs in `resources/emoji/<codepoint>.png`, because a fresh
Linux machine has no colour emoji font and text emoji would render as empty boxes.
"""

from __future__ import annotations

import math
from functools import lru_cache

import cv2
import numpy as np

from fer_desktop.core.emotions import UNCERTAIN, emoji_codepoints
from fer_desktop.core.support.resources import resource_path
from fer_desktop.core.types import FaceResult

__all__ = [
    "draw_banner",
    "CLASS_COLORS_BGR",
    "UNCERTAIN_COLOR_BGR",
    "alpha_blend",
    "color_for",
    "draw_faces",
    "label_text",
    "load_emoji_image",
]

# One fixed colour per class (BGR), shared with the UI so legends match the boxes.
CLASS_COLORS_BGR: dict[str, tuple[int, int, int]] = {
    "angry": (40, 40, 220),  # red
    "disgust": (40, 150, 40),  # green
    "fear": (170, 60, 150),  # purple
    "happy": (0, 200, 255),  # yellow
    "neutral": (200, 170, 90),  # steel blue
    "sad": (200, 100, 20),  # blue
    "surprise": (0, 130, 255),  # orange
    UNCERTAIN: (150, 150, 150),  # grey
}
UNCERTAIN_COLOR_BGR: tuple[int, int, int] = CLASS_COLORS_BGR[UNCERTAIN]

_FONT = cv2.FONT_HERSHEY_SIMPLEX
_FONT_PX_AT_SCALE_1 = 22.0  # cap height of FONT_HERSHEY_SIMPLEX at fontScale 1.0


def color_for(label: str) -> tuple[int, int, int]:
    """The BGR colour of a class name; grey for "uncertain" and anything unknown."""
    return CLASS_COLORS_BGR.get(label, UNCERTAIN_COLOR_BGR)


def _pct(value: float) -> int:
    value = float(value)
    if not math.isfinite(value):
        return 0
    return round(min(max(value, 0.0), 1.0) * 100)


def label_text(face: FaceResult) -> str:
    """Label text: "happy 87%", or "uncertain (sad 38%)" below the confidence threshold."""
    if face.label == UNCERTAIN or face.label not in CLASS_COLORS_BGR:
        if face.probabilities:
            top, p = max(face.probabilities.items(), key=lambda kv: kv[1])
            return f"{UNCERTAIN} ({top} {_pct(p)}%)"
        return UNCERTAIN
    return f"{face.label} {_pct(face.confidence)}%"


# ---------------------------------------------------------------------------------------
# Emoji images


def _read_png_bgra(path) -> np.ndarray:
    # np.fromfile + imdecode works with non-ASCII paths on Windows, unlike cv2.imread.
    data = np.fromfile(str(path), dtype=np.uint8)
    img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if img is None:
        raise ValueError(f"emoji image {path} could not be decoded as PNG")
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGRA)
    elif img.shape[2] == 3:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2BGRA)
    if img.dtype != np.uint8:  # 16-bit PNG
        img = (img / 257).astype(np.uint8)
    return img


@lru_cache(maxsize=16)
def _emoji_original(stem: str) -> np.ndarray:
    path = resource_path("emoji", stem + ".png")
    if not path.is_file():
        raise FileNotFoundError(
            f"emoji image not found: {path} (expected the shipped Twemoji PNG "
            f"'{stem}.png' in the resources/emoji folder; is the install complete?)"
        )
    return _read_png_bgra(path)


@lru_cache(maxsize=256)
def load_emoji_image(label: str, size: int) -> np.ndarray:
    """The colour emoji of a class name (or "uncertain") as a `size`x`size` BGRA uint8 image.

    Cached; the returned array is read-only. Raises FileNotFoundError if the PNG is missing.
    """
    size = int(size)
    if size < 1:
        raise ValueError(f"emoji size must be >= 1, got {size}")
    img = _emoji_original(emoji_codepoints(label))
    if img.shape[0] != size or img.shape[1] != size:
        interp = cv2.INTER_AREA if size < img.shape[0] else cv2.INTER_CUBIC
        img = cv2.resize(img, (size, size), interpolation=interp)
    else:
        img = img.copy()
    img.setflags(write=False)
    return img


def alpha_blend(dst_bgr: np.ndarray, src_bgra: np.ndarray, x: int, y: int) -> np.ndarray:
    """Blend `src_bgra` onto `dst_bgr` in place with its top-left corner at (x, y).

    Any part of the source outside the destination is clipped (x, y may be negative or past
    the edge). Returns `dst_bgr`.
    """
    dh, dw = dst_bgr.shape[:2]
    sh, sw = src_bgra.shape[:2]
    x, y = int(x), int(y)
    x0, y0 = max(x, 0), max(y, 0)
    x1, y1 = min(x + sw, dw), min(y + sh, dh)
    if x0 >= x1 or y0 >= y1:
        return dst_bgr
    src = src_bgra[y0 - y : y1 - y, x0 - x : x1 - x]
    roi = dst_bgr[y0:y1, x0:x1]
    alpha = src[:, :, 3:4].astype(np.uint16)
    blended = (src[:, :, :3] * alpha + roi * (255 - alpha) + 127).astype(np.uint32)
    # (v + 1 + (v >> 8)) >> 8 == v // 255 (rounded) for v in [0, 255*255 + 127]
    blended = (blended + 1 + (blended >> 8)) >> 8  # type: ignore[assignment]
    roi[...] = blended.astype(np.uint8)
    return dst_bgr


# ---------------------------------------------------------------------------------------
# Drawing


def _text_color(bg: tuple[int, int, int]) -> tuple[int, int, int]:
    b, g, r = bg
    luma = 0.114 * b + 0.587 * g + 0.299 * r
    return (0, 0, 0) if luma > 140 else (255, 255, 255)


def _cell_color(bg: tuple[int, int, int]) -> tuple[int, int, int]:
    return (int(bg[0] * 0.4), int(bg[1] * 0.4), int(bg[2] * 0.4))


def _clamp(v: int, lo: int, hi: int) -> int:
    return lo if v < lo else min(v, hi)


def _overlaps(r: tuple[int, int, int, int], others: list[tuple[int, int, int, int]]) -> bool:
    return any(r[0] < o[2] and o[0] < r[2] and r[1] < o[3] and o[1] < r[3] for o in others)


def _place_label(
    bx: int,
    bar_w: int,
    bar_h: int,
    box_top: int,
    box_bottom: int,
    inside_top: int,
    h: int,
    placed: list[tuple[int, int, int, int]],
) -> int:
    """The label's top: above the box, else below it, else just inside its top; a place taken by
    an earlier label moves it further up or down (neighbouring faces' labels never overlap)."""
    first = []
    if box_top - bar_h >= 0:
        first.append(box_top - bar_h)
    if box_bottom + bar_h <= h:
        first.append(box_bottom)
    first.append(inside_top)
    candidates = list(first)
    for k in range(1, 8):  # stacked away from the taken places
        candidates += [first[0] - k * bar_h, first[0] + k * bar_h]
    top_limit = max(h - bar_h, 0)
    for by in candidates:
        if 0 <= by <= top_limit and not _overlaps((bx, by, bx + bar_w, by + bar_h), placed):
            return by
    return _clamp(first[0], 0, top_limit)


def draw_faces(
    frame_bgr: np.ndarray,
    faces: list[FaceResult],
    *,
    selected_track: int | None = None,
) -> np.ndarray:
    """Draw each face's box, a label bar ("happy 87%") and its colour emoji, in place.

    The label bar sits above the box, or below it when there is no room at the top (inside
    the box's top edge if there is no room either side). Sizes scale with the frame and box,
    so labels stay legible from 427x240 up to 4K. Boxes partly or entirely outside the frame
    are clipped or skipped. Returns `frame_bgr`.
    """
    if frame_bgr.ndim != 3 or frame_bgr.shape[2] != 3 or frame_bgr.dtype != np.uint8:
        raise ValueError(
            f"draw_faces needs a BGR uint8 frame of shape (h, w, 3), got "
            f"{frame_bgr.dtype} {frame_bgr.shape}"
        )
    if not faces:
        return frame_bgr
    h, w = frame_bgr.shape[:2]
    if h == 0 or w == 0:
        return frame_bgr
    short = min(h, w)
    base_thick = max(1, round(short / 360))
    frame_text_px = short * 0.03

    labels: list[tuple] = []
    for face in faces:
        try:
            x1, y1, x2, y2 = (round(float(v)) for v in face.box)
        except (TypeError, ValueError, OverflowError):
            continue
        if x2 < x1:
            x1, x2 = x2, x1
        if y2 < y1:
            y1, y2 = y2, y1
        if x2 < 0 or y2 < 0 or x1 >= w or y1 >= h:
            continue  # entirely outside the frame
        # Keep coordinates in a range OpenCV's int32 drawing handles; edges stay off-screen.
        x1, x2 = _clamp(x1, -8 * w, 9 * w), _clamp(x2, -8 * w, 9 * w)
        y1, y2 = _clamp(y1, -8 * h, 9 * h), _clamp(y2, -8 * h, 9 * h)

        color = color_for(face.label)
        selected = selected_track is not None and face.track_id == selected_track
        thick = base_thick * 2 + 1 if selected else base_thick
        cv2.rectangle(frame_bgr, (x1, y1), (x2, y2), color, thick, cv2.LINE_8)
        labels.append((face, (x1, y1, x2, y2), color, thick))

    # Labels after every box, each placed where it covers no label placed before it.
    placed: list[tuple[int, int, int, int]] = []
    for face, (x1, y1, _x2, y2), color, thick in sorted(labels, key=lambda item: item[1][1]):
        # Text size: mostly from the frame, a little larger for big boxes, always legible.
        box_h = min(y2, h) - max(y1, 0)
        text_px = max(frame_text_px, box_h * 0.09)
        text_px = min(max(text_px, 9.0), short * 0.06)
        scale = text_px / _FONT_PX_AT_SCALE_1
        text_thick = max(1, round(text_px / 12))
        text = label_text(face)
        if face.track_id >= 1:  # the face's id, as in the timeline and the CSV ("#2 happy 87%")
            text = f"#{face.track_id} {text}"
        (tw, th), baseline = cv2.getTextSize(text, _FONT, scale, text_thick)

        pad = max(2, round(text_px * 0.3))
        bar_h = th + baseline + 2 * pad
        inset = max(1, pad // 3)
        emoji_size = bar_h - 2 * inset
        bar_w = bar_h + pad + tw + pad  # square emoji cell, then the text

        # Horizontal: aligned with the box's left edge, pulled back inside the frame.
        bx = x1 - thick // 2
        bx = _clamp(bx, 0, max(w - bar_w, 0))
        by = _place_label(
            bx, bar_w, bar_h, y1 - thick // 2, y2 + thick // 2 + 1, max(y1, 0), h, placed
        )
        placed.append((bx, by, bx + bar_w, by + bar_h))

        # cv2 fills (0.01 ms) rather than numpy assigning a tuple to a slice (0.2 ms a face)
        cv2.rectangle(frame_bgr, (bx, by), (bx + bar_w - 1, by + bar_h - 1), color, cv2.FILLED)
        # A darker cell behind the emoji keeps yellow emoji visible on a yellow bar.
        cell = _cell_color(color)
        cv2.rectangle(frame_bgr, (bx, by), (bx + bar_h - 1, by + bar_h - 1), cell, cv2.FILLED)
        if emoji_size >= 4:
            emoji_img = load_emoji_image(face.label, emoji_size)
            alpha_blend(frame_bgr, emoji_img, bx + inset, by + inset)
        tx = bx + bar_h + pad
        ty = by + pad + th
        cv2.putText(
            frame_bgr, text, (tx, ty), _FONT, scale, _text_color(color), text_thick, cv2.LINE_AA
        )
    return frame_bgr


def draw_banner(img: np.ndarray, text: str) -> np.ndarray:
    """A dark bar with white text across the top of `img`, in place (e.g. "No face found")."""
    h, w = img.shape[:2]
    scale = max(0.5, min(h, w) / 600)
    thick = max(1, round(scale * 2))
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
    pad = max(4, th // 2)
    bar_h = min(h, th + base + 2 * pad)
    bar_w = min(w, tw + 2 * pad)
    roi = img[:bar_h, :bar_w]
    roi[...] = (roi.astype(np.uint16) * 3 // 10).astype(np.uint8)
    cv2.putText(
        img,
        text,
        (pad, pad + th),
        cv2.FONT_HERSHEY_SIMPLEX,
        scale,
        (255, 255, 255),
        thick,
        cv2.LINE_AA,
    )
    return img
