"""Write a model card (Markdown) and a confusion-matrix image for a shipped checkpoint."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from fer_desktop.core.fileio import atomic_write_bytes, atomic_write_text


def confusion_png(cm: list[list[int]], classes: list[str], path: Path, cell: int = 64) -> Path:
    """Row-normalised heatmap with counts, true classes as rows (cv2 only, no plotting library)."""
    m = np.array(cm, dtype=float)
    norm = m / np.maximum(m.sum(1, keepdims=True), 1)
    k = len(classes)
    left, top = 110, 40
    img = np.full((top + k * cell + 70, left + k * cell + 20, 3), 255, np.uint8)
    for i in range(k):
        for j in range(k):
            v = norm[i, j]
            color = tuple(int(255 - v * c) for c in (90, 170, 220))  # white -> blue (BGR)
            x, y = left + j * cell, top + i * cell
            cv2.rectangle(img, (x, y), (x + cell, y + cell), color, -1)
            txt = f"{int(m[i, j])}"
            ink = (255, 255, 255) if v > 0.5 else (30, 30, 30)
            cv2.putText(
                img,
                txt,
                (x + 8, y + cell // 2 + 6),
                cv2.FONT_HERSHEY_SIMPLEX,
                0.5,
                ink,
                1,
                cv2.LINE_AA,
            )
        cv2.putText(
            img,
            classes[i],
            (6, top + i * cell + cell // 2 + 5),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.5,
            (0, 0, 0),
            1,
            cv2.LINE_AA,
        )
        cv2.putText(
            img,
            classes[i][:7],
            (left + i * cell + 4, top + k * cell + 20),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.42,
            (0, 0, 0),
            1,
            cv2.LINE_AA,
        )
    cv2.putText(
        img,
        "true (rows) vs predicted (columns)",
        (left, 25),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.55,
        (0, 0, 0),
        1,
        cv2.LINE_AA,
    )
    cv2.putText(
        img,
        "predicted",
        (left + k * cell // 2 - 40, top + k * cell + 50),
        cv2.FONT_HERSHEY_SIMPLEX,
        0.5,
        (0, 0, 0),
        1,
        cv2.LINE_AA,
    )
    return atomic_write_bytes(path, cv2.imencode(".png", img)[1].tobytes())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m fer_training.model_card", description=__doc__)
    p.add_argument("evaluation", help="JSON from `fer-desktop evaluate ... --json`")
    p.add_argument("out_dir")
    a = p.parse_args(argv)
    r = json.loads(Path(a.evaluation).read_text())
    out = Path(a.out_dir)
    confusion_png(r["confusion_matrix"], r["classes"], out / "confusion_matrix.png")
    rows = "\n".join(f"| {c} | {v:.1%} |" for c, v in r["per_class_recall"].items())
    atomic_write_text(out / "evaluation.json", json.dumps(r, indent=1))
    print(
        f"wrote {out / 'confusion_matrix.png'} and {out / 'evaluation.json'}\n\n| class | recall |\n|---|---|\n{rows}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
