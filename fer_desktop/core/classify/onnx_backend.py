"""The torch-free classifier backend: an exported ONNX model run by ONNX Runtime or OpenCV's DNN.

The ONNX file is self-describing like a checkpoint: `fer_training.export` writes the checkpoint's
description (arch, classes, input size, normalisation, accuracy, ...) as JSON values in the model's
`metadata_props`. This module reads them with a few lines of protobuf decoding, so neither torch
nor the `onnx` package is needed to run a model. The graph takes raw grey levels (0-255, float32,
N x 1 x data_size x data_size) and returns probabilities: normalisation, the resize to the network's
input size and the softmax are inside it, exactly as the torch backend computes them.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import numpy as np

from fer_desktop.core.support.errors import UserError

log = logging.getLogger(__name__)

ONNX_FORMAT = "fer_desktop.onnx/1"
INPUT_NAME = "faces"
OUTPUT_NAME = "probabilities"
ENGINES = ("onnxruntime", "opencv")
# The checkpoint keys an exported model must describe (as in a fer-train checkpoint).
REQUIRED_KEYS = ("arch", "classes", "input_size", "mean", "std", "data_size")

_GRAPH, _METADATA_PROPS = 7, 14  # onnx.proto ModelProto field numbers


def _varint(buf: memoryview, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if i >= len(buf) or shift > 63:
            raise ValueError("truncated or overlong varint")
        byte = buf[i]
        i += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, i
        shift += 7


def _fields(buf: memoryview):
    """(field number, value) of one protobuf message; length-delimited values as memoryviews."""
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise ValueError("field number 0")
        if wire == 0:
            value: int | memoryview | bytes
            value, i = _varint(buf, i)
        elif wire in (1, 5):
            n = 8 if wire == 1 else 4
            value, i = buf[i : i + n], i + n
        elif wire == 2:
            n, i = _varint(buf, i)
            value, i = buf[i : i + n], i + n
        else:
            raise ValueError(f"unsupported wire type {wire}")
        if i > len(buf):
            raise ValueError("truncated message")
        yield number, value


def graph_sha256(data: bytes) -> str:
    """sha256 of the serialized graph (weights included) inside an ONNX model: what export
    stores in the metadata and loading checks, so that a damaged file is refused."""
    for number, value in _fields(memoryview(data)):
        if number == _GRAPH and isinstance(value, memoryview):
            return hashlib.sha256(value).hexdigest()
    raise ValueError("no graph")


def read_metadata(data: bytes) -> dict[str, str]:
    """The `metadata_props` of a serialized ONNX model; ValueError when it is not an ONNX model."""
    props: dict[str, str] = {}
    has_graph = False
    for number, value in _fields(memoryview(data)):
        if number == _GRAPH and isinstance(value, memoryview):
            has_graph = True
        elif number == _METADATA_PROPS and isinstance(value, memoryview):
            entry = {n: bytes(v).decode("utf-8") for n, v in _fields(value) if n in (1, 2)}
            props[entry.get(1, "")] = entry.get(2, "")
    if not has_graph:
        raise ValueError("no graph")
    return props


def describe(data: bytes, name: str) -> dict:
    """The checkpoint-style description stored in an exported model (JSON values decoded)."""
    hint = "Choose a .onnx file written by fer-train or `python -m fer_training.export`."
    try:
        props = read_metadata(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise UserError(f"{name} is not a readable ONNX model ({exc}).", hint) from exc
    try:
        meta = {k: json.loads(v) for k, v in props.items()}
    except ValueError as exc:
        raise UserError(f"{name} has damaged metadata ({exc}).", hint) from exc
    missing = [k for k in REQUIRED_KEYS if k not in meta]
    if meta.get("format") != ONNX_FORMAT or missing:
        raise UserError(
            f"{name} is an ONNX model but not a fer_desktop emotion model "
            "(its metadata has no classes, input size or normalisation).",
            hint,
        )
    expected = meta.get("graph_sha256")
    if expected is not None and expected != graph_sha256(data):
        raise UserError(
            f"{name} is damaged: its weights do not match the checksum written when it was "
            "exported.",
            "Export or download it again; a damaged model would give wrong labels.",
        )
    meta["verified"] = expected is not None  # exports older than the checksum: not verified
    return meta


# ONNX Runtime's threads per session; None: its default (the physical cores). Batch analysis
# workers and a single-video analysis set it (support/threads.py limit_threads).
INTRA_OP_THREADS: int | None = None


def cpu_session(data: bytes, threads: int | None = None):
    """An ONNX Runtime session on the CPU as the app runs every network: no telemetry (offline
    means offline), no busy-waiting threads (they would take CPU from the other stages and the
    GUI), quiet logs. `threads`: intra-op threads (None: INTRA_OP_THREADS, else the runtime's
    default)."""
    import onnxruntime as ort

    if hasattr(ort, "disable_telemetry_events"):  # a no-op where the build has none
        ort.disable_telemetry_events()
    opts = ort.SessionOptions()
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if threads or INTRA_OP_THREADS:  # a batch worker shares the cores with other workers
        opts.intra_op_num_threads = threads or INTRA_OP_THREADS
    opts.log_severity_level = 3
    return ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"])


def sha256_of(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def engine_available(engine: str) -> bool:
    if engine == "opencv":
        return True
    import importlib.util

    return importlib.util.find_spec("onnxruntime") is not None


class OnnxNet:
    """Runs an exported classifier on the CPU: raw grey levels (N,C,S,S) float32 -> probabilities.

    `engine` "onnxruntime" (measured fastest on a CPU, see README "Speed") or "opencv" (cv2.dnn,
    needs nothing beyond OpenCV)."""

    def __init__(self, data: bytes, name: str, engine: str = "onnxruntime") -> None:
        self.engine = engine
        try:
            if engine == "onnxruntime":
                self._session = cpu_session(data)
                self._input = self._session.get_inputs()[0].name
            elif engine == "opencv":
                import cv2

                self._net = cv2.dnn.readNetFromONNX(np.frombuffer(data, np.uint8))
                if self._net.empty():
                    raise ValueError("OpenCV read no layers")
            else:
                raise UserError(f"Unknown ONNX engine '{engine}'.", f"Use {' or '.join(ENGINES)}.")
        except UserError:
            raise
        except Exception as exc:  # protobuf, unsupported-operator and runtime errors alike
            raise UserError(
                f"{name} cannot be run by {engine} ({type(exc).__name__}: {str(exc)[:200]}).",
                "Re-export it with `python -m fer_training.export CHECKPOINT.pt`.",
            ) from exc

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.float32)
        if self.engine == "onnxruntime":
            return self._session.run(None, {self._input: x})[0]
        self._net.setInput(x)
        return np.array(self._net.forward(), np.float32, copy=True)
