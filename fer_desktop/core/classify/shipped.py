"""The known-good checksums of the models that ship, kept in the app (issue 28).

A model file states its own figures and a checksum of its weights; that proves it is intact,
not that it is the file that was measured: a file with other weights and copied metadata would
still say "84.6%". A file under `resources/models/` is the shipped model only when its sha256 is
the one listed here: only then are its figures shown, and an accurate-mode member that is
missing or replaced is refused. A model the user trained or chose elsewhere shows the figures
its own training measured (its metadata), as before.

After shipping a new model: `python -m fer_desktop.core.classify.shipped` prints this table
(tests/unit/test_shipped.py fails until it is pasted here).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from fer_desktop.core.classify.onnx_backend import sha256_of
from fer_desktop.core.support.resources import resources_dir

# path under resources/models/ -> sha256 of the file's bytes
SHIPPED_SHA256: dict[str, str] = {
    "facial_actions/face_blendshapes.tflite": "4f36dded049db18d76048567439b2a7f58f1daabc00d78bfe8f3ad396a2d2082",
    "facial_actions/face_landmarks_detector.tflite": "c7d54204ce0448474c7f3fa9af494787c0965cbdd6f20fc72867e43046bd43d5",
    "facial_actions/geometry_pipeline_metadata_landmarks.binarypb": "bdbcda96dfcb7da883da124aaa2c55dee49770d934f0fcc71747f8c21bdc75b4",
    "fer_net.int8.onnx": "b873bd3f62819bd5bfe41d77dc5b6f86a89077be4116d787fe629779197b28c8",
    "fer_net.onnx": "16613d740733ca3afc026aea880a79393d29035583e78a5f300959db089c5e92",
    "fer_net.pt": "8cc69324e36f9abd2f25ae5756e675bb135ac82d6a4cdce17d613aafd2eb87c6",
}


def shipped_name(path: str | Path) -> str | None:
    """`path`'s name under resources/models/ ("fer_net.onnx", "accurate/teacher_a.onnx"), or
    None when it is not in that folder."""
    root = (resources_dir() / "models").resolve()
    try:
        return Path(path).resolve().relative_to(root).as_posix()
    except (ValueError, OSError):
        return None


def is_shipped(path: str | Path, data: bytes | None = None) -> bool | None:
    """True: the shipped file, byte for byte; False: a file in the shipped folder that is not
    (replaced, damaged, or not listed); None: not in the shipped folder at all. `data`: the
    file's bytes when the caller has read them already (not read a second time)."""
    name = shipped_name(path)
    if name is None:
        return None
    expected = SHIPPED_SHA256.get(name)
    try:
        digest = hashlib.sha256(data).hexdigest() if data is not None else sha256_of(Path(path))
    except OSError:
        return False
    return expected is not None and digest == expected


# model files: the emotion models and the facial actions' (LiteRT models, MediaPipe's geometry)
MODEL_SUFFIXES = (".onnx", ".pt", ".tflite", ".binarypb")


def current_table() -> dict[str, str]:
    """The sha256 of every model file in resources/models/ now (MODEL_SUFFIXES)."""
    root = resources_dir() / "models"
    return {
        p.relative_to(root).as_posix(): sha256_of(p)
        for p in sorted(root.rglob("*"))
        if p.suffix in MODEL_SUFFIXES and p.is_file()
    }


if __name__ == "__main__":
    print("SHIPPED_SHA256: dict[str, str] = {")
    for k, v in current_table().items():
        print(f'    "{k}": "{v}",')
    print("}")
