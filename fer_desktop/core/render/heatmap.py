"""The one look of a confusion matrix: row-normalised cells from white to dark blue, counts inside.

`heat_rgb` gives the cell colours to every renderer (the Training tab's pyqtgraph view and the
model card's PNG); `render_confusion` draws the PNG's image without Qt (cv2), for training tools.
"""

from __future__ import annotations

import cv2
import numpy as np

from fer_desktop.core.training.metrics import row_normalised

LOW_RGB = (247, 251, 255)  # share 0: white
HIGH_RGB = (8, 48, 107)  # share 1: dark blue
LIGHT_INK_FROM = 0.5  # cells darker than this share get white text


def heat_rgb(shares) -> np.ndarray:
    """RGB uint8 colours, shape (rows, cols, 3), for shares in [0, 1]."""
    v = np.clip(np.asarray(shares, dtype=float), 0.0, 1.0)[..., None]
    low, high = np.array(LOW_RGB, float), np.array(HIGH_RGB, float)
    return np.round(low + (high - low) * v).astype(np.uint8)


def ink_rgb(share: float) -> tuple[int, int, int]:
    """The colour of a cell's count: white on dark cells, near-black on light ones."""
    return (255, 255, 255) if share > LIGHT_INK_FROM else (30, 30, 30)


def render_confusion(cm, classes: list[str], cell: int = 64) -> np.ndarray:
    """A BGR image of the matrix with counts, class names, and "true" / "predicted" titles."""
    m = np.asarray(cm, dtype=np.int64)
    k = len(classes)
    norm = np.asarray(row_normalised(m))
    colours = heat_rgb(norm)[..., ::-1]  # RGB -> BGR for cv2
    font = cv2.FONT_HERSHEY_SIMPLEX
    name_w = max(cv2.getTextSize(c, font, 0.5, 1)[0][0] for c in classes) + 12
    left, top = name_w, 40
    img = np.full((top + k * cell + 60, left + k * cell + 20, 3), 255, np.uint8)
    for i in range(k):
        for j in range(k):
            x, y = left + j * cell, top + i * cell
            cv2.rectangle(img, (x, y), (x + cell - 1, y + cell - 1), colours[i, j].tolist(), -1)
            text = str(int(m[i, j]))
            (tw, th), _ = cv2.getTextSize(text, font, 0.5, 1)
            ink = ink_rgb(norm[i, j])[::-1]
            org = (x + (cell - tw) // 2, y + (cell + th) // 2)
            cv2.putText(img, text, org, font, 0.5, ink, 1, cv2.LINE_AA)
        (tw, th), _ = cv2.getTextSize(classes[i], font, 0.5, 1)
        cv2.putText(img, classes[i], (left - tw - 6, top + i * cell + (cell + th) // 2), font, 0.5,
                    (0, 0, 0), 1, cv2.LINE_AA)  # fmt: skip
        short = classes[i][:7]
        (tw, _), _ = cv2.getTextSize(short, font, 0.42, 1)
        cv2.putText(img, short, (left + i * cell + (cell - tw) // 2, top + k * cell + 18), font,
                    0.42, (0, 0, 0), 1, cv2.LINE_AA)  # fmt: skip
    cv2.putText(img, "true (rows) vs predicted (columns)", (left, 25), font, 0.55, (0, 0, 0), 1,
                cv2.LINE_AA)  # fmt: skip
    (tw, _), _ = cv2.getTextSize("predicted", font, 0.5, 1)
    cv2.putText(img, "predicted", (left + (k * cell - tw) // 2, top + k * cell + 46), font, 0.5,
                (0, 0, 0), 1, cv2.LINE_AA)  # fmt: skip
    return img
