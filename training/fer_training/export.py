"""Export a classifier checkpoint to ONNX, the format the app runs without torch.

    python -m fer_training.export resources/models/fer_net.pt        # -> fer_net.onnx beside it
    python -m fer_training.export runs/x/best.pt out/model.onnx         # -> that file
    python -m fer_training.export runs/x/best.pt resources/models/fer_net.pt --evaluate DATA
        # ship a checkpoint: weights in fp16 + its description (+ the accuracy the app measures
        # on DATA), then its ONNX export beside it

The ONNX graph takes raw grey levels (float32, N x 1 x data_size x data_size, 0-255) and returns
probabilities: batch norms are folded into the convolutions, normalisation, resize and softmax
are inside it. The checkpoint's description (arch, classes, input size, normalisation, accuracy,
config, and the sha256 of the .pt it came from) is stored as JSON values in `metadata_props`.
Every export is checked against torch on the same inputs before it is written.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import torch

from fer_desktop import __version__
from fer_desktop.core.classify.onnx_backend import (
    INPUT_NAME,
    ONNX_FORMAT,
    OUTPUT_NAME,
    OnnxNet,
    engine_available,
    graph_sha256,
    sha256_of,
)
from fer_desktop.core.classify.torch_backend import inference_net, load_checkpoint, weights_sha256
from fer_desktop.core.support.errors import UserError
from fer_desktop.core.support.fileio import atomic_write, atomic_write_bytes

OPSET = 17
TOLERANCE = 1e-3  # max |probability difference| between the export and torch (measured ~1e-6)
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
    "config",
    "epoch",
    "val_acc",
    "val_split",
    "val_count",
    "val_sets",
    "select_score",
    "calibration",
    "confusion_matrix",
    "recall",
    "precision",
)


def _check_inputs(data_size: int, n: int = 16) -> np.ndarray:
    """Face-like test inputs: smooth random grey images over the whole 0-255 range."""
    rng = np.random.default_rng(0)
    small = rng.integers(0, 256, (n, 1, 6, 6)).astype(np.float32)
    x = np.kron(small, np.ones((1, 1, 8, 8), np.float32))[..., :data_size, :data_size]
    x = np.pad(x, ((0, 0), (0, 0), (0, data_size - x.shape[2]), (0, data_size - x.shape[3])))
    return np.clip(x + rng.normal(0, 20, x.shape), 0, 255).astype(np.float32)


def export_onnx(checkpoint: str | Path, output: str | Path | None = None) -> Path:
    """Write `checkpoint`'s ONNX export (default: beside it, `.onnx`) after checking that it
    agrees with torch; UserError when the checkpoint cannot be read or the export disagrees."""
    try:
        import onnx
    except ImportError as exc:
        raise UserError(
            "Exporting to ONNX needs the onnx package.", "pip install onnx (or pip install -e .)"
        ) from exc
    src = Path(checkpoint)
    dst = Path(output) if output else src.with_suffix(".onnx")
    ckpt = load_checkpoint(src)
    net = inference_net(ckpt, src.name)
    size = int(ckpt.get("data_size", ckpt["input_size"]))
    x = _check_inputs(size)
    buf = io.BytesIO()
    with (
        warnings.catch_warnings()
    ):  # the TorchScript exporter is deprecated but needs no onnxscript
        warnings.simplefilter("ignore")
        torch.onnx.export(
            net,
            (torch.from_numpy(x[:2]),),
            buf,  # type: ignore[arg-type]  # torch's stubs say a path; dynamo=False writes file objects too
            dynamo=False,
            opset_version=OPSET,
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: {0: "faces"}, OUTPUT_NAME: {0: "faces"}},
            do_constant_folding=True,
        )
    model = onnx.load_from_string(buf.getvalue())
    meta = {k: ckpt[k] for k in KEEP if k in ckpt and k != "format"}
    meta.update(
        format=ONNX_FORMAT,
        source=src.name,
        source_sha256=sha256_of(src),
        exported_by=f"fer_desktop {__version__}, torch {torch.__version__}, opset {OPSET}",
        input=f"{INPUT_NAME}: float32 (N, 1, {size}, {size}) grey levels 0-255 of the face crop",
        output=f"{OUTPUT_NAME}: float32 (N, {len(ckpt['classes'])}) in the order of 'classes'",
    )
    onnx.helper.set_model_props(model, {k: json.dumps(v, default=str) for k, v in meta.items()})
    model.doc_string = f"fer_desktop emotion classifier {ckpt['arch']}, exported from {src.name}"
    onnx.checker.check_model(model)
    data = model.SerializeToString()
    # The checksum of the graph (weights included), checked by the app at every load.
    digest = graph_sha256(data)
    onnx.helper.set_model_props(
        model,
        {
            **{k: json.dumps(v, default=str) for k, v in meta.items()},
            "graph_sha256": json.dumps(digest),
        },
    )
    data = model.SerializeToString()
    if graph_sha256(data) != digest:  # the metadata must not move the graph's bytes
        raise UserError(
            "The ONNX export's checksum changed when its metadata was written.",
            "Report this with the checkpoint; the app keeps using the .pt on torch.",
        )
    with torch.inference_mode():
        expected = net(torch.from_numpy(x)).numpy()
    engines = [e for e in ("onnxruntime", "opencv") if engine_available(e)]
    for engine in engines:
        got = OnnxNet(data, dst.name, engine)(x)
        diff = float(np.abs(got - expected).max())
        if diff > TOLERANCE and engine == engines[0]:
            raise UserError(
                f"The ONNX export of {src.name} disagrees with torch ({engine}: max |dp| {diff:.2g}).",
                "Report this with the checkpoint; the app keeps using the .pt on torch.",
            )
    return atomic_write_bytes(dst, data)


def export_after_run(best: Path, emit) -> None:
    """`fer-train`'s last step: best.pt -> best.onnx, so "Use this model" runs without torch.
    A failure is reported as a warning; the run itself has succeeded."""
    try:
        path = export_onnx(best)
        emit({"event": "log", "level": "info", "message": f"exported {path.name} for the app"})
    except Exception as exc:  # noqa: BLE001 - never fail a finished run
        emit(
            {
                "event": "log",
                "level": "warning",
                "message": f"no ONNX export of {best.name} ({exc}); the app runs it on torch",
            }
        )


def ship_checkpoint(src: str | Path, dst: str | Path, evaluate_on: list[str] | None = None) -> Path:
    """Strip a training checkpoint to what the app needs (weights in fp16 + its description).
    `evaluate_on`: datasets scored as the app scores them; the first gives `val_acc`, each one
    its entry in `val_sets` (the label names them all)."""
    ckpt = load_checkpoint(src)
    out = {k: ckpt[k] for k in KEEP if k in ckpt}
    out["model"] = {k: (v.half() if v.is_floating_point() else v) for k, v in ckpt["model"].items()}
    out["weights_sha256"] = weights_sha256(out["model"])
    path = atomic_write(dst, lambda p: torch.save(out, p))
    if evaluate_on:  # record the accuracy the app itself measures (its crops, its preprocessing)
        from fer_desktop.core.classify.classifier import EmotionClassifier
        from fer_desktop.core.evaluation.classifier_eval import evaluate_classifier
        from fer_training.multidata import short_name

        clf = EmotionClassifier(path, backend="torch", precision="fp32")
        sets: dict = {}
        for i, data in enumerate(evaluate_on):
            r = evaluate_classifier(clf, data)
            recall = list(r["per_class_recall"].values())
            if i == 0:
                out.update(val_acc=r["accuracy"], val_split=r["split"], recall=recall,
                           confusion_matrix=r["confusion_matrix"])  # fmt: skip
            sets[short_name(data)] = {"acc": r["accuracy"], "mean_recall": r["mean_recall"],
                                       "recall": recall, "confusion_matrix": r["confusion_matrix"]}  # fmt: skip
        out["val_sets"] = sets
        path = atomic_write(dst, lambda p: torch.save(out, p))
    return path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m fer_training.export",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("checkpoint", help="a .pt written by fer-train")
    p.add_argument(
        "output",
        nargs="?",
        help="X.onnx: the export; X.pt: a stripped copy for shipping, with X.onnx beside it "
        "(default: the checkpoint's .onnx beside it)",
    )
    p.add_argument(
        "--evaluate",
        metavar="DATA",
        action="append",
        help="(with a .pt output) score it on DATA and store the accuracy in it; repeat it for "
        "more datasets (the first is the headline figure)",
    )
    a = p.parse_args(argv)
    try:
        src = Path(a.checkpoint)
        if a.output and Path(a.output).suffix.lower() != ".onnx":
            src = ship_checkpoint(src, a.output, a.evaluate)
            print(f"wrote {src} ({src.stat().st_size / 1e6:.1f} MB)")
        elif a.evaluate:
            p.error("--evaluate needs a .pt output")
        # An .onnx output is the export's path; with a .pt output (in place too) the export goes
        # beside the shipped copy.
        onnx_out = a.output if a.output and Path(a.output).suffix.lower() == ".onnx" else None
        path = export_onnx(src, onnx_out)
    except UserError as exc:
        print(f"error: {exc.message}\n  {exc.hint}", file=sys.stderr, flush=True)
        return 2
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
