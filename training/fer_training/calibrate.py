"""Calibrate a model and find its rare classes (issue 17, items 4 and 6).

    python -m fer_training.calibrate resources/models/fer_net.pt \
        --data ../shared/datasets/fer2013.zip --data ../shared/datasets/ckplus48.zip \
        --tau 0.5 --out resources/models/fer_net.pt

1. Post-hoc logit adjustment (Menon et al., "Long-tail learning via logit adjustment", 2021):
   the class probabilities are divided by the training class frequencies to the power `tau`.
   Without retraining, the rare classes (disgust: 1.5% of FER2013's training faces) are found.
   `--tau` is chosen on the validation splits (PublicTest, CK+ test); the table this prints is
   the evidence.
2. Temperature scaling (Guo et al. 2017): one temperature, fitted on the first validation split
   by the lowest negative log-likelihood, so that "80%" is right about 80% of the time; the
   expected calibration error (ECE) before and after is printed.

Both are stored in the checkpoint as `calibration` and applied by the app's EmotionClassifier
(`EmotionClassifier.calibrate`); export the checkpoint again afterwards (its .onnx carries it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from fer_desktop.core.classify.torch_backend import load_checkpoint, weights_sha256
from fer_desktop.core.emotions import CLASSES
from fer_desktop.core.evaluation.classifier_eval import (
    expected_calibration_error,
    scores,
    vote_scores,
)
from fer_desktop.core.support.errors import UserError
from fer_desktop.core.support.fileio import atomic_write
from fer_desktop.core.training.datasets import load_dataset, train_val_splits
from fer_training.soft_targets import teacher_logits


def adjusted(logits: np.ndarray, log_prior: np.ndarray, tau: float, temperature: float):
    # The temperature divides the adjusted logits: it changes how sure, never which class.
    z = (logits - tau * log_prior) / temperature
    z = z - z.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


def fit_temperature(logits: np.ndarray, y: np.ndarray, log_prior: np.ndarray, tau: float) -> float:
    grid = np.arange(0.5, 3.001, 0.01)
    nll = [
        -np.log(adjusted(logits, log_prior, tau, t)[np.arange(len(y)), y] + 1e-12).mean()
        for t in grid
    ]
    return float(grid[int(np.argmin(nll))])


def uncertain_threshold(probs: np.ndarray, y: np.ndarray) -> float:
    """The "uncertain" threshold the validation split supports: the largest threshold (in steps
    of 0.05) below which the faces' shown class is right less than half the time, i.e. the
    label would more often mislead than inform. Prints the table it is chosen from."""
    conf, right = probs.max(1), probs.argmax(1) == y
    print("threshold  uncertain  acc(shown)  acc(uncertain)")
    best = 0.0
    for thr in np.arange(0.20, 0.651, 0.05):
        low = conf < thr
        acc_low = float(right[low].mean()) if low.any() else float("nan")
        acc_high = float(right[~low].mean()) if (~low).any() else float("nan")
        print(f"{thr:9.2f}  {low.mean():9.3f}  {acc_high:10.4f}  {acc_low:14.4f}")
        if low.any() and acc_low < 0.5:
            best = round(float(thr), 2)
    print(f"uncertain below {best:.2f}: the faces it hides are right less than half the time")
    return best


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m fer_training.calibrate", description=__doc__)
    p.add_argument("checkpoint")
    p.add_argument("--data", action="append", required=True, help="the first one fits T")
    p.add_argument("--tau", type=float, default=0.5, help="logit adjustment strength (0 = off)")
    p.add_argument(
        "--taus", type=lambda v: [float(x) for x in v.split(",")],
        default=[0.0, 0.25, 0.5, 0.75, 1.0], help="the taus of the table, e.g. 0,0.1,0.2",
    )  # fmt: skip
    p.add_argument("--out", help="write the calibrated checkpoint here (default: only report)")
    a = p.parse_args(argv)
    try:
        ckpt = load_checkpoint(a.checkpoint)
        order = [list(ckpt["classes"]).index(c) for c in CLASSES]
        sets = []
        train_counts = None
        votes = None  # the first FER+ validation split's vote distributions
        for path in a.data:
            ds = load_dataset(path)
            train, val, name = train_val_splits(ds)
            if train_counts is None:
                train_counts = np.bincount(train.labels, minlength=len(CLASSES)).astype(float)
            logits = teacher_logits(ckpt, val.images, flip=False)[:, order]  # as the app runs
            sets.append((Path(path).stem, name, logits, val.labels))
            if len(sets) == 1 and val.votes is not None:  # the split T is fitted on
                votes = val.votes
        assert train_counts is not None  # --data is required: at least one dataset
        log_prior = np.log(train_counts / train_counts.sum())
        print("tau   " + "  ".join(f"{n} acc / mean recall / disgust / fear" for n, *_ in sets))
        for tau in a.taus:
            cells = []
            for _, _, logits, y in sets:
                s = scores(y, adjusted(logits, log_prior, tau, 1.0))
                r = s["per_class_recall"]
                cells.append(
                    f"{s['accuracy']:.4f} / {s['mean_recall']:.4f} / {r['disgust']:.3f} / {r['fear']:.3f}"
                )
            print(f"{tau:<5} " + "   ".join(cells))
        _, _, logits, y = sets[0]
        t = fit_temperature(logits, y, log_prior, a.tau)
        before = expected_calibration_error(adjusted(logits, log_prior, a.tau, 1.0), y)
        after = expected_calibration_error(adjusted(logits, log_prior, a.tau, t), y)
        print(f"tau {a.tau}: temperature {t:.2f}; ECE on {sets[0][0]} {before:.4f} -> {after:.4f}")
        probs = adjusted(logits, log_prior, a.tau, t)
        if votes is not None and len(votes) == len(y):
            v = vote_scores(probs, votes)
            print(f"against the votes: cross-entropy {v['votes_cross_entropy']:.4f}, "
                  f"KL {v['votes_kl']:.4f} nats")  # fmt: skip
        threshold = uncertain_threshold(probs, y)
        if a.out:
            prior = np.exp(log_prior)[np.argsort(order)]  # back into the model's class order
            ckpt = {k: v for k, v in ckpt.items() if k != "verified"}
            ckpt["calibration"] = {
                "temperature": round(t, 3),
                "tau": a.tau,
                "prior": [round(float(v), 6) for v in prior],
                "fitted_on": sets[0][1] + f" of {sets[0][0]}",
                "ece_before": round(before, 4),
                "ece_after": round(after, 4),
                "uncertain_below": threshold,
            }
            ckpt["weights_sha256"] = weights_sha256(ckpt["model"])
            atomic_write(a.out, lambda path: torch.save(ckpt, path))
            print(f"wrote {a.out}; export it again: python -m fer_training.export {a.out}")
    except UserError as exc:
        print(f"error: {exc.message}\n  {exc.hint}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
