"""The emotion classifier: loads a self-describing model and classifies a batch of face crops.

Two backends compute the same thing (raw grey levels -> probabilities):
- ONNX (`onnx_backend.py`, ONNX Runtime or OpenCV's DNN): the default on the CPU. It needs no torch,
  so the everyday app starts fast and the default bundle is small. Used when the model is a
  `.onnx` file, or a `.pt` with its export beside it (`fer_net.pt` -> `fer_net.onnx`).
- torch (`torch_backend.py`): for a GPU (CUDA, MPS), bf16/fp16 precision, and a `.pt` that has not
  been exported yet. torch is imported only then.
"""

from __future__ import annotations

import logging
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fer_desktop.core.choices import BACKENDS
from fer_desktop.core.classify import accuracy_names
from fer_desktop.core.classify.crops import CropSpec, face_crops
from fer_desktop.core.classify.model_files import int8_or, model_files
from fer_desktop.core.classify.onnx_backend import OnnxNet, describe, engine_available
from fer_desktop.core.support.errors import UserError
from fer_desktop.core.support.resources import FULL_BUILD_HINT, resource_path, torch_available

log = logging.getLogger(__name__)

DEFAULT_MODEL = "fer_net.pt"

EXPORT_HINT = "Export it once with: python -m fer_training.export {pt}"


def default_model_path() -> Path:
    """The shipped model: `fer_net.pt`, or `fer_net.onnx` where only the export ships (default bundle)."""
    pt = resource_path("models", DEFAULT_MODEL)
    onnx = pt.with_suffix(".onnx")
    return onnx if onnx.is_file() and not pt.is_file() else pt


def load_checkpoint(path: str | Path) -> dict:
    """A fer-train checkpoint, read safely (`weights_only=True`); imports torch."""
    _require_torch(Path(path).name)
    from fer_desktop.core.classify.torch_backend import load_checkpoint as load

    return load(path)


def _export_hint(pt: Path) -> str:
    """How to make a .pt usable here: export it where PyTorch is (never here if it is not)."""
    if torch_available():
        return EXPORT_HINT.format(pt=pt) + "."
    return (
        "Choose its .onnx export instead (fer-train writes one beside best.pt), or export it on a "
        "machine with PyTorch: python -m fer_training.export " + pt.name + ". " + FULL_BUILD_HINT
    )


def _require_torch(name: str) -> None:
    if not torch_available():
        raise UserError(
            f"{name} is a PyTorch checkpoint, which this build of fer-desktop cannot run.",
            "Choose its .onnx export (fer-train writes one beside best.pt). " + FULL_BUILD_HINT,
        )


def _gpu_may_be_present() -> bool:
    """A cheap look for a CUDA driver or Apple silicon, so that `auto` imports torch only where a
    GPU could be used (torch itself would take seconds to import just to say 'no')."""
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1"):
        cuda = False
    elif sys.platform.startswith("linux"):
        cuda = Path("/proc/driver/nvidia/version").exists() or Path("/dev/nvidiactl").exists()
    elif sys.platform == "win32":
        import ctypes.util

        cuda = ctypes.util.find_library("nvcuda") is not None
    else:
        cuda = False
    mps = sys.platform == "darwin" and platform.machine() == "arm64"
    return cuda or mps


def _wants_torch(device: str, precision: str) -> bool:
    """True when the settings ask for what only torch does: a GPU, bf16 or fp16."""
    device, precision = (device or "auto").lower(), (precision or "auto").lower()
    if device.startswith(("cuda", "mps")) or precision in ("bf16", "fp16"):
        if not torch_available():
            raise UserError(
                f"Device {device} with precision {precision} needs PyTorch.",
                "Use --device cpu --precision fp32 (or auto). " + FULL_BUILD_HINT,
            )
        return True
    if device == "auto" and torch_available() and _gpu_may_be_present():
        from fer_desktop.core.support.devices import pick_device

        return pick_device("auto").type != "cpu"
    return False


@dataclass(frozen=True)
class Device:
    """Where the classifier runs; `type` is "cpu", "cuda" or "mps" (as torch.device.type)."""

    type: str
    index: int | None = None

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"


