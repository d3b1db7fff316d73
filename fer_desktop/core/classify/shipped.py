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

from fer_desktop.core.support.resources import resources_dir

# path under resources/models/ -> sha256 of the file's bytes
SHIPPED_SHA256: dict[str, str] = {
    "accurate/fer_net_v2.onnx": "821741bdcb5e59601c2cb9bee74548dc969d4af972b81e0ec399f7ed6767348a",
    "accurate/teacher_a.onnx": "0d1a5503cd68a065ac764db73b062d1d3e06b7c1ad86e48f1f87f41cda3b168e",
    "accurate/teacher_c.onnx": "c30ec948660ed39118323ad450276de8ab62d55be59373af56cc487e1402622c",
    "fer_net.onnx": "2f9f8194963c332f0aaf3f16d87beaa162c0ce816303b266590140c2a723f4a9",
    "fer_net.pt": "0b9d1448cbf71de0c51cf54e70031a008b099dd5a649409567133be6777a6c89",
}


def _digest(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def shipped_name(path: str | Path) -> str | None:
    """`path`'s name under resources/models/ ("fer_net.onnx", "accurate/teacher_a.onnx"), or
    None when it is not in that folder."""
    root = (resources_dir() / "models").resolve()
    try:
        return Path(path).resolve().relative_to(root).as_posix()
    except (ValueError, OSError):
        return None


def is_shipped(path: str | Path) -> bool | None:
    """True: the shipped file, byte for byte; False: a file in the shipped folder that is not
    (replaced, damaged, or not listed); None: not in the shipped folder at all."""
    name = shipped_name(path)
    if name is None:
        return None
    expected = SHIPPED_SHA256.get(name)
    try:
        return expected is not None and _digest(Path(path)) == expected
    except OSError:
        return False


def current_table() -> dict[str, str]:
    """The sha256 of every model file in resources/models/ now (.onnx and .pt)."""
    root = resources_dir() / "models"
    return {
        p.relative_to(root).as_posix(): _digest(p)
        for p in sorted(root.rglob("*"))
        if p.suffix in (".onnx", ".pt") and p.is_file()
    }


if __name__ == "__main__":
    print("SHIPPED_SHA256: dict[str, str] = {")
    for k, v in current_table().items():
        print(f'    "{k}": "{v}",')
    print("}")
