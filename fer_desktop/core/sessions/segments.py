"""Per-segment figures of a session: between consecutive markers (the start and the end of the
session bound the first and the last segment), or in fixed windows; one row per segment and
participant: frames, mean probabilities, dominant emotion, share of time per label, mean valence.
"""

from __future__ import annotations

import math

import numpy as np

from fer_desktop.core.classify.action_names import ACTION_COLUMNS
from fer_desktop.core.emotions import CLASSES
from fer_desktop.core.sessions.figures import LABELS, Totals, label_code
from fer_desktop.core.sessions.reader import SessionData
from fer_desktop.core.support.fileio import atomic_write_csv

SEGMENT_COLUMNS: tuple[str, ...] = (
    "segment", "start_s", "end_s", "participant", "track_id", "frames",
    *(f"mean_{c}" for c in CLASSES), "dominant", *(f"share_{lab}" for lab in LABELS),
    "mean_valence", "participant_id", "condition",
    *(f"mean_{c}" for c in ACTION_COLUMNS),  # facial actions (issue 31): empty when not measured
)  # fmt: skip
SEGMENTS_NAME = "segments.csv"


def bounds(session: SessionData, window_s: float | None = None) -> list[tuple[str, float, float]]:
    """(name, start, end) of each segment: fixed windows when `window_s` is given, else from
    marker to marker (the part before the first marker is "start"), else the whole session."""
    end = max(session.duration_s, 0.0)
    if window_s:
        n = max(1, math.ceil(end / window_s))
        return [(f"{i * window_s:g}-{min((i + 1) * window_s, end):g} s", i * window_s,
                 min((i + 1) * window_s, end)) for i in range(n)]  # fmt: skip
    marks = [m for m in session.markers if 0.0 <= m.time_s <= end]
    if not marks:
        return [("whole session", 0.0, end)]
    out = []
    if marks[0].time_s > 0:
        out.append(("start", 0.0, marks[0].time_s))
    for i, m in enumerate(marks):
        stop = marks[i + 1].time_s if i + 1 < len(marks) else end
        out.append((m.name, m.time_s, stop))
    return out


def segment_rows(session: SessionData, window_s: float | None = None) -> list[dict]:
    """One row per segment and participant. Linear in frames + segments (issue 28: 10k markers
    took 315 s with a mask and a label list per segment): a track's times are sorted, so each
    segment is an index range found by binary search, and label shares are counts of codes."""
    rows = []
    segs = bounds(session, window_s)
    study = session.study  # who and what, given at record time (issue 30)
    tracks = []
    for tid, tr in sorted(session.tracks.items()):
        order = np.argsort(tr.times, kind="stable")  # sorted already; cheap insurance
        codes = np.array([label_code(lab) for lab in tr.labels], np.int64)
        tracks.append((tid, tr, tr.times[order], order, codes[order] if len(codes) else codes,
                       tr.valence[order] if len(order) else np.zeros(0), _action_sums(tr, order)))  # fmt: skip
    for si, (name, t0, t1) in enumerate(segs):
        last = si == len(segs) - 1
        for tid, tr, times, order, codes, val, sums in tracks:
            i0 = int(np.searchsorted(times, t0, side="left"))
            i1 = int(np.searchsorted(times, t1, side="right" if last else "left"))
            if i1 <= i0:
                continue
            totals = Totals(i1 - i0, tr.probs[order[i0:i1]].sum(axis=0),
                            np.bincount(codes[i0:i1], minlength=len(LABELS)),
                            float(val[i0:i1].sum()))  # fmt: skip
            rows.append({
                "segment": name,
                "start_s": f"{t0:.3f}",
                "end_s": f"{t1:.3f}",
                "participant": tr.name or f"Face {tid}",
                "track_id": tid,
                **totals.figures().columns(),  # the one rule (sessions/figures.py)
                "participant_id": study.participant,
                "condition": study.condition,
                **_action_means(sums, i0, i1),
            })  # fmt: skip
    return rows


def _action_sums(tr, order: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Running sums and counts of the measured facial actions (NaN rows left out), so each
    segment's means take two subtractions (linear, as the rest of segments)."""
    if tr.actions is None or not len(order):
        return None
    acts = np.asarray(tr.actions, np.float64)[order]
    valid = ~np.isnan(acts)
    zero = np.zeros((1, acts.shape[1]))
    return (np.vstack([zero, np.cumsum(np.where(valid, acts, 0.0), axis=0)]),
            np.vstack([zero, np.cumsum(valid, axis=0)]))  # fmt: skip


def _action_means(sums, i0: int, i1: int) -> dict[str, str]:
    if sums is None:
        return {}
    total, count = sums[0][i1] - sums[0][i0], sums[1][i1] - sums[1][i0]
    return {f"mean_{c}": f"{t / n:.4f}" for c, t, n in zip(ACTION_COLUMNS, total, count) if n > 0}


def write_segments(session: SessionData, path=None, window_s: float | None = None):
    """segments.csv (in the session folder unless `path`); returns its path."""
    path = path or session.folder / SEGMENTS_NAME
    return atomic_write_csv(path, SEGMENT_COLUMNS, segment_rows(session, window_s))
