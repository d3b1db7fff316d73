"""Thread counts for torch and OpenMP: chosen once at start-up, kept when libraries change them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import psutil


def configure_threads(threads: int = 0) -> int:
    """Fix the process's OpenMP/torch thread count at start-up, before any model is loaded.

    `threads` 0 keeps OMP_NUM_THREADS if the user set it, else uses the physical cores (torch's
    own default). Setting the variable now also stops ultralytics from lowering it to 1 when a
    loader thread imports it later. torch reads it when it starts its pool, so this never
    imports torch (the window opens without waiting for it).
    """
    if threads <= 0:
        threads = int(os.environ.get("OMP_NUM_THREADS") or 0) or psutil.cpu_count(logical=False)
        threads = threads or os.cpu_count() or 1
    os.environ["OMP_NUM_THREADS"] = str(threads)
    import sys

    if "torch" in sys.modules:  # already started (tests, the training CLI): set it directly
        sys.modules["torch"].set_num_threads(threads)
    return threads


_LIMIT: int | None = None


def limit_threads(threads: int) -> None:
    """At most `threads` threads per operation for OpenMP, OpenCV and ONNX Runtime sessions made
    from now on: a batch worker's share of the cores, or one for a single-video analysis, whose
    decode, find and classify stages are already threads of their own (issue 29)."""
    global _LIMIT
    if _LIMIT == threads:
        return
    _LIMIT = threads
    os.environ["OMP_NUM_THREADS"] = str(threads)
    import cv2

    from fer_desktop.core.classify import onnx_backend

    cv2.setNumThreads(threads)
    onnx_backend.INTRA_OP_THREADS = threads


@contextmanager
def keep_torch_threads() -> Iterator[None]:
    """Undo a library call's change of torch's thread count (ultralytics' select_device sets
    it to cpu_count - 1 on every predict)."""
    import torch

    threads = torch.get_num_threads()
    try:
        yield
    finally:
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
