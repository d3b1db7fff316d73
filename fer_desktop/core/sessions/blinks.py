"""Blinks from a track's blink scores (issue 31): each one with its start and how long it lasted.

The eyes count as closed when the mean of both blink scores (eyeBlinkLeft, eyeBlinkRight)
rises above `close_above`, and as open again when it falls below the lower `open_below`: the gap
between the two keeps a score that wavers around one threshold from counting as many blinks.
Open eyes score about 0.1-0.35 with MediaPipe's blendshape model, closed ones above 0.6.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

CLOSE_ABOVE = 0.5
OPEN_BELOW = 0.35
MAX_GAP_S = 0.5  # rows further apart than this: the face was not seen, a closing is forgotten


@dataclass(frozen=True)
class Blink:
    start_s: float  # the first row with the eyes closed
    end_s: float  # the first row with them open again

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


def blink_events(
    times: Sequence[float] | np.ndarray,
    left: Sequence[float] | np.ndarray,
    right: Sequence[float] | np.ndarray,
    *,
    close_above: float = CLOSE_ABOVE,
    open_below: float = OPEN_BELOW,
    max_gap_s: float = MAX_GAP_S,
) -> list[Blink]:
    """The blinks in one track's rows (times in seconds, ascending). A closing whose end is not
    seen (a row not measured, a gap in the track, the end of the rows) is not a blink: its
    length is unknown."""
    if not open_below <= close_above:
        raise ValueError("open_below must not be above close_above")
    score = (np.asarray(left, np.float64) + np.asarray(right, np.float64)) / 2.0
    events: list[Blink] = []
    start: float | None = None
    previous: float | None = None
    for t, v in zip(np.asarray(times, np.float64), score):
        t = float(t)
        if previous is not None and t - previous > max_gap_s:
            start = None
        previous = t
        if not np.isfinite(v):
            start = None
        elif start is None and v > close_above:
            start = t
        elif start is not None and v < open_below:
            events.append(Blink(start, t))
            start = None
    return events


def blinks_per_minute(events: Sequence[Blink], seen_s: float) -> float | None:
    """Blinks per minute over `seen_s` seconds of a face seen (None for under a second)."""
    return None if seen_s < 1.0 else round(len(events) * 60.0 / seen_s, 1)
