"""fer-desktop from Python (a notebook, a script): the app's own pipeline, no window, no Qt.

    from fer_desktop import analyze_image, analyze_video, read_faces

    faces = analyze_image("photo.jpg")            # one Face per face found
    folder = analyze_video("interview.mp4", "out")  # a session folder, as `fer-desktop analyze`
    table = read_faces(folder)                      # faces.csv as a pandas DataFrame

The same detector, model, smoothing and threshold as the app (the user's settings unless given),
the same files. pandas is needed only for the tables (`pip install "fer-desktop[api]"`).
Stable names; see docs/api.md.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fer_desktop.core.emotions import valence as _valence
from fer_desktop.core.sessions.layout import face_probs
from fer_desktop.core.settings import Settings
from fer_desktop.core.support.errors import UserError

if TYPE_CHECKING:  # pandas is optional: only the tables need it
    import pandas as pd

__all__ = ["Analyzer", "Face", "analyze_image", "analyze_video", "read_faces", "read_segments"]


@dataclass(frozen=True)
class Face:
    """One face: `box` (x1, y1, x2, y2) in image pixels, the shown `label` (a class or
    "uncertain"), its `confidence`, the 7 class `probabilities`, `valence` (-1..1, see the README) and how sure the face detector was (`detector_score`)."""

    box: tuple[int, int, int, int]
    label: str
    confidence: float
    probabilities: dict[str, float]
    valence: float
    detector_score: float
    extra: dict[str, Any] = field(default_factory=dict)  # what newer versions add per face

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _face(result) -> Face:
    probs = {k: float(v) for k, v in result.probabilities.items()}
    known = {"box", "probabilities", "label", "confidence", "emoji", "track_id"}
    return Face(
        box=(int(result.box[0]), int(result.box[1]), int(result.box[2]), int(result.box[3])),
        label=result.label,
        confidence=float(result.confidence),
        probabilities=probs,
        valence=round(float(_valence(face_probs(result))), 4),
        detector_score=round(float(result.detector_score), 4),
        extra={k: v for k, v in result.to_json().items() if k not in known},
    )


class Analyzer:
    """The models loaded once, for many images or videos. `settings`: a Settings, a dict of
    setting names (e.g. {"detector": "yunet", "threshold": 0.5}), or None for the user's own."""

    def __init__(self, settings: Settings | dict | None = None) -> None:
        if isinstance(settings, dict):
            s, problems = Settings.repair({**Settings.load().__dict__, **settings})
            if problems:
                raise UserError(problems[0], "Fix the setting and try again.")
            settings = s
        self.settings = settings or Settings.load()
        self._pipeline = None

    @property
    def pipeline(self):
        if self._pipeline is None:
            from fer_desktop.core.pipeline.pipeline import build_pipeline

            self._pipeline = build_pipeline(self.settings)
        return self._pipeline

    def image(self, image: str | Path | np.ndarray) -> list[Face]:
        """The faces of a photo (a path, or a BGR uint8 array as OpenCV gives)."""
        from fer_desktop.core.photos.io import load_image

        img = image if isinstance(image, np.ndarray) else load_image(image)
        return [_face(f) for f in self.pipeline.process(img, track=False).faces]

    def video(
        self, video: str | Path, out: str | Path | None = None, *, every: int = 1,
        save_video: bool = False,
    ) -> Path:  # fmt: skip
        """Analyse a video file into a session folder (`out`, which must not hold a session yet;
        default: a new folder in the app's sessions folder) and return the folder."""
        from fer_desktop.core.sessions.analyze import analyze_video as run

        result = run(video, self.pipeline, out_dir=out, every=every, save_video=save_video,
                     settings=asdict(self.settings))  # fmt: skip
        return result.folder


_DEFAULT: Analyzer | None = None


def _default(settings) -> Analyzer:
    global _DEFAULT
    if settings is not None:
        return Analyzer(settings)
    if _DEFAULT is None:
        _DEFAULT = Analyzer()
    return _DEFAULT


def analyze_image(image: str | Path | np.ndarray, settings=None) -> list[Face]:
    """The faces of one photo: see `Analyzer.image`."""
    return _default(settings).image(image)


def analyze_video(video: str | Path, out: str | Path | None = None, *, every: int = 1,
                  save_video: bool = False, settings=None) -> Path:  # fmt: skip
    """A video file into a session folder: see `Analyzer.video`."""
    return _default(settings).video(video, out, every=every, save_video=save_video)


def _pandas():
    try:
        import pandas
    except ImportError as exc:
        raise UserError(
            "The tables need pandas, which is not installed.",
            'Install it with `pip install "fer-desktop[api]"` (or `pip install pandas`).',
        ) from exc
    return pandas


def read_faces(session: str | Path) -> pd.DataFrame:
    """A session folder's faces.csv as a DataFrame: one row per face and processed frame, the
    columns of faces.csv (README, Sessions and timelines), numbers as numbers, and the session's
    `participant_id` and `condition`."""
    from fer_desktop.core.sessions.layout import CSV_NAME
    from fer_desktop.core.sessions.reader import load_session

    data = load_session(session)  # the same checks as the app: a folder that is no session says so
    pd = _pandas()
    frame = pd.read_csv(Path(session) / CSV_NAME, keep_default_na=False, na_values=[""])
    frame["participant_id"] = data.study.participant  # who and what (Record, analyze, job lists)
    frame["condition"] = data.study.condition
    return frame


def read_segments(session: str | Path, window_s: float | None = None) -> pd.DataFrame:
    """Per segment (marker to marker, or `window_s` windows) and participant: frames, mean
    probabilities, dominant class, share of time per label, mean valence: segments.csv's rows
    (the app's own figures, core/sessions/figures.py)."""
    from fer_desktop.core.sessions.reader import load_session
    from fer_desktop.core.sessions.segments import SEGMENT_COLUMNS, segment_rows

    rows = segment_rows(load_session(session), window_s)
    pd = _pandas()
    frame = pd.DataFrame(rows, columns=list(SEGMENT_COLUMNS))
    numeric = [c for c in SEGMENT_COLUMNS if c not in ("segment", "participant", "dominant")]
    frame[numeric] = frame[numeric].apply(pd.to_numeric)
    return frame
