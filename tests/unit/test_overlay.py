"""Tests for the OpenCV overlay: boxes, label bars and the shipped colour emoji PNGs."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from fer_desktop.core.emotions import CLASSES, UNCERTAIN, emoji_codepoints, emoji_for
from fer_desktop.core.render import overlay
from fer_desktop.core.render.overlay import (
    CLASS_COLORS_BGR,
    alpha_blend,
    draw_faces,
    label_text,
    load_emoji_image,
)
from fer_desktop.core.support.resources import resource_path
from fer_desktop.core.types import FaceResult

ALL_LABELS = (*CLASSES, UNCERTAIN)


def make_face(box, label, top=None, p=0.87, track_id=-1):
    top = top or label
    rest = (1.0 - p) / (len(CLASSES) - 1)
    probs = {c: (p if c == top else rest) for c in CLASSES}
    return FaceResult(
        box=box,
        probabilities=probs,
        label=label,
        confidence=p,
        emoji=emoji_for(label),
        track_id=track_id,
    )


def yellow_mask(region: np.ndarray) -> np.ndarray:
    """Pixels of the Twemoji face yellow (#FFCC4D, BGR 77,204,255): high R and G, low-ish B."""
    b, g, r = (region[..., i].astype(int) for i in range(3))
    return (r > 220) & (g > 170) & (b > 40) & (b < 120)


# --- the shipped PNGs ---------------------------------------------------------------------


@pytest.mark.parametrize("label", ALL_LABELS)
def test_emoji_png_exists_has_alpha_and_is_not_blank(label):
    path = resource_path("emoji", emoji_codepoints(label) + ".png")
    assert path.is_file(), path
    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert img is not None and img.dtype == np.uint8
    assert img.shape == (72, 72, 4)
    alpha = img[..., 3]
    assert (alpha > 200).mean() > 0.4, "mostly transparent: blank image?"
    assert (alpha == 0).any(), "no transparent corner: not an emoji on a clear background"
    opaque = img[..., :3][alpha > 200]
    assert opaque.std() > 20, "a single flat colour: not a colour emoji"
    if label == "disgust":  # the nauseated face is green
        b, g, r = opaque[:, 0].astype(int), opaque[:, 1].astype(int), opaque[:, 2].astype(int)
        assert ((g > r + 30) & (g > b + 30)).mean() > 0.25
    else:  # every other Twemoji smiley here has a yellow face
        assert yellow_mask(opaque).mean() > 0.25


def test_all_eight_codepoints_are_distinct_files():
    stems = {emoji_codepoints(label) for label in ALL_LABELS}
    assert stems == {"1f620", "1f922", "1f628", "1f604", "1f610", "1f622", "1f62e", "1f914"}


def test_emoji_licence_file_names_source_and_cc_by():
    text = resource_path("emoji", "LICENSE.md").read_text(encoding="utf-8")
    assert "CC-BY 4.0" in text and "Twemoji" in text and "@discordapp/twemoji" in text


# --- load_emoji_image ---------------------------------------------------------------------


@pytest.mark.parametrize("size", [8, 37, 72, 150])
def test_load_emoji_image_size_channels_and_cache(size):
    img = load_emoji_image("happy", size)
    assert img.shape == (size, size, 4) and img.dtype == np.uint8
    assert img[..., 3].max() == 255 and img[..., 3].min() == 0
    assert load_emoji_image("happy", size) is img  # cached
    assert not img.flags.writeable  # callers cannot corrupt the cache


def test_unknown_label_gets_the_thinking_emoji():
    assert np.array_equal(load_emoji_image("no-such-class", 40), load_emoji_image(UNCERTAIN, 40))
    assert not np.array_equal(load_emoji_image("happy", 40), load_emoji_image(UNCERTAIN, 40))


def test_missing_emoji_png_raises_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("FER_DESKTOP_RESOURCES", str(tmp_path))
    overlay.load_emoji_image.cache_clear()
    overlay._emoji_original.cache_clear()
    try:
        with pytest.raises(FileNotFoundError, match="1f604"):
            load_emoji_image("happy", 33)
    finally:
        overlay.load_emoji_image.cache_clear()
        overlay._emoji_original.cache_clear()


# --- alpha_blend --------------------------------------------------------------------------


def opaque_square(n=10, bgr=(0, 0, 255), alpha=255):
    src = np.zeros((n, n, 4), np.uint8)
    src[..., :3] = bgr
    src[..., 3] = alpha
    return src


@pytest.mark.parametrize(
    "x, y, expect",
    [
        (-5, -5, (slice(0, 5), slice(0, 5))),
        (15, 15, (slice(15, 20), slice(15, 20))),
        (-3, 12, (slice(12, 20), slice(0, 7))),
        (5, 5, (slice(5, 15), slice(5, 15))),
    ],
)
def test_alpha_blend_clips_at_the_borders(x, y, expect):
    dst = np.zeros((20, 20, 3), np.uint8)
    out = alpha_blend(dst, opaque_square(), x, y)
    assert out is dst
    want = np.zeros_like(dst)
    want[expect] = (0, 0, 255)
    assert np.array_equal(dst, want)


@pytest.mark.parametrize("x, y", [(-10, 0), (20, 0), (0, -10), (0, 20), (-1000, 5000)])
def test_alpha_blend_entirely_outside_is_a_no_op(x, y):
    dst = np.full((20, 20, 3), 7, np.uint8)
    alpha_blend(dst, opaque_square(), x, y)
    assert (dst == 7).all()


def test_alpha_blend_mixes_by_alpha():
    dst = np.full((4, 4, 3), 200, np.uint8)
    alpha_blend(dst, opaque_square(4, (0, 100, 255), alpha=128), 0, 0)
    expected = np.round(np.array([0, 100, 255]) * 128 / 255 + 200 * 127 / 255)
    assert np.abs(dst.astype(int) - expected).max() <= 1
    clear = np.full((4, 4, 3), 200, np.uint8)
    alpha_blend(clear, opaque_square(4, (0, 0, 0), alpha=0), 0, 0)
    assert (clear == 200).all()


# --- label text ---------------------------------------------------------------------------


def test_label_text():
    assert label_text(make_face((0, 0, 9, 9), "happy", p=0.87)) == "happy 87%"
    assert label_text(make_face((0, 0, 9, 9), UNCERTAIN, top="sad", p=0.38)) == (
        "uncertain (sad 38%)"
    )


def test_palette_covers_every_class_and_uncertain_is_grey():
    assert set(CLASS_COLORS_BGR) == set(ALL_LABELS)
    assert len(set(CLASS_COLORS_BGR.values())) == len(ALL_LABELS)
    b, g, r = CLASS_COLORS_BGR[UNCERTAIN]
    assert b == g == r


# --- draw_faces ---------------------------------------------------------------------------


def test_draw_faces_on_a_720p_frame():
    frame = np.zeros((720, 1280, 3), np.uint8)
    border = make_face((1150, 560, 1330, 760), "sad", p=0.71)  # runs off right and bottom
    unsure = make_face((300, 250, 520, 500), UNCERTAIN, top="sad", p=0.38)
    out = draw_faces(frame, [border, unsure])
    assert out is frame  # drawn in place

    # Box outlines are drawn in the class colours.
    sad, grey = CLASS_COLORS_BGR["sad"], CLASS_COLORS_BGR[UNCERTAIN]
    assert tuple(frame[650, 1150]) == sad  # left edge of the border face
    assert tuple(frame[560, 1200]) == sad  # its top edge
    assert tuple(frame[400, 300]) == grey and tuple(frame[400, 520]) == grey
    assert tuple(frame[250, 400]) == grey and tuple(frame[500, 400]) == grey
    # ... and the inside of the box stays untouched.
    assert not frame[300:480, 320:500].any()
    assert not frame[600:700, 1170:1270].any()

    # Label bars sit above the boxes (room there), in the class colour, with the emoji.
    above_border = frame[480:560, 1000:1280]
    assert (above_border == sad).all(axis=2).sum() > 500
    assert yellow_mask(above_border).sum() > 50, "no colour emoji next to the 'sad' label"
    above_unsure = frame[170:250, 295:700]
    assert (above_unsure == grey).all(axis=2).sum() > 500
    assert yellow_mask(above_unsure).sum() > 50, "no thinking emoji next to 'uncertain'"
    # Text on the bars: white on the blue one, black on the light grey one.
    assert (above_border > 240).all(axis=2).sum() > 100
    ys, xs = np.nonzero((above_unsure == grey).all(axis=2))
    grey_bar = above_unsure[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    assert (grey_bar < 30).all(axis=2).sum() > 100

    # Nothing drawn far from the faces.
    assert not frame[0:150, 0:250].any()
    assert not frame[600:720, 0:900].any()


def test_happy_emoji_is_visible_on_its_yellow_bar():
    frame = np.zeros((720, 1280, 3), np.uint8)
    draw_faces(frame, [make_face((400, 300, 600, 550), "happy", p=0.9)])
    bar = frame[220:300, 395:800]
    # The bar itself is BGR (0, 200, 255): B == 0. The emoji's yellow has B around 77.
    assert (bar == CLASS_COLORS_BGR["happy"]).all(axis=2).sum() > 500
    assert yellow_mask(bar).sum() > 50
    assert (bar < 30).all(axis=2).sum() > 100  # dark text on the yellow bar


def test_label_goes_below_when_there_is_no_room_on_top():
    frame = np.zeros((480, 640, 3), np.uint8)
    draw_faces(frame, [make_face((100, 2, 250, 150), "angry", p=0.66)])
    red = CLASS_COLORS_BGR["angry"]
    below = frame[151:230, 95:450]
    assert (below == red).all(axis=2).sum() > 300
    assert yellow_mask(below).sum() > 20


def test_label_bar_scales_with_frame_size():
    def bar_rows(w, h):
        frame = np.zeros((h, w, 3), np.uint8)
        s = h / 240
        box = (int(100 * s), int(80 * s), int(160 * s), int(150 * s))
        draw_faces(frame, [make_face(box, "sad")])
        above = frame[: box[1]]
        return int((above == CLASS_COLORS_BGR["sad"]).all(axis=2).any(axis=1).sum())

    small, big = bar_rows(427, 240), bar_rows(3840, 2160)
    assert 10 <= small <= 40
    assert big > 4 * small


def test_selected_track_gets_a_thicker_outline():
    def outline_px(selected):
        frame = np.zeros((720, 1280, 3), np.uint8)
        draw_faces(
            frame, [make_face((400, 300, 600, 550), "fear", track_id=5)], selected_track=selected
        )
        return int((frame[300:551, 400:601] == CLASS_COLORS_BGR["fear"]).all(axis=2).sum())

    assert outline_px(5) > 1.5 * outline_px(None)
    assert outline_px(99) == outline_px(None)


@pytest.mark.parametrize(
    "box",
    [
        (2000, 100, 2100, 200),  # right of the frame
        (-300, 100, -200, 200),  # left of the frame
        (100, -300, 200, -200),  # above
        (100, 900, 200, 1000),  # below
        (10**12, 10**12, 10**12 + 5, 10**12 + 5),  # absurd
    ],
)
def test_face_entirely_outside_the_frame_draws_nothing(box):
    frame = np.zeros((720, 1280, 3), np.uint8)
    draw_faces(frame, [make_face(box, "happy")])
    assert not frame.any()


@pytest.mark.parametrize("shape", [(240, 427), (720, 1280), (31, 17), (1, 1)])
@pytest.mark.parametrize(
    "box",
    [
        (-50, -50, 40, 40),  # top-left corner, partly outside
        (-5, 100, 60, 180),
        (380, 200, 900, 700),  # bottom-right, partly outside
        (10, 10, 11, 11),  # tiny
        (20, 20, 20, 20),  # empty
        (60, 60, 30, 30),  # inverted
        (-(10**9), -(10**9), 10**9, 10**9),  # covers everything, huge coordinates
        (np.int64(5), np.float32(6.4), np.int32(40), 50.7),  # numpy / float coordinates
    ],
)
def test_border_tiny_and_odd_boxes_do_not_raise(shape, box):
    frame = np.zeros((*shape, 3), np.uint8)
    for label in ("happy", UNCERTAIN):
        draw_faces(frame, [make_face(box, label)], selected_track=-1)


def test_no_faces_leaves_the_frame_alone():
    frame = np.zeros((100, 100, 3), np.uint8)
    assert draw_faces(frame, []) is frame
    assert not frame.any()


def test_rejects_non_bgr_frames():
    with pytest.raises(ValueError):
        draw_faces(np.zeros((100, 100), np.uint8), [make_face((1, 1, 50, 50), "sad")])


def _count(img: np.ndarray, bgr) -> int:
    return int(np.all(img == np.array(bgr, np.uint8), axis=2).sum())


@pytest.mark.parametrize("dy", [0, 12, -12])
def test_neighbouring_faces_labels_never_cover_each_other(dy):
    """Two faces side by side (as in obama_and_biden.jpg): each label is drawn whole; the second
    one moves instead of covering the first (counted by the pixels of each bar's colour)."""
    a = make_face((300, 200, 380, 290), "happy", track_id=1)
    b = make_face((390, 200 + dy, 470, 290 + dy), "sad", track_id=2)
    blank = np.zeros((720, 1280, 3), np.uint8)
    alone_a = draw_faces(blank.copy(), [a])
    alone_b = draw_faces(blank.copy(), [b])
    both = draw_faces(blank.copy(), [a, b])
    yellow, blue = overlay.CLASS_COLORS_BGR["happy"], overlay.CLASS_COLORS_BGR["sad"]
    assert _count(alone_a, yellow) > 500 and _count(alone_b, blue) > 500
    assert _count(both, yellow) == _count(alone_a, yellow)
    assert _count(both, blue) == _count(alone_b, blue)
