"""Keep one id per face across frames and smooth each face's emotion probabilities. No Qt here.

Each track remembers where its face was, when, and how fast its centre moved (constant-velocity
model). A new frame's boxes are matched to where the tracks are predicted to be now, greedily,
closest first (each box and track used at most once), so:

- a face keeps its id through detector misses: a track lives `max_missed_s` seconds unseen
  (time, not frames, so a slow machine that processes fewer frames keeps faces as long);
- two faces that cross keep their own ids as long as their boxes stay apart, because each is
  matched near its own predicted position;
- a track's probabilities only ever mix with new probabilities of the same face; a box far from
  every track starts a new track (ids start at 1) with its raw probabilities.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from fer_desktop.core.geometry import Box, int_box, iou


def _centre_size(box) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = box
    return (x1 + x2) / 2.0, (y1 + y2) / 2.0, float(max(1, x2 - x1)), float(max(1, y2 - y1))


@dataclass
class _Track:
    track_id: int
    box: Box  # where the face was last seen
    probs: np.ndarray
    seen_at: float  # tracker time of the last match
    vx: float = 0.0  # centre velocity, pixels per second
    vy: float = 0.0

    def predicted(self, t: float, horizon: float) -> tuple[float, float, float, float]:
        """Box (float x1, y1, x2, y2) where the face is expected at time `t`."""
        dt = min(max(t - self.seen_at, 0.0), horizon)
        cx, cy, w, h = _centre_size(self.box)
        cx, cy = cx + self.vx * dt, cy + self.vy * dt
        return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2


class FaceTracker:
    """Stable ids and smoothed probabilities for the faces of consecutive frames.

    `smoothing` in [0, 1): weight of the past in the exponential moving average
    (`p = smoothing * p_prev + (1 - smoothing) * p_new`); 0 passes raw probabilities.
    `iou_threshold`: a box overlapping a track's predicted or last box at least this much may
    continue it; `max_distance`: so may a box whose centre lies within this many face sizes of it.
    `max_missed_s`: seconds a track survives without a matching box.
    `clock`: the time source when `update` is given no time (live: wall clock; a video analysed
    faster than real time sets it to the video's own time).
    """

    def __init__(
        self,
        smoothing: float = 0.6,
        iou_threshold: float = 0.3,
        max_missed_s: float = 1.0,
        max_distance: float = 0.6,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0.0 <= smoothing < 1.0:
            raise ValueError("smoothing must be in [0, 1)")
        if not 0.0 < iou_threshold <= 1.0:
            raise ValueError("iou_threshold must be in (0, 1]")
        if max_missed_s < 0:
            raise ValueError("max_missed_s must be >= 0")
        if max_distance < 0:
            raise ValueError("max_distance must be >= 0")
        self.smoothing = float(smoothing)
        self.iou_threshold = float(iou_threshold)
        self.max_missed_s = float(max_missed_s)
        self.max_distance = float(max_distance)
        self.clock = clock
        self.velocity_weight = 0.5  # weight of the newest velocity measurement
        self.max_speed = 10.0  # face sizes per second; faster "motion" is detector jitter
        self._tracks: list[_Track] = []
        self._next_id = 1

    def reset(self) -> None:
        """Forget all tracks (new video, new camera); ids start again at 1."""
        self._tracks = []
        self._next_id = 1

    @property
    def track_ids(self) -> list[int]:
        """Ids of the tracks currently kept (including ones missed in recent frames)."""
        return [t.track_id for t in self._tracks]

    def _match_cost(self, track: _Track, box: Box, t: float) -> float | None:
        """Normalised centre distance of `box` from the track (predicted or last position), or
        None when the box cannot belong to it."""
        bx, by, bw, bh = _centre_size(box)
        tx, ty, tw, th = _centre_size(track.box)
        if not 0.5 <= (bw * bh) / (tw * th) <= 2.0:  # a head does not double in size that fast
            return None
        size = (bw + bh + tw + th) / 4.0
        pred = track.predicted(t, self.max_missed_s)
        px, py = (pred[0] + pred[2]) / 2.0, (pred[1] + pred[3]) / 2.0
        cost = min(math.hypot(bx - px, by - py), math.hypot(bx - tx, by - ty)) / size
        if cost <= self.max_distance:
            return cost
        if max(iou(pred, box), iou(track.box, box)) >= self.iou_threshold:
            return cost
        return None

    def update(
        self, boxes: list[Box], probs: np.ndarray, t: float | None = None
    ) -> list[tuple[int, Box, np.ndarray]]:
        """Match this frame's boxes to tracks; returns `(track_id, box, smoothed_probs)` per box,
        in the order of `boxes`. `probs` is `(len(boxes), n_classes)`; `t` the frame's time in
        seconds (default: `clock()`)."""
        t = self.clock() if t is None else float(t)
        boxes = [int_box(b) for b in boxes]
        p = np.asarray(probs, dtype=np.float64)
        if len(boxes) == 0:
            p = p.reshape(0, p.shape[-1] if p.ndim == 2 else 0)
        if p.ndim != 2 or p.shape[0] != len(boxes):
            raise ValueError(
                f"probs must be (len(boxes), n_classes); got {p.shape} for {len(boxes)} boxes"
            )
        # Tracks unseen for too long are gone before matching, so they cannot take a new face.
        self._tracks = [tr for tr in self._tracks if t - tr.seen_at <= self.max_missed_s]

        # Greedy matching: every allowed (track, box) pair, closest first; ties go to the track
        # seen most recently.
        pairs = []
        for ti, track in enumerate(self._tracks):
            for bi, box in enumerate(boxes):
                cost = self._match_cost(track, box, t)
                if cost is not None:
                    pairs.append((cost, -track.seen_at, ti, bi))
        pairs.sort()
        track_for_box: dict[int, int] = {}
        used_tracks: set[int] = set()
        for _, _, ti, bi in pairs:
            if ti in used_tracks or bi in track_for_box:
                continue
            used_tracks.add(ti)
            track_for_box[bi] = ti

        out: list[tuple[int, Box, np.ndarray]] = []
        for bi, box in enumerate(boxes):
            raw = p[bi].copy()
            matched = track_for_box.get(bi)
            if matched is None:
                track = _Track(self._next_id, box, raw, seen_at=t)
                self._next_id += 1
                self._tracks.append(track)
            else:
                track = self._tracks[matched]
                if self.smoothing > 0.0 and track.probs.shape == raw.shape:
                    track.probs = self.smoothing * track.probs + (1.0 - self.smoothing) * raw
                else:
                    track.probs = raw
                self._update_motion(track, box, t)
            out.append((track.track_id, box, track.probs.copy()))
        return out

    def _update_motion(self, track: _Track, box: Box, t: float) -> None:
        dt = t - track.seen_at
        if dt > 1e-3:
            ox, oy, ow, oh = _centre_size(track.box)
            nx, ny, nw, nh = _centre_size(box)
            limit = self.max_speed * (ow + oh + nw + nh) / 4.0
            a = self.velocity_weight
            vx = a * (nx - ox) / dt + (1 - a) * track.vx
            vy = a * (ny - oy) / dt + (1 - a) * track.vy
            scale = min(1.0, limit / max(math.hypot(vx, vy), 1e-9))
            track.vx, track.vy = vx * scale, vy * scale
        track.box = box
        track.seen_at = t


class LabelHold:
    """The label each track shows, held still: a different label (or "uncertain") replaces the
    shown one only after it has led for `hold_s` seconds, and a shown label stays while its own
    probability is at least `threshold - band` (hysteresis around the "uncertain" threshold).

    A new track shows its first label at once. Times are the tracker's (video time in analyze).
    `decide` returns the index of the class to show, or None for "uncertain".
    """

    def __init__(self, hold_s: float = 0.35, threshold: float = 0.35, band: float = 0.08) -> None:
        if hold_s < 0:
            raise ValueError("hold_s must be >= 0")
        self.hold_s = float(hold_s)
        self.threshold = float(threshold)
        self.band = float(band)
        # track id -> [shown index | None, candidate index | None | "none", candidate since]
        self._state: dict[int, list] = {}

    def reset(self) -> None:
        self._state = {}

    def forget_except(self, alive: set[int]) -> None:
        for tid in [t for t in self._state if t not in alive]:
            del self._state[tid]

    def proposal(self, probs: np.ndarray, shown: int | None) -> int | None:
        top = int(np.argmax(probs))
        if probs[top] >= self.threshold:
            return top
        if shown is not None and probs[shown] >= self.threshold - self.band and shown == top:
            return shown
        return None

    def decide(self, track_id: int, probs: np.ndarray, t: float) -> int | None:
        state = self._state.get(track_id)
        if state is None:
            shown = self.proposal(probs, None)
            self._state[track_id] = [shown, _NO_CANDIDATE, t]
            return shown
        shown, candidate, since = state
        proposal = self.proposal(probs, shown)
        if proposal == shown or self.hold_s == 0:
            state[0], state[1] = proposal, _NO_CANDIDATE
            return proposal
        if candidate is _NO_CANDIDATE or candidate != proposal:
            state[1], state[2] = proposal, t
            return shown
        if t - since >= self.hold_s:
            state[0], state[1] = proposal, _NO_CANDIDATE
            return proposal
        return shown


_NO_CANDIDATE = object()
