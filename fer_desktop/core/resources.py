"""Find shipped resources (weights, emoji, samples) from a source checkout or a PyInstaller bundle."""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "fer-desktop"


def resources_dir() -> Path:
    """The folder holding the shipped resources: `<bundle>/resources` or `<repo>/resources`."""
    override = os.environ.get("FER_DESKTOP_RESOURCES")
    if override:
        return Path(override)
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def resource_path(*parts: str) -> Path:
    """Path of one shipped resource, e.g. `resource_path("models", "fer_net.pt")`."""
    return resources_dir().joinpath(*parts)


def user_data_dir() -> Path:
    """Per-user folder for settings, logs and training runs (created on demand).

    `FER_DESKTOP_HOME` overrides it (tests, portable use). Otherwise platformdirs' data folder:
    ~/.local/share/fer-desktop ($XDG_DATA_HOME) on Linux, ~/Library/Application Support/fer-desktop
    on macOS, %APPDATA%\\fer-desktop (roaming) on Windows.
    """
    override = os.environ.get("FER_DESKTOP_HOME")
    path = (
        Path(override)
        if override
        else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False, roaming=True))
    )
    path.mkdir(parents=True, exist_ok=True)
    return path


@functools.cache
def torch_available() -> bool:
    """True where PyTorch can be imported (a Python install, the full bundle); False in the default
    bundle, which runs the classifier on ONNX and cannot train or run YOLO. Never imports torch.
    FER_DESKTOP_NO_TORCH=1 makes a Python install behave like that bundle (tests, screenshots)."""
    import importlib.util

    if os.environ.get("FER_DESKTOP_NO_TORCH") == "1":
        return False
    return importlib.util.find_spec("torch") is not None


FULL_BUILD_HINT = (
    "This is the small build of fer-desktop, without PyTorch. Training and the YOLOv8 face "
    "detector need the full build (built with FER_BUNDLE=full pyinstaller build.spec) or fer-desktop "
    "installed with Python 3.11 from its source folder (pip install -e .); the README's "
    "stand-alone section explains both."
)
