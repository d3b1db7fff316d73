"""A small recorded session for tests: one happy face, `frames` frames at 10 fps."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from fer_desktop.core.emotions import CLASSES
from fer_desktop.core.sessions.recorder import SessionRecorder
from fer_desktop.core.sessions.study import StudyInfo
from fer_desktop.core.types import FaceResult, FrameResult


def happy_session(folder: Path, frames: int = 20) -> Path:
    rec = SessionRecorder(folder, source="test", detector="yunet", model="fer_net", fps=10.0)
    for i in range(frames):
        probs = {c: 0.05 for c in CLASSES}
        probs["happy"] = 0.7
        face = FaceResult((10, 10, 60, 60), probs, "happy", 0.7, "", track_id=1)
        rec.add(FrameResult(i, [face]), i / 10)
    rec.finish()
    return folder


def three_people_session(folder: Path) -> Path:
    """Tracks 1 and 2 seen together (frames 0-9: two people), track 3 alone later (frames 12-19:
    track 1's person come back)."""
    rec = SessionRecorder(folder, source="test", detector="yunet", model="fer_net", fps=10.0)
    for i in range(20):
        probs = {c: 0.05 for c in CLASSES}
        probs["happy"] = 0.7
        ids = (1, 2) if i < 10 else (3,) if i >= 12 else ()
        faces = [
            FaceResult((10 + 80 * k, 10, 60, 60), probs, "happy", 0.7, "", track_id=t)
            for k, t in enumerate(ids)
        ]
        rec.add(FrameResult(i, faces), i / 10)
    rec.finish()
    return folder


def one_person_and_a_blip_session(folder: Path) -> Path:
    """Track 1 seen for 2 s (a person), track 2 for 0.2 s (a false detection on the background)."""
    rec = SessionRecorder(folder, source="test", detector="yunet", model="fer_net", fps=10.0)
    probs = {c: 0.05 for c in CLASSES}
    probs["happy"] = 0.7
    for i in range(21):
        faces = [FaceResult((10, 10, 60, 60), probs, "happy", 0.7, "", track_id=1)]
        if 5 <= i < 8:
            faces.append(FaceResult((200, 10, 230, 40), probs, "happy", 0.7, "", track_id=2))
        rec.add(FrameResult(i, faces), i / 10)
    rec.finish()
    return folder


def study_session(
    folder: Path, participant: str, condition: str, seed: int, marker: float | None
) -> Path:
    """40 frames at 10 fps of one face with random probabilities, as `participant` in
    `condition`, and a marker "stimulus" at `marker` seconds."""
    rng = np.random.default_rng(seed)
    rec = SessionRecorder(folder, source="test", detector="yunet", model="fer_net", fps=10.0,
                          study=StudyInfo(participant, condition))  # fmt: skip
    for i in range(40):
        p = rng.dirichlet(np.ones(len(CLASSES)))
        probs = dict(zip(CLASSES, p))
        label = CLASSES[int(p.argmax())] if p.max() >= 0.4 else "uncertain"
        rec.add(FrameResult(i, [FaceResult((10, 10, 60, 60), probs, label, float(p.max()), "", track_id=1)]),
                i / 10)  # fmt: skip
        if marker is not None and i == int(marker * 10):
            rec.add_marker(marker, "stimulus")
    rec.finish()
    return folder
