"""Keep one id per face across frames and smooth each face's emotion probabilities. No Qt here.

Boxes are matched to tracks greedily by IoU (highest first, each box and track used at most
once), so a track's probabilities only ever mix with new probabilities of the same face; a box
that overlaps no track well enough starts a new track with its raw probabilities.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Box = tuple[int, int, int, int]


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two (x1, y1, x2, y2) boxes."""
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = float(iw) * float(ih)
    area_a = float(max(0, a[2] - a[0]) * max(0, a[3] - a[1]))
    area_b = float(max(0, b[2] - b[0]) * max(0, b[3] - b[1]))
    union = area_a + area_b - inter
    return inter / union if union > 0 else 0.0


@dataclass
class _Track:
    track_id: int
    box: Box
    probs: np.ndarray
    missed: int = 0


class FaceTracker:
    """Stable ids and smoothed probabilities for the faces of consecutive frames.

    `smoothing` in [0, 1): weight of the past in the exponential moving average
    (`p = smoothing * p_prev + (1 - smoothing) * p_new`); 0 passes raw probabilities.
    `iou_threshold`: minimum IoU for a box to continue a track. `max_missed`: frames a track
    survives without a matching box (so a face lost for a frame or two keeps its id).
    """

    def __init__(self, smoothing: float = 0.6, iou_threshold: float = 0.3, max_missed: int = 5):
        if not 0.0 <= smoothing < 1.0:
            raise ValueError("smoothing must be in [0, 1)")
        if not 0.0 < iou_threshold <= 1.0:
            raise ValueError("iou_threshold must be in (0, 1]")
        if max_missed < 0:
            raise ValueError("max_missed must be >= 0")
        self.smoothing = float(smoothing)
        self.iou_threshold = float(iou_threshold)
        self.max_missed = int(max_missed)
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

    def update(self, boxes: list[Box], probs: np.ndarray) -> list[tuple[int, Box, np.ndarray]]:
        """Match this frame's boxes to tracks; returns `(track_id, box, smoothed_probs)` per box,
        in the order of `boxes`. `probs` is `(len(boxes), n_classes)`."""
        boxes = [tuple(int(v) for v in b) for b in boxes]
        p = np.asarray(probs, dtype=np.float64)
        if len(boxes) == 0:
            p = p.reshape(0, p.shape[-1] if p.ndim == 2 else 0)
        if p.ndim != 2 or p.shape[0] != len(boxes):
            raise ValueError(
                f"probs must be (len(boxes), n_classes); got {p.shape} for {len(boxes)} boxes"
            )

        # Greedy matching: all (track, box) pairs above the threshold, best IoU first.
        pairs = []
        for ti, track in enumerate(self._tracks):
            for bi, box in enumerate(boxes):
                overlap = iou(track.box, box)
                if overlap >= self.iou_threshold:
                    pairs.append((overlap, -track.missed, ti, bi))
        pairs.sort(key=lambda x: (x[0], x[1]), reverse=True)
        track_for_box: dict[int, int] = {}
        used_tracks: set[int] = set()
        for _, _, ti, bi in pairs:
            if ti in used_tracks or bi in track_for_box:
                continue
            used_tracks.add(ti)
            track_for_box[bi] = ti

        out: list[tuple[int, Box, np.ndarray]] = []
        new_tracks: list[_Track] = []
        for bi, box in enumerate(boxes):
            raw = p[bi].copy()
            ti = track_for_box.get(bi)
            if ti is None:
                track = _Track(self._next_id, box, raw)
                self._next_id += 1
                new_tracks.append(track)
            else:
                track = self._tracks[ti]
                if self.smoothing > 0.0 and track.probs.shape == raw.shape:
                    track.probs = self.smoothing * track.probs + (1.0 - self.smoothing) * raw
                else:
                    track.probs = raw
                track.box = box
                track.missed = 0
            out.append((track.track_id, box, track.probs.copy()))

        kept: list[_Track] = []
        for ti, track in enumerate(self._tracks):
            if ti not in used_tracks:
                track.missed += 1
                if track.missed > self.max_missed:
                    continue
            kept.append(track)
        self._tracks = kept + new_tracks
        return out
