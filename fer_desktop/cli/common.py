"""What the subcommands share: the pipeline flags, the user's settings under them, error output."""

from __future__ import annotations

import argparse
import json
import sys

from fer_desktop.core.choices import BACKENDS as BACKEND_CHOICES
from fer_desktop.core.choices import DETECTOR_ENGINES, PRECISIONS
from fer_desktop.core.choices import DETECTORS as DETECTOR_CHOICES
from fer_desktop.core.support.errors import UserError

__all__ = [
    "BACKEND_CHOICES",
    "BACKEND_HELP",
    "DETECTOR_CHOICES",
    "PRECISIONS",
    "add_accurate_arg",
    "add_facial_actions_arg",
    "facial_actions_note",
    "add_pipeline_args",
    "print_error",
    "settings_from",
]

BACKEND_HELP = (
    "emotion classifier backend: auto (the model's ONNX export on ONNX Runtime when on the CPU; "
    "torch for a GPU, bf16/fp16 or a .pt without export), onnx, onnxruntime, opencv, torch"
)


def add_pipeline_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--detector",
        choices=DETECTOR_CHOICES,
        help="face detector; auto = YOLOv8-face if downloaded, else YuNet (default: settings)",
    )
    p.add_argument(
        "--detector-weights",
        metavar="FILE",
        help="a local detector file instead of the default: YOLOv8 face .pt or YuNet .onnx",
    )
    p.add_argument(
        "--detector-engine",
        choices=DETECTOR_ENGINES,
        help="YuNet's runtime: auto (ONNX Runtime where installed: the same faces as OpenCV's, "
        "in half the time), onnxruntime, opencv (the reference; default: settings)",
    )
    p.add_argument(
        "--model",
        metavar="FILE",
        help="emotion model: a .pt checkpoint or its .onnx export (default: the shipped model)",
    )
    p.add_argument("--device", help="auto (CUDA > MPS > CPU), cpu, cuda, mps")
    p.add_argument("--backend", choices=BACKEND_CHOICES, help=BACKEND_HELP)
    p.add_argument(
        "--precision",
        choices=PRECISIONS,
        help="classifier precision: auto (on the CPU the int8 model where it ships, else fp32), "
        "fp32 (the reference), int8, bf16/fp16 (torch)",
    )
    p.add_argument(
        "--detect-every",
        type=int,
        help="search the whole frame for faces every N frames; in between look for each known "
        "face only near where it was (and the whole frame when one is lost). 1 = every frame, "
        "the reference path (default: settings, 10)",
    )
    p.add_argument(
        "--full-detect",
        dest="detect_every",
        action="store_const",
        const=1,
        help="the same as --detect-every 1: the whole frame on every frame",
    )
    p.add_argument("--yolo-imgsz", type=int, help="YOLO input size (multiple of 32; default 640)")


def add_accurate_arg(p: argparse.ArgumentParser) -> None:
    """Photos and videos only (annotate, analyze): real time does not matter there."""
    p.add_argument(
        "--accurate",
        action=argparse.BooleanOptionalAction,
        help="run the shipped ensemble instead of the live model, where a version ships one "
        "(this one does not: no ensemble beat the live model by one point on FER+ Valid; "
        "default: settings)",
    )


def add_facial_actions_arg(p: argparse.ArgumentParser, default: str = "the settings, off") -> None:
    p.add_argument(
        "--facial-actions",
        action=argparse.BooleanOptionalAction,
        help="also measure what each face does: 52 blendshapes, blink, head pose "
        f"(needs ai-edge-litert; about 15 ms per face; default: {default})",
    )


def facial_actions_note(args, settings) -> str | None:
    """One line when --facial-actions was asked for and cannot run here (else None)."""
    from fer_desktop.core.classify.facial_actions import runtime_problem

    asked = getattr(args, "facial_actions", None) is True
    return runtime_problem() if asked and settings.facial_actions else None


def settings_from(args):
    from fer_desktop.core.settings import Settings

    s = Settings.load()
    for attr in (
        "detector",
        "detector_weights",
        "detector_engine",
        "model",
        "device",
        "precision",
        "backend",
        "detect_every",
        "yolo_imgsz",
        "accurate",
        "facial_actions",
    ):
        v = getattr(args, attr, None)
        if v is not None:
            setattr(s, attr, v)
    return s.validate()


def print_error(exc: UserError, as_json: bool) -> None:
    import logging

    from fer_desktop.core.support.logs import SHOWN

    # Into the log file with its traceback; the user reads the message below, not a log line.
    exc_info = (type(exc), exc, exc.__traceback__) if exc.__traceback__ else None
    logging.getLogger("fer_desktop.cli").error("%s", exc, exc_info=exc_info, extra=SHOWN)
    if as_json:
        print(json.dumps({"error": exc.message, "hint": exc.hint}))
    else:
        print(f"error: {exc.message}\n  {exc.hint}".rstrip(), file=sys.stderr)
