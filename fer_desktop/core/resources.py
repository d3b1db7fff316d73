"""Find shipped resources (weights, emoji, samples) from a source checkout or a PyInstaller bundle."""

from __future__ import annotations

import os
import sys
from pathlib import Path


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
    """Per-user folder for settings, logs and training runs (created on demand)."""
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
    path = Path(os.environ.get("FER_DESKTOP_HOME", base / "fer-desktop"))
    path.mkdir(parents=True, exist_ok=True)
    return path