class EmotionClassifier:
    """Batch classifier of face crops.

    `path`: a `.pt` checkpoint or its `.onnx` export (default: the shipped model). `backend`
    "auto" runs the ONNX export on the CPU and torch on a GPU or for a `.pt` without export;
    "onnx" (ONNX Runtime, else OpenCV), "onnxruntime", "opencv" and "torch" force one.
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        device: str = "auto",
        precision: str = "auto",
        tta: bool = False,
        margin: float = 0.05,
        crop: CropSpec | None = None,
        backend: str = "auto",
    ) -> None:
        self.path = Path(path) if path else default_model_path()
        self.crop = crop if crop is not None else CropSpec(margin=margin)
        self.tta = tta
        backend = (backend or "auto").lower()
        if backend not in BACKENDS:
            raise UserError(f"Unknown backend '{backend}'.", f"Use one of {', '.join(BACKENDS)}.")
        pt, onnx, why_not_onnx = model_files(self.path)
        engine = backend
        if backend in ("auto", "onnx"):
            engine = "onnxruntime" if engine_available("onnxruntime") else "opencv"
        precision = (precision or "auto").lower()
        gpu = str(device or "").lower().startswith(("cuda", "mps"))
        if precision == "int8" and (backend == "torch" or engine != "onnxruntime" or gpu):
            raise UserError(
                "int8 precision runs on the CPU, on ONNX Runtime only.",
                "Use --device cpu (or auto) and --backend auto, or another precision.",
            )
        if engine == "onnxruntime" and backend != "torch" and onnx is not None:
            onnx = int8_or(onnx, precision, _wants_torch(device, precision))
        if backend == "torch":
            if pt is None:
                raise UserError(
                    f"{self.path.name} is an ONNX export; the torch backend needs its .pt file.",
                    "Put the .pt checkpoint beside it, or use --backend auto.",
                )
            self._load_torch(pt, device, precision)
        elif backend != "auto" or (onnx is not None and not _wants_torch(device, precision)):
            if onnx is None:
                raise UserError(f"{self.path.name}: {why_not_onnx}.", _export_hint(pt or self.path))
            self._load_onnx(onnx, engine)
        elif pt is None:  # an export alone, with settings that would prefer a GPU: CPU it is
            assert onnx is not None  # found() gives a .pt, an .onnx or both
            self._load_onnx(onnx, engine)
        else:  # a GPU or bf16/fp16 was asked for, or the .pt has no usable export
            if not torch_available():
                raise UserError(
                    f"{pt.name} cannot run in this build: {why_not_onnx}.", _export_hint(pt)
                )
            if why_not_onnx:
                log.info("%s runs on torch: %s", pt.name, why_not_onnx)
            self._load_torch(pt, device, precision)
        self._check_runs()

    def _check_runs(self) -> None:
        """Run the model once on a plain grey face before trusting it: the input it takes, the
        output it gives and its size against its classes (a model built for other inputs or with
        another number of classes is refused here, not on the first real face)."""
        name = self.model_file.name
        hint = "Choose a model written by fer-train or `python -m fer_training.export`."
        if not self.classes or len(set(self.classes)) != len(self.classes):
            raise UserError(f"{name} names no classes, or a class twice.", hint)
        x = np.full((2, 1, self.data_size, self.data_size), 128.0, np.float32)
        try:
            out = np.asarray(self._net(x), np.float64)
        except Exception as exc:  # the runtime's own shape/type errors
            raise UserError(
                f"{name} cannot take a {self.data_size}x{self.data_size} grey face "
                f"({type(exc).__name__}: {str(exc).splitlines()[0][:160]}).",
                hint,
            ) from exc
        if out.shape != (2, len(self.classes)):
            raise UserError(
                f"{name} gives {out.shape[-1] if out.ndim else 0} outputs per face for its "
                f"{len(self.classes)} classes.",
                hint,
            )
        if not np.all(np.isfinite(out)) or np.abs(out.sum(1) - 1).max() > 1e-3:
            raise UserError(f"{name} does not give probabilities (they do not sum to 1).", hint)

    # ------------------------------------------------------------------------------- loading
    def _describe_self(self, meta: dict) -> None:
        self.arch: str = meta["arch"]
        self.classes: tuple[str, ...] = tuple(meta["classes"])
        self.input_size = int(meta["input_size"])
        self.in_channels = int(meta.get("in_channels", 1))
        self.mean, self.std = float(meta["mean"]), float(meta["std"])
        # Faces are cropped at the dataset's size (48 px), then resized to the network's input
        # (inside the model), exactly as in training. Old checkpoints may still carry
        # `target_sharpness` from the retired sharpness matching: it is ignored.
        self.data_size = int(meta.get("data_size", self.input_size))
        # The accuracy is shown only for a file whose checksum proves it is the one measured.
        self.verified = bool(meta.get("verified", False))
        self.val_acc = meta.get("val_acc") if self.verified else None
        self.val_split = meta.get("val_split")
        self.val_count = meta.get("val_count")
        self.val_sets = (meta.get("val_sets") or {}) if self.verified else {}
        cal = meta.get("calibration") or None
        self._calibration: tuple[float, np.ndarray] | None = None
        if cal:
            prior = np.asarray(cal.get("prior") or [1.0] * len(self.classes), np.float64)
            tau = float(cal.get("tau", 0.0))
            self._calibration = (float(cal.get("temperature", 1.0)), tau * np.log(prior))
        self.calibration = cal
        self.trained_on = str((meta.get("config") or {}).get("data", ""))
        self.sliced = bool((meta.get("config") or {}).get("limit"))  # scored on a slice only

    def _load_torch(self, pt: Path, device: str, precision: str) -> None:
        ckpt = load_checkpoint(pt)
        from fer_desktop.core.classify.torch_backend import TorchNet

        net = TorchNet(ckpt, pt.name, device=device, precision=precision)
        self._describe_self(ckpt)
        self._net: TorchNet | OnnxNet = net
        self.model_file = pt
        self._check_shipped()
        self.backend = "torch"
        self.device = Device(net.device.type, net.device.index)
        self.precision = net.precision

    def _check_shipped(self, data: bytes | None = None) -> None:
        """A file in the shipped models' folder shows its figures only when it is the shipped
        file byte for byte (the app's list, `shipped.py`), whatever its metadata says. `data`:
        its bytes, already read by the loader."""
        from fer_desktop.core.classify.shipped import is_shipped

        if is_shipped(self.model_file, data) is False:
            log.warning("%s is not the shipped file: its figures are not shown", self.model_file)
            self.verified, self.val_acc, self.val_sets = False, None, {}

    def _load_onnx(self, onnx: Path, engine: str) -> None:
        data = onnx.read_bytes()
        meta = describe(data, onnx.name)
        self._net = OnnxNet(data, onnx.name, engine)
        self._describe_self(meta)
        self.model_file = onnx
        self._check_shipped(data)
        self.backend = engine
        self.device = Device("cpu")
        self.precision = "int8" if meta.get("quantized") == "int8" else "fp32"

    # ------------------------------------------------------------------------------ describing
    @property
    def name(self) -> str:
        """E.g. "fer_net (fer_net.pt, 67.4% on FER2013 PublicTest)": the accuracy measured on the
        model's validation split, named in the README's words."""
        return f"{self.arch} ({self.path.name}{self.accuracy_text and ', ' + self.accuracy_text})"

    @property
    def accuracy_text(self) -> str:
        """E.g. "66.6% on FER2013 PublicTest, 96.7% on CK+ test" (classify/accuracy_names.py)."""
        return accuracy_names.accuracy_text(self)

    @property
    def runtime(self) -> str:
        """Where and how it runs, for the UI: e.g. "cpu (fp32, onnxruntime)"."""
        return f"{self.device.type} ({self.precision}, {self.backend})"

    @property
    def margin(self) -> float:
        return self.crop.margin

    # ----------------------------------------------------------------------------- classifying
    def preprocess(self, frame_bgr: np.ndarray, boxes, landmarks=None) -> np.ndarray:
        """uint8 (N, S, S) grey crops at the dataset size, one per box (eyes levelled when
        the crop spec asks for it and the detector gave landmarks)."""
        return face_crops(frame_bgr, boxes, self.data_size, self.crop, landmarks)

    def predict_crops(self, crops: np.ndarray) -> np.ndarray:
        """uint8 (N,S,S) grayscale crops at the dataset size -> (N, classes) probabilities."""
        if len(crops) == 0:
            return np.zeros((0, len(self.classes)), np.float32)
        x = np.asarray(crops, np.float32)[:, None]
        if self.tta:
            x = np.concatenate([x, x[..., ::-1]])
        probs = self._net(x)
        if self.tta:
            n = len(crops)
            probs = (probs[:n] + probs[n:]) / 2
        return self.calibrate(probs) if self._calibration is not None else probs

    def calibrate(self, probs: np.ndarray) -> np.ndarray:
        """The model's calibration, measured on its validation data and stored with it:
        temperature scaling (confidences that mean what they say) and post-hoc logit adjustment
        (Menon et al. 2021: divide by the training class frequencies to the power tau, so the
        rare classes, disgust above all, are found)."""
        assert self._calibration is not None, "the model has no calibration"
        temperature, log_prior = self._calibration
        z = (np.log(np.clip(np.asarray(probs, np.float64), 1e-12, 1.0)) - log_prior) / temperature
        z -= z.max(1, keepdims=True)
        e = np.exp(z)
        return (e / e.sum(1, keepdims=True)).astype(np.float32)

    def classify(
        self, frame_bgr: np.ndarray, boxes, landmarks=None
    ) -> tuple[np.ndarray, dict[str, float]]:
        """Probabilities for every box of one frame, in one batch, with per-stage milliseconds.

        `landmarks`: per box, the detector's 5 landmarks or None (for eye levelling)."""
        t0 = time.perf_counter()
        crops = self.preprocess(frame_bgr, boxes, landmarks)
        t1 = time.perf_counter()
        probs = self.predict_crops(crops)
        t2 = time.perf_counter()
        return probs, {"preprocess": (t1 - t0) * 1000, "classify": (t2 - t1) * 1000}
