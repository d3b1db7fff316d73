"""A small recorded session for tests: one happy face, `frames` frames at 10 fps."""

from __future__ import annotations

from pathlib import Path

from fer_desktop.core.emotions import CLASSES
from fer_desktop.core.sessions.recorder import SessionRecorder
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
