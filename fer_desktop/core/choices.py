"""The allowed values of every setting that takes one of a few words: the one list that validation,
argparse's `choices`, fer-train's --help and the combo boxes all read. No cv2, no torch, no Qt."""

from __future__ import annotations

DETECTORS = ("auto", "yunet", "yolo")  # auto: YOLOv8-face if its weights are here, else YuNet
BACKENDS = ("auto", "onnx", "onnxruntime", "opencv", "torch")  # the emotion classifier's runtime
# YuNet's runtime: ONNX Runtime (twice as fast, the same faces) where installed, else OpenCV's DNN
DETECTOR_ENGINES = ("auto", "onnxruntime", "opencv")
TORCH_PRECISIONS = ("auto", "bf16", "fp16", "fp32")  # training and the torch backend
PRECISIONS = (*TORCH_PRECISIONS, "int8")  # int8: the quantized export, on ONNX Runtime (CPU)
DEVICE_KINDS = ("auto", "cpu", "cuda", "mps")  # "cuda:1" etc. are a cuda device with an index
# A video file as the live source: loop it when it is shorter than 30 s, always, or never.
LOOP_MODES = ("auto", "always", "never")
LOOP_ARG: dict[str, bool | None] = {
    "auto": None,
    "always": True,
    "never": False,
}  # FrameSource(loop=)
OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULES = ("cosine", "plateau")
BALANCES = ("none", "weights", "sampler")


def valid_device(name: str) -> bool:
    """auto, cpu, mps, cuda or cuda:N."""
    kind, _, index = name.partition(":")
    return kind in DEVICE_KINDS and (not index or (kind == "cuda" and index.isdigit()))


def one_of(name: str, value: object, allowed: tuple[str, ...]) -> str | None:
    """A one-line problem when `value` is not allowed, else None."""
    return None if value in allowed else f"{name} must be one of {', '.join(allowed)}"
