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

REFERENCE_FPS = 30.0  # `smoothing` is the past's weight per 1/30 s of video time
MIN_STEP_S = 1.0 / 240  # two results closer than this in time still move the average


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


LOST_RADIUS_GROWTH = 1.0  # face sizes per second a track is unseen (beyond 0.1 s)


class FaceTracker:
    """Stable ids and smoothed probabilities for the faces of consecutive frames.

    `smoothing` in [0, 1): weight of the past per 1/30 s in the exponential moving average
    (`p = w * p_prev + (1 - w) * p_new`, `w = smoothing ** (dt * 30)` for `dt` seconds since the
    track's last frame): a time constant, not a frame count; 0 passes raw probabilities.
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
        # A face unseen for a while may be further from where it was expected (it was hidden
        # behind another and its speed was guessed low): the radius grows a face size per second
        # unseen (a crossing: one person was 3 tracks, issue 27; a face seen every frame: as before).
        if cost <= self.max_distance + LOST_RADIUS_GROWTH * max(0.0, t - track.seen_at - 0.1):
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
                    w = self.past_weight(t - track.seen_at)
                    track.probs = w * track.probs + (1.0 - w) * raw
                else:
                    track.probs = raw
                self._update_motion(track, box, t)
            out.append((track.track_id, box, track.probs.copy()))
        return out

    def past_weight(self, dt: float) -> float:
        """Weight of a track's smoothed probabilities after `dt` seconds: `smoothing` per
        1/REFERENCE_FPS s, i.e. a time constant, so a 15 fps camera, a 60 fps video and a slow
        machine all average over the same time (smoothing 0.9: tau = 0.32 s)."""
        return self.smoothing ** (max(dt, MIN_STEP_S) * REFERENCE_FPS)

    def time_constant(self) -> float:
        """Seconds for the past's weight to fall to 1/e (0 when smoothing is off)."""
        if self.smoothing <= 0.0:
            return 0.0
        return -1.0 / (REFERENCE_FPS * math.log(self.smoothing))

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


class TrackConfirmer:
    """One person, one track (issue 27): a tracker track is reported only once confirmed, i.e.
    matched in at least `min_hits` frames and alive for at least `confirm_s` seconds; then it
    gets the next public id (1, 2, ...). A detection that never confirms (a microphone, a face
    in the background for a few frames) leaves no row, chart or participant, and uses no id.

    Defaults: 3 frames over 0.5 s. A real face appears half a second after it enters; a false
    detection must persist longer than that to count.
    """

    def __init__(self, min_hits: int = 3, confirm_s: float = 0.5) -> None:
        if min_hits < 1 or confirm_s < 0:
            raise ValueError("min_hits must be >= 1 and confirm_s >= 0")
        self.min_hits = int(min_hits)
        self.confirm_s = float(confirm_s)
        self._seen: dict[int, list] = {}  # tracker id -> [hits, first time, public id or None]
        self._next_id = 1

    def reset(self) -> None:
        self._seen = {}
        self._next_id = 1

    def forget_except(self, alive: set[int]) -> None:
        for tid in [t for t in self._seen if t not in alive]:
            del self._seen[tid]

    def public_id(self, track_id: int, t: float) -> int | None:
        """Count one frame of tracker track `track_id` at time `t`; its public id once confirmed
        (None before)."""
        entry = self._seen.setdefault(track_id, [0, t, None])
        entry[0] += 1
        if entry[2] is None and entry[0] >= self.min_hits and t - entry[1] >= self.confirm_s:
            entry[2] = self._next_id
            self._next_id += 1
        return entry[2]


class LabelRule:
    """The label each track shows, read off its (time-smoothed) probabilities, so that the
    label, the bars, the timeline and every CSV row agree by construction (issue 27):

    - the label is the leading class, or "uncertain" (None) when the leader is below
      `threshold`: a shown class is never below the threshold;
    - hysteresis only between near-tied classes: the shown class stays while a new leader beats
      it by less than `band` (so two classes within a few points do not flicker);
    - leaving "uncertain" takes a leader of at least `threshold + band` (no flicker around the
      threshold); entering it happens at once.

    Steadiness comes from smoothing the probabilities themselves (FaceTracker, a time constant),
    not from holding a stale label.
    """

    def __init__(self, threshold: float = 0.35, band: float = 0.04) -> None:
        if not 0.0 <= band < 0.5:
            raise ValueError("band must be in [0, 0.5)")
        self.threshold = float(threshold)
        self.band = float(band)
        self._shown: dict[int, int | None] = {}  # track id -> shown class index or None

    def reset(self) -> None:
        self._shown = {}

    def forget_except(self, alive: set[int]) -> None:
        for tid in [t for t in self._shown if t not in alive]:
            del self._shown[tid]

    def proposal(self, probs: np.ndarray, shown: int | None | str = "new") -> int | None:
        """The class to show for `probs` given what is shown now (None: uncertain; "new": a face
        seen for the first time, or a photo)."""
        top = int(np.argmax(probs))
        if probs[top] < self.threshold:
            return None
        if shown == "new":
            return top
        if shown is None:  # leaving "uncertain" takes a clear leader
            return top if probs[top] >= self.threshold + self.band else None
        if (
            top != shown
            and probs[shown] >= self.threshold
            and probs[top] - probs[shown] < self.band
        ):
            return int(shown)  # a near tie: the shown class stays
        return top

    def decide(self, track_id: int, probs: np.ndarray, t: float = 0.0) -> int | None:
        """The class index to show for this track's probabilities now (None: uncertain). `t` is
        accepted for the callers' symmetry; the rule needs no clock."""
        shown = self.proposal(probs, self._shown.get(track_id, "new"))
        self._shown[track_id] = shown
        return shown
