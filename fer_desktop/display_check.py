"""Before Qt starts a window: check that it can, and say what is missing if it cannot.

Qt aborts the whole process (exit 134) when its platform plugin cannot load, with a message that
names a plugin folder rather than the cause. On Linux the usual cause is a handful of X11/xcb
system libraries missing on a fresh machine; this check finds them first (no Qt import, a few ms)
and returns one clear message: what is missing, the package line, and that the command-line parts
work headless.
"""

from __future__ import annotations

import ctypes
import os
import sys
from pathlib import Path

# soname -> Debian/Ubuntu package, for what Qt 6's xcb platform plugin loads.
XCB_LIBRARIES: dict[str, str] = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libdbus-1.so.3": "libdbus-1-3",
}


# The line the README's Quick start gives (the libraries a bare Debian 12 lacks).
def _sudo() -> str:
    """ "sudo " for a normal user; nothing in a root shell (where sudo is often absent)."""
    geteuid = getattr(os, "geteuid", None)
    return "" if geteuid is not None and geteuid() == 0 else "sudo "


APT_LINE = (
    f"{_sudo()}apt-get install -y libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-xkb1 "
    "libxkbcommon-x11-0 libegl1 libgl1 libfontconfig1 libdbus-1-3 xvfb"
)
HEADLESS = (
    "The command-line parts work without a display: fer-desktop annotate / analyze / evaluate / "
    "bench, with QT_QPA_PLATFORM=offscreen."
)


def missing_libraries(sonames=None) -> list[str]:
    """The sonames from `sonames` (default: XCB_LIBRARIES) that the dynamic loader cannot open."""
    missing = []
    for name in sonames if sonames is not None else XCB_LIBRARIES:
        try:
            ctypes.CDLL(name)
        except OSError:
            missing.append(name)
    return missing


def _platform() -> str:
    """The platform plugin Qt will pick on this machine."""
    explicit = os.environ.get("QT_QPA_PLATFORM", "").split(":")[0].strip().lower()
    if explicit:
        return explicit
    if os.environ.get("WAYLAND_DISPLAY") and not os.environ.get("DISPLAY"):
        return "wayland"
    return "xcb"


def display_problem(sonames=None) -> str | None:
    """None when Qt can start a window here; else the message to print before Qt would abort."""
    if not sys.platform.startswith("linux"):
        return None  # Windows and macOS Qt builds carry what they need
    platform = _platform()
    if platform not in ("xcb", ""):
        return None  # offscreen, wayland, vnc...: Qt reports its own problems clearly enough
    if not os.environ.get("DISPLAY"):
        return (
            "fer-desktop cannot open its window: there is no display (DISPLAY is not set).\n"
            "Start it from a desktop session, or under a virtual screen: xvfb-run fer-desktop\n"
            f"(xvfb-run comes with Debian's xvfb package: {_sudo()}apt-get install -y xvfb).\n"
            + HEADLESS
        )
    missing = missing_libraries(sonames)
    if not missing:
        return None
    packages = " ".join(dict.fromkeys(XCB_LIBRARIES.get(m, m) for m in missing))
    return (
        "fer-desktop cannot open its window: Qt's X11 (xcb) platform needs system libraries "
        f"that are missing: {', '.join(missing)}.\n"
        f"Install them (Debian/Ubuntu): {_sudo()}apt-get install -y {packages}\n"
        f"(all that Qt needs: {APT_LINE})\n" + HEADLESS
    )


def plugin_folder() -> Path | None:
    """PySide6's platform-plugin folder (for messages and tests), without importing Qt."""
    import importlib.util

    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "Qt" / "plugins" / "platforms"
