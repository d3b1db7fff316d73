"""The 7 emotion classes, their emoji (from the `emoji` package's names) and name normalisation."""

from __future__ import annotations

import emoji
import numpy as np

CLASSES: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")

# CLDR names as the `emoji` package knows them; the character is looked up, not hard-coded.
EMOJI_NAMES: dict[str, str] = {
    "angry": ":angry_face:",
    "disgust": ":nauseated_face:",
    "fear": ":fearful_face:",
    "happy": ":grinning_face_with_smiling_eyes:",
    "neutral": ":neutral_face:",
    "sad": ":crying_face:",
    "surprise": ":face_with_open_mouth:",
    "uncertain": ":thinking_face:",
}
UNCERTAIN = "uncertain"

_ALIASES = {
    "anger": "angry",
    "angry": "angry",
    "mad": "angry",
    "disgust": "disgust",
    "disgusted": "disgust",
    "contempt": "disgust",
    "fear": "fear",
    "fearful": "fear",
    "afraid": "fear",
    "scared": "fear",
    "happy": "happy",
    "happiness": "happy",
    "joy": "happy",
    "neutral": "neutral",
    "calm": "neutral",
    "sad": "sad",
    "sadness": "sad",
    "surprise": "surprise",
    "surprised": "surprise",
}


def emoji_for(label: str) -> str:
    """The emoji character for a class name (or "uncertain")."""
    return emoji.emojize(EMOJI_NAMES.get(label, EMOJI_NAMES[UNCERTAIN]))


def emoji_codepoints(label: str) -> str:
    """Twemoji-style file stem of the emoji, e.g. '1f620' (variation selectors dropped)."""
    return "-".join(f"{ord(c):x}" for c in emoji_for(label) if ord(c) != 0xFE0F)


def normalise_class_name(name: str) -> str | None:
    """Map a dataset's class name ("Anger", "happiness", "3_sad") to one of CLASSES, or None."""
    key = name.strip().lower().lstrip("0123456789_- ")
    return _ALIASES.get(key)


NEGATIVE = ("angry", "disgust", "fear", "sad")
VALENCE_NOTE = (
    "Valence = P(happy) minus the largest of P(angry), P(disgust), P(fear), P(sad): the "
    "convention of a commercial tool (Noldus FaceReader), derived from the 7 class "
    "probabilities, not a separately trained valence model. -1 is negative, +1 positive."
)


def valence(probs) -> np.ndarray:
    """Valence per row of `probs` ((n, 7) or (7,), CLASSES order): see VALENCE_NOTE."""
    p = np.asarray(probs, dtype=np.float64)
    happy = p[..., CLASSES.index("happy")]
    negative = np.max(p[..., [CLASSES.index(c) for c in NEGATIVE]], axis=-1)
    return happy - negative
