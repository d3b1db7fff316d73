"""Which files a model path stands for: the `.pt` checkpoint, its `.onnx` export (used only while
it was exported from that very checkpoint) and the export's int8 quantization beside it (used
only while it was quantized from that very export)."""

from __future__ import annotations

import logging
from pathlib import Path

from fer_desktop.core.classify.onnx_backend import describe, sha256_of
from fer_desktop.core.support.errors import UserError

log = logging.getLogger(__name__)


def model_files(p: Path) -> tuple[Path | None, Path | None, str]:
    """(checkpoint, up-to-date ONNX export, why the export cannot be used) for the model at `p`
    (a `.pt` or its `.onnx` export)."""
    if p.suffix.lower() == ".onnx":
        if not p.is_file():
            raise UserError(f"Model file not found: {p}", "Choose an existing .onnx or .pt file.")
        pt = p.with_suffix(".pt")
        return (pt if pt.is_file() else None), p, ""
    onnx = p.with_suffix(".onnx")
    if not p.is_file():
        if onnx.is_file():  # only the export ships (default bundle)
            return None, onnx, ""
        raise UserError(
            f"Model file not found: {p}",
            "Choose a .pt file written by fer-train (best.pt or last.pt in a run folder).",
        )
    if not onnx.is_file():
        return p, None, f"there is no {onnx.name} beside it"
    try:
        meta = describe(onnx.read_bytes(), onnx.name)
    except UserError as exc:
        return p, None, f"{onnx.name} beside it is unusable ({exc.message})"
    source = meta.get("source_sha256")
    if source and source != sha256_of(p):
        return p, None, f"{onnx.name} beside it was exported from another version of {p.name}"
    return p, onnx, ""


def int8_or(onnx: Path, precision: str, torch_wanted: bool) -> Path:
    """The int8 quantization beside an export (`fer_net.int8.onnx`, written by
    `python -m fer_training.quantize` from that very export) when the precision is auto or
    int8, else the export. int8 asked for and absent: UserError."""
    if precision not in ("auto", "int8") or torch_wanted or onnx.name.endswith(".int8.onnx"):
        return onnx  # (an int8 file chosen itself is what it is)
    q = onnx.with_name(onnx.stem + ".int8.onnx")
    why = f"there is no {q.name} beside {onnx.name}"
    if q.is_file():
        try:
            meta = describe(q.read_bytes(), q.name)
        except (UserError, OSError) as exc:
            why = f"{q.name} is unusable ({getattr(exc, 'message', exc)})"
        else:
            if meta.get("source_sha256") == sha256_of(onnx):
                return q
            why = f"{q.name} was quantized from another version of {onnx.name}"
    if precision == "int8":
        raise UserError(
            f"No int8 model for {onnx.name}: {why}.",
            f"Make it with: python -m fer_training.quantize {onnx.name} --calibrate DATA",
        )
    if q.is_file():
        log.warning("%s: %s; running %s", onnx.name, why, onnx.name)
    return onnx
