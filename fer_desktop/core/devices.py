"""Pick the compute device: CUDA, then Apple MPS, then CPU, unless the user says otherwise."""

from __future__ import annotations

import torch

from .errors import UserError


def pick_device(name: str = "auto") -> torch.device:
    name = (name or "auto").lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise UserError("CUDA was requested but no CUDA GPU is available.", "Use --device auto or cpu.")
    if name == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise UserError("Apple MPS was requested but is not available.", "Use --device auto or cpu.")
    try:
        return torch.device(name)
    except RuntimeError as exc:
        raise UserError(f"Unknown device '{name}'.", "Use auto, cpu, cuda or mps.") from exc
