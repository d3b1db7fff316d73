"""Group figures across sessions (issue 30): one tidy table, one row per participant x condition x
segment x class, from the same segments the session window shows (segments.segment_rows) and the
same figures (sessions/figures.py), with baseline-corrected means beside the raw ones.

Baseline correction (FaceReader's practice): per session and participant, the mean of each class
probability and of valence over a baseline interval (the first N seconds, or the segment of a
named marker) is subtracted from every segment's mean: `corrected_mean = mean - baseline_mean`.
The raw columns are never replaced.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fer_desktop.core.emotions import CLASSES
from fer_desktop.core.sessions.figures import Figures, of_frames
from fer_desktop.core.sessions.reader import SessionData, TrackTimeline, load_session
from fer_desktop.core.sessions.segments import bounds, segment_rows
from fer_desktop.core.support.errors import UserError

STUDY_COLUMNS: tuple[str, ...] = (
    "participant_id", "condition", "session", "track_id", "segment", "start_s", "end_s", "class",
    "frames", "mean_probability", "share_shown", "mean_valence", "baseline_mean_probability",
    "corrected_mean_probability", "baseline_mean_valence", "corrected_mean_valence",
)  # fmt: skip
CLASS_VALUES = ("mean_probability", "share_shown", "corrected_mean_probability")


@dataclass(frozen=True)
class Baseline:
    """The baseline interval: the first `first_s` seconds, or the segment of marker `marker`."""

    first_s: float | None = None
    marker: str | None = None

    @classmethod
    def parse(cls, text: str | None) -> Baseline | None:
        """`first:10` (the first 10 s) or `marker:NAME`; None for no correction."""
        if not text:
            return None
        kind, _, value = text.partition(":")
        if kind == "first":
            try:
                seconds = float(value)
            except ValueError:
                seconds = -1.0
            if not 0 < seconds < 86400:
                raise UserError(f"--baseline first:{value} is not a number of seconds.",
                                "Use e.g. --baseline first:10.")  # fmt: skip
            return cls(first_s=seconds)
        if kind == "marker" and value.strip():
            return cls(marker=value.strip())
        raise UserError(f"--baseline {text} is not understood.",
                        "Use --baseline first:SECONDS or --baseline marker:NAME.")  # fmt: skip

    def interval(self, session: SessionData) -> tuple[float, float, bool] | None:
        """(start, end, end included): a marker's segment as segments.csv counts it (the
        session's last segment keeps its end frame)."""
        if self.first_s is not None:
            return 0.0, self.first_s, False
        segs = bounds(session)
        for i, (name, t0, t1) in enumerate(segs):
            if name == self.marker:
                return t0, t1, i == len(segs) - 1
        return None

    def figures(self, session: SessionData, track: TrackTimeline) -> Figures | None:
        span = self.interval(session)
        if span is None:
            return None
        t0, t1, last = span
        keep = (track.times >= t0) & ((track.times <= t1) if last else (track.times < t1))
        if not keep.any():
            return None
        return of_frames(track.probs[keep], [lab for lab, k in zip(track.labels, keep) if k])


def _f(v: float | None) -> str:
    return "" if v is None else f"{v:.4f}"


def session_rows(session: SessionData, window_s: float | None = None,
                 baseline: Baseline | None = None) -> list[dict]:  # fmt: skip
    """The tidy rows of one session."""
    study = session.study
    base = {tid: baseline.figures(session, tr) if baseline else None
            for tid, tr in session.tracks.items()}  # fmt: skip
    rows = []
    for seg in segment_rows(session, window_s):
        tid = seg["track_id"]
        b = base.get(tid)
        valence = float(seg["mean_valence"])
        for i, c in enumerate(CLASSES):
            mean = float(seg[f"mean_{c}"])
            b_mean = float(b.mean[i]) if b is not None else None
            rows.append({
                "participant_id": study.participant or seg["participant"],
                "condition": study.condition,
                "session": session.folder.name,
                "track_id": tid,
                "segment": seg["segment"],
                "start_s": seg["start_s"],
                "end_s": seg["end_s"],
                "class": c,
                "frames": seg["frames"],
                "mean_probability": f"{mean:.4f}",
                "share_shown": seg[f"share_{c}"],
                "mean_valence": f"{valence:.4f}",
                "baseline_mean_probability": _f(b_mean),
                "corrected_mean_probability": _f(None if b_mean is None else mean - b_mean),
                "baseline_mean_valence": _f(b.mean_valence if b else None),
                "corrected_mean_valence": _f(valence - b.mean_valence if b else None),
            })  # fmt: skip
    return rows


def study_rows(folders: list[Path], window_s: float | None = None,
               baseline: Baseline | None = None) -> list[dict]:  # fmt: skip
    """The tidy rows of many session folders (a batch job folder counts as its sessions)."""
    rows: list[dict] = []
    for folder in session_folders(folders):
        rows += session_rows(load_session(folder), window_s, baseline)
    return rows


def session_folders(paths: list[Path]) -> list[Path]:
    """Session folders among `paths`: each a session folder, or a folder holding sessions (a
    batch job's `videos/` or the sessions folder), one level down."""
    out: list[Path] = []
    for p in (Path(x).expanduser() for x in paths):
        if (p / "faces.csv").is_file():
            out.append(p)
            continue
        inner = p / "videos" if (p / "videos").is_dir() else p
        found = (
            sorted(d for d in inner.iterdir() if (d / "faces.csv").is_file())
            if inner.is_dir()
            else []
        )
        if not found:
            raise UserError(f"{p} holds no session (no faces.csv in it or one level down).",
                            "Give session folders, a batch job folder or the sessions folder.")  # fmt: skip
        out += found
    return out


def condition_summary(rows: list[dict], value: str = "mean_probability") -> dict:
    """Per condition and class: the mean over participants of each participant's mean (over
    their segments, weighted by frames) of `value`, with a 95% confidence interval (normal
    approximation, n >= 2): {condition: {class: (mean, half_width or None, n)}}."""
    per: dict = defaultdict(lambda: defaultdict(lambda: [0.0, 0]))
    for r in rows:
        if r[value] == "":
            continue
        acc = per[(r["condition"], r["class"])][r["participant_id"]]
        acc[0] += float(r[value]) * int(r["frames"])
        acc[1] += int(r["frames"])
    out: dict = defaultdict(dict)
    for (cond, cls), people in per.items():
        means = np.array([s / n for s, n in people.values() if n])
        half = 1.96 * float(means.std(ddof=1)) / math.sqrt(len(means)) if len(means) >= 2 else None
        out[cond][cls] = (float(means.mean()), half, len(means))
    return dict(out)
