"""A teacher's predictions for every training image, saved small so that a student can be
distilled again without training the teacher again (issue 17).

    python -m fer_training.soft_targets RUN_DIR/best.pt --data fer2013.zip --data ckplus48.zip \
        --out training/soft/teacher_a.npz

The file holds, per training image in the order the loader reads them: the teacher's logits
(float16, the average of the face and its mirror image), the image's dataset-relative name, and
the label. Softening (a temperature) is the student's choice, applied to the logits at
distillation time. Checked against the data when loaded: the names must match.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np
import torch

from fer_desktop.core.classify.torch_backend import load_checkpoint
from fer_desktop.core.support.errors import UserError
from fer_desktop.core.training.config import TrainConfig
from fer_training.multidata import load_training_data


def _net(ckpt: dict) -> torch.nn.Module:
    from fer_desktop.core.classify.nets import build_model

    model = build_model(ckpt["arch"], num_classes=len(ckpt["classes"]), **ckpt["arch_kwargs"])
    model.load_state_dict({k: v.float() for k, v in ckpt["model"].items()})
    return model.eval()


@torch.no_grad()
def teacher_logits(
    ckpt: dict, images: np.ndarray, batch: int = 512, flip: bool = True
) -> np.ndarray:
    """(N, classes) logits of the un-augmented faces (averaged with their mirror images when
    `flip`)."""
    net = _net(ckpt)
    size, mean, std = int(ckpt["input_size"]), float(ckpt["mean"]), float(ckpt["std"])
    out = []
    for i in range(0, len(images), batch):
        x = torch.from_numpy(images[i : i + batch]).float().div_(255.0).unsqueeze(1)
        if x.shape[-1] != size:
            x = torch.nn.functional.interpolate(x, size=(size, size), mode="bilinear")
        x = (x - mean) / std
        z = net(x)
        out.append(((z + net(torch.flip(x, dims=[3]))) / 2 if flip else z).numpy())
    return np.concatenate(out)


def names_digest(names: list[str]) -> str:
    return hashlib.sha256("\n".join(names).encode()).hexdigest()


def save(path: Path, logits: np.ndarray, names: list[str], labels: np.ndarray, meta: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        path,
        logits=logits.astype(np.float16),
        names=np.array(names),
        labels=labels.astype(np.int8),
        names_sha256=np.array(names_digest(names)),
        meta=np.array(repr(meta)),
    )
    return path


def load(path: str | Path, names: list[str]) -> np.ndarray:
    """The saved logits (float32), after checking they were made for exactly these images."""
    with np.load(path, allow_pickle=False) as z:
        if str(z["names_sha256"]) != names_digest(names):
            raise UserError(
                f"{path} was made for other training images than these.",
                "Make the soft targets again with python -m fer_training.soft_targets.",
            )
        return z["logits"].astype(np.float32)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m fer_training.soft_targets", description=__doc__)
    p.add_argument("checkpoint", help="the teacher's best.pt")
    p.add_argument("--data", action="append", required=True, help="as given to fer-train")
    p.add_argument("--out", required=True, help="the .npz to write (commit it)")
    p.add_argument("--limit", type=int, default=0, help="as fer-train --limit (quick tests)")
    a = p.parse_args(argv)
    try:
        ckpt = load_checkpoint(a.checkpoint)
        cfg = TrainConfig(
            data=a.data if len(a.data) > 1 else a.data[0], arch=ckpt["arch"], limit=a.limit
        )
        train, _, _, summary, _ = load_training_data(cfg)
        logits = teacher_logits(ckpt, train.images)
        acc = float((logits.argmax(1) == train.labels).mean())
        meta = {"checkpoint": str(a.checkpoint), "data": a.data, "train_accuracy": round(acc, 4)}
        out = save(Path(a.out), logits, list(train.names or []), train.labels, meta)
    except UserError as exc:
        print(f"error: {exc.message}\n  {exc.hint}", file=sys.stderr)
        return 2
    print(f"wrote {out} ({out.stat().st_size / 1e3:.0f} kB): {len(logits)} images, "
          f"teacher's training accuracy {acc:.4f}; {summary}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
