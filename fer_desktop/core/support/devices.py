"""Pick the compute device (CUDA, then Apple MPS, then CPU) and the precision that is fast on it."""

from __future__ import annotations

import functools
from pathlib import Path

from fer_desktop.core.choices import TORCH_PRECISIONS
from fer_desktop.core.support.errors import UserError


@functools.cache
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags (Linux /proc/cpuinfo); empty where they cannot be read."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


@functools.cache
def cpu_has_native_bf16() -> bool:
    """True where the CPU computes bf16 in hardware (AVX-512 BF16 or AMX); elsewhere it is emulated
    and about 10x slower than fp32, so `auto` must not pick it."""
    flags = cpu_flags()
    if flags:
        return bool({"avx512_bf16", "amx_bf16"} & flags)
    try:  # no /proc/cpuinfo (macOS, Windows): ask torch
        import torch

        return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    except Exception:  # noqa: BLE001 - unknown CPU: fp32 is the safe choice
        return False


def resolve_precision(device_type: str, precision: str = "auto") -> str:
    """'auto' -> fp16 on CUDA, bf16 on a CPU with native bf16, else fp32; explicit choices stay."""
    precision = (precision or "auto").lower()
    if precision not in TORCH_PRECISIONS:
        raise UserError(
            f"Unknown precision '{precision}' for torch.",
            f"Use one of {', '.join(TORCH_PRECISIONS)}.",
        )
    if precision != "auto":
        return precision
    if device_type == "cuda":
        return "fp16"
    if device_type == "cpu" and cpu_has_native_bf16():
        return "bf16"
    return "fp32"


def pick_device(name: str = "auto"):
    """A torch.device; imports torch (callers on the torch-free path never call this)."""
    import torch

    name = (name or "auto").lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(
            "CUDA was requested but no CUDA GPU is available.", "Use --device auto or cpu."
        )
    if name == "mps" and not (
        getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()
    ):
        raise UserError(
            "Apple MPS was requested but is not available.", "Use --device auto or cpu."
        )
    try:
        return torch.device(name)
    except RuntimeError as exc:
        raise UserError(f"Unknown device '{name}'.", "Use auto, cpu, cuda or mps.") from exc
