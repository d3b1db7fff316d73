"""Write a model card (Markdown) and a confusion-matrix image for a shipped checkpoint."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2

from fer_desktop.core.render.heatmap import render_confusion
from fer_desktop.core.support.fileio import atomic_write_bytes, atomic_write_text


def confusion_png(cm: list[list[int]], classes: list[str], path: Path, cell: int = 64) -> Path:
    """Row-normalised heatmap with counts, true classes as rows: the Training tab's look, no Qt."""
    img = render_confusion(cm, classes, cell)
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
