"""Box geometry shared by tracking, detector evaluation and drawing: one IoU for the program."""

from __future__ import annotations

from collections.abc import Sequence

Box = tuple[int, int, int, int]  # (x1, y1, x2, y2) in pixels


def iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two (x1, y1, x2, y2) boxes (0 when they do not overlap)."""
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = float(iw) * float(ih)
    area_a = float(max(0, a[2] - a[0]) * max(0, a[3] - a[1]))
    area_b = float(max(0, b[2] - b[0]) * max(0, b[3] - b[1]))
    union = area_a + area_b - inter
    return inter / union if union > 0 else 0.0


def int_box(values: Sequence[float]) -> Box:
    """(x1, y1, x2, y2) as ints, truncated (a detector's float box)."""
    x1, y1, x2, y2 = (int(v) for v in values)
    return x1, y1, x2, y2
