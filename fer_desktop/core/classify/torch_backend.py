"""The torch side of the classifier: safe checkpoint loading and the network that both the torch
backend runs and `fer_training.export` writes to ONNX. Imported only when torch is needed."""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from fer_desktop.core.classify.nets import ARCHITECTURES, build_model
from fer_desktop.core.support.devices import pick_device, resolve_precision
from fer_desktop.core.support.errors import UserError

CHECKPOINT_KEYS = ("arch", "classes", "input_size", "mean", "std", "model")
CHECKPOINT_HINT = "Choose a .pt file written by fer-train (best.pt or last.pt in a run folder)."


def load_checkpoint(path: str | Path) -> dict:
    """Read and validate a checkpoint without running any code it may carry.

    `weights_only=True`: the unpickler builds only tensors and plain containers, so a hostile
    file (a pickle whose objects call os.system on load) is refused, never executed."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"Model file not found: {path}", CHECKPOINT_HINT)
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "GLOBAL" not in str(exc):  # torch's word for a class or function the file asks for
            raise UserError(f"{path.name} is not a readable model file.", CHECKPOINT_HINT) from exc
        raise UserError(
            f"{path.name} was refused: it is not a plain fer_desktop checkpoint (it asks to "
            "build objects other than weights, which could run code).",
            "Only open model files you trust. " + CHECKPOINT_HINT,
        ) from exc
    except (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile) as exc:
        raise UserError(
            f"{path.name} is not a readable model file ({type(exc).__name__}).", CHECKPOINT_HINT
        ) from exc
    if not isinstance(ckpt, dict) or any(k not in ckpt for k in CHECKPOINT_KEYS):
        raise UserError(
            f"{path.name} is not a fer_desktop emotion model (missing architecture/classes/weights).",
            CHECKPOINT_HINT,
        )
    if ckpt["arch"] not in ARCHITECTURES:
        raise UserError(
            f"{path.name} uses an unknown architecture '{ckpt['arch']}'.",
            "Update fer_desktop or choose another model.",
        )
    expected = ckpt.get("weights_sha256")
    if expected is not None and expected != weights_sha256(ckpt["model"]):
        raise UserError(
            f"{path.name} is damaged: its weights do not match the checksum written with them.",
            "Train, export or download it again; a damaged model would give wrong labels.",
        )
    ckpt["verified"] = expected is not None
    return ckpt


def weights_sha256(state: dict) -> str:
    """sha256 over a state dict's names and raw tensor bytes (in name order): written with a
    checkpoint, checked at every load."""
    import hashlib

    h = hashlib.sha256()
    for key in sorted(state):
        t = state[key]
        h.update(key.encode())
        if isinstance(t, torch.Tensor):
            flat = t.detach().cpu().contiguous().reshape(-1)
            h.update(str(t.dtype).encode())
            h.update(flat.view(torch.uint8).numpy().tobytes() if flat.numel() else b"")
        else:
            h.update(repr(t).encode())
    return h.hexdigest()


def fuse_conv_bn(model: nn.Module) -> nn.Module:
    """Fold every BatchNorm2d that directly follows a Conv2d in a Sequential into that conv (eval only)."""
    for seq in model.modules():
        if isinstance(seq, nn.Sequential):
            items = list(seq._modules.items())
            for (name_a, a), (name_b, b) in zip(items, items[1:]):
                if isinstance(a, nn.Conv2d) and isinstance(b, nn.BatchNorm2d) and not a.training:
                    seq._modules[name_a] = fuse_conv_bn_eval(a, b)
                    seq._modules[name_b] = nn.Identity()
    return model


class InferenceNet(nn.Module):
    """Raw grey levels (N, 1, data_size, data_size), 0-255 float -> class probabilities.

    Normalisation, the resize to the network's input size (bilinear, as in training), the
    channel count and the softmax live here, so the ONNX export computes exactly what the torch
    backend computes."""

    def __init__(
        self, net: nn.Module, mean: float, std: float, input_size: int, in_channels: int = 1
    ) -> None:
        super().__init__()
        self.net = net
        self.scale, self.shift = 1.0 / (255.0 * std), -mean / std
        self.input_size, self.in_channels = int(input_size), int(in_channels)
        self.dtype = torch.float32  # the network's weights (bf16 on a CPU that has it)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x * self.scale + self.shift
        if x.shape[-1] != self.input_size:
            x = nn.functional.interpolate(
                x, size=(self.input_size, self.input_size), mode="bilinear", align_corners=False
            )
        if self.in_channels != 1:
            x = x.expand(-1, self.in_channels, -1, -1)
        logits = self.net(x if self.dtype == torch.float32 else x.to(self.dtype))
        return torch.softmax(logits.float(), dim=1)


def inference_net(ckpt: dict, name: str) -> InferenceNet:
    """The checkpoint's network in eval mode with batch norms folded, wrapped for inference."""
    model = build_model(
        ckpt["arch"], num_classes=len(ckpt["classes"]), **ckpt.get("arch_kwargs", {})
    )
    try:
        model.load_state_dict({k: v.float() for k, v in ckpt["model"].items()})
    except (RuntimeError, AttributeError) as exc:
        raise UserError(
            f"{name}: weights do not match architecture {ckpt['arch']}.",
            "The file is damaged or from another program.",
        ) from exc
    model = fuse_conv_bn(model.eval())
    return InferenceNet(
        model,
        float(ckpt["mean"]),
        float(ckpt["std"]),
        int(ckpt["input_size"]),
        int(ckpt.get("in_channels", 1)),
    ).eval()


class TorchNet:
    """The torch backend: CUDA > MPS > CPU unless given; bf16 weights on a CPU with native bf16."""

    def __init__(self, ckpt: dict, name: str, device: str = "auto", precision: str = "auto"):
        self.device = pick_device(device)
        self.precision = resolve_precision(self.device.type, precision)
        net = inference_net(ckpt, name)
        # On a CPU with bf16 support keep the weights in bf16 (measured: 1.0 ms vs 1.4 ms per face
        # under autocast, same accuracy); on a GPU use autocast.
        if self.precision == "bf16" and self.device.type == "cpu":
            net.dtype = torch.bfloat16
        net.net.to(net.dtype)
        self.net = net.to(self.device).to(memory_format=torch.channels_last)

    @torch.inference_mode()
    def __call__(self, x: np.ndarray) -> np.ndarray:
        t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).to(self.device)
        t = t.contiguous(memory_format=torch.channels_last)
        kind = self.device.type
        if kind != "cpu" and self.precision in ("bf16", "fp16"):
            dtype = torch.bfloat16 if self.precision == "bf16" else torch.float16
            with torch.autocast(kind, dtype=dtype):
                probs = self.net(t)
        else:
            probs = self.net(t)
        return probs.float().cpu().numpy()
