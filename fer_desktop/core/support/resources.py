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
    return Path(__file__).resolve().parents[3] / "resources"  # fer_desktop/core/support/


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
    if not path.is_dir():
        try:
            path.mkdir(parents=True, exist_ok=True, mode=0o700)  # settings, sessions, the log
        except OSError:
            pass  # a read-only disk: user_folder_problem() says so, each writer reports its own
    return path


@functools.cache
def user_folder_problem() -> str | None:
    """Why the per-user folder cannot be written (None when it can): the app then runs with
    its defaults and says once that settings, log and recordings are not saved. Checked once
    per process (a probe file is created and removed)."""
    import tempfile

    path = user_data_dir()
    try:
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-check-"):
            pass
    except OSError as exc:
        return f"{path} cannot be written ({exc.strerror or type(exc).__name__})"
    return None


def user_folder_notice() -> str | None:
    """The one line the window and the command line show when the user folder is unusable."""
    problem = user_folder_problem()
    if problem is None:
        return None
    return (
        f"{problem}: settings and the log are not saved this time (set FER_DESKTOP_HOME to a "
        "writable folder to keep them)."
    )


def annotated_dir() -> Path:
    """Where the Photos tab offers to save annotated copies first: a folder of their own, never
    the photos' folder (Pictures/fer-desktop; <FER_DESKTOP_HOME>/annotated when that is set)."""
    override = os.environ.get("FER_DESKTOP_HOME")
    if override:
        return Path(override) / "annotated"
    return Path(platformdirs.user_pictures_dir()) / APP_NAME


@functools.cache
def torch_available() -> bool:
    """True where PyTorch can be imported (a Python install, the full bundle); False in the default
    bundle, which runs the classifier on ONNX and cannot train or run YOLO. Never imports torch.
    FER_DESKTOP_NO_TORCH=1 makes a Python install behave like that bundle (tests, screenshots)."""
    import importlib.util

    if os.environ.get("FER_DESKTOP_NO_TORCH") == "1":
        return False
    return importlib.util.find_spec("torch") is not None


_BUNDLE_HINT = (
    "This is the small build of fer-desktop, without PyTorch. Training and the YOLOv8 face "
    "detector need the full build (built with FER_BUNDLE=full pyinstaller build.spec) or fer-desktop "
    'installed with Python 3.11 from its source folder (pip install -e ".[train]"); the README\'s '
    "stand-alone section explains both."
)
PIP_TRAIN_COMMAND = 'pip install -e ".[train]"'
_PIP_HINT = (
    "This install has no PyTorch (pip install -e . installs the app alone). Training, export and "
    f"the YOLOv8 face detector need it: in the source folder run {PIP_TRAIN_COMMAND} (the "
    "docs/training.md shows how to get the smaller CPU-only PyTorch)."
)
# What to do where PyTorch is missing: the bundle and a pip install need different steps.
FULL_BUILD_HINT = _BUNDLE_HINT if getattr(sys, "frozen", False) else _PIP_HINT
