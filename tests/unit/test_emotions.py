"""The classes, their emoji, dataset class names and valence (core/emotions.py): the documented
behaviour, pinned value by value (issue 33: mutation testing found it unpinned)."""

from __future__ import annotations

import numpy as np
import pytest

from fer_desktop.core.emotions import (
    CLASSES,
    UNCERTAIN,
    emoji_codepoints,
    emoji_for,
    normalise_class_name,
    valence,
)


def test_each_class_has_its_own_emoji_and_an_unknown_label_gets_the_uncertain_one():
    assert emoji_for("angry") == "\U0001f620"
    assert emoji_for("happy") == "\U0001f604"
    assert emoji_for(UNCERTAIN) == "\U0001f914"
    assert emoji_for("bored") == emoji_for(UNCERTAIN)
    assert len({emoji_for(c) for c in CLASSES}) == len(CLASSES)


def test_codepoints_are_the_twemoji_file_stem_without_variation_selectors():
    assert emoji_codepoints("angry") == "1f620"
    assert emoji_codepoints("surprise") == "1f62e"
    assert emoji_codepoints("uncertain") == "1f914"
    # a multi-codepoint emoji keeps its parts joined by "-" and drops U+FE0F
    assert all("fe0f" not in emoji_codepoints(c) for c in CLASSES)


@pytest.mark.parametrize(
    ("name", "expected"),
    [("Anger", "angry"), ("happiness", "happy"), ("3_sad", "sad"), (" 06-Surprise ", "surprise"),
     ("contempt", "disgust"), ("calm", "neutral"), ("Fearful", "fear"), ("0 neutral", "neutral"),
     ("pride", None), ("", None), ("sad3", None)],
)  # fmt: skip
def test_dataset_class_names_map_to_the_seven_or_to_none(name, expected):
    assert normalise_class_name(name) == expected


def test_valence_is_happy_minus_the_strongest_negative_class():
    p = dict.fromkeys(CLASSES, 0.0)
    p.update(happy=0.5, angry=0.1, disgust=0.05, fear=0.2, sad=0.15)
    row = np.array([p[c] for c in CLASSES])
    assert valence(row) == pytest.approx(0.5 - 0.2)
    for negative in ("angry", "disgust", "fear", "sad"):  # each one counts
        q = dict.fromkeys(CLASSES, 0.0)
        q[negative] = 0.9
        assert valence(np.array([q[c] for c in CLASSES])) == pytest.approx(-0.9)
    neutral_and_surprise = dict.fromkeys(CLASSES, 0.0)
    neutral_and_surprise.update(neutral=0.6, surprise=0.4)  # neither side
    assert valence(np.array([neutral_and_surprise[c] for c in CLASSES])) == 0.0


def test_valence_takes_rows_and_keeps_their_order():
    rows = np.eye(len(CLASSES))
    v = valence(rows)
    assert v.shape == (len(CLASSES),)
    expected = [-1.0 if c in ("angry", "disgust", "fear", "sad") else 1.0 if c == "happy" else 0.0
                for c in CLASSES]  # fmt: skip
    assert v.tolist() == expected
    assert valence([[0] * 7]).dtype == np.float64  # lists (even of ints) give float valence
