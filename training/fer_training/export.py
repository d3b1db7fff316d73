"""Strip a training checkpoint to what the app needs (weights in fp16 + metadata) for shipping."""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from fer_desktop.core.fileio import atomic_write

KEEP = (
    "format",
    "arch",
    "arch_kwargs",
    "classes",
    "input_size",
    "in_channels",
    "mean",
    "std",
    "data_size",
    "target_sharpness",
    "config",
    "epoch",
    "val_acc",
    "val_split",
    "confusion_matrix",
    "recall",
    "precision",
)


def export(
    src: str | Path,
    dst: str | Path,
    target_sharpness: float | None = None,
    evaluate_on: str | None = None,
) -> Path:
    ckpt = torch.load(src, map_location="cpu", weights_only=False)
    out = {k: ckpt[k] for k in KEEP if k in ckpt}
    if target_sharpness is not None:  # for checkpoints written before sharpness matching existed
        out["target_sharpness"] = float(target_sharpness)
        out["data_size"] = 48
    out["model"] = {k: (v.half() if v.is_floating_point() else v) for k, v in ckpt["model"].items()}
    path = atomic_write(dst, lambda p: torch.save(out, p))
    if evaluate_on:  # record the accuracy the app itself measures (its crops, its preprocessing)
        from fer_desktop.core.classifier import EmotionClassifier
        from fer_desktop.core.evaluate import evaluate_classifier

        r = evaluate_classifier(EmotionClassifier(path), evaluate_on)
        out.update(
            val_acc=r["accuracy"],
            val_split=r["split"],
            confusion_matrix=r["confusion_matrix"],
            recall=list(r["per_class_recall"].values()),
        )
        path = atomic_write(dst, lambda p: torch.save(out, p))
    return path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m fer_training.export", description=__doc__)
    p.add_argument("checkpoint")
    p.add_argument("output")
    p.add_argument(
        "--target-sharpness", type=float, help="set the sharpness faces are blurred down to"
    )
    p.add_argument(
        "--evaluate", metavar="DATA", help="score the exported model on DATA and store its accuracy"
    )
    a = p.parse_args(argv)
    path = export(a.checkpoint, a.output, a.target_sharpness, a.evaluate)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
