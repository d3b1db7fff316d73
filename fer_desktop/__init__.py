"""fer_desktop: live facial emotion recognition on the desktop."""

import os as _os
import sys as _sys

# FFmpeg's own log lines ("moov atom not found") would precede the one clear message the app
# gives about a damaged video; OpenCV reads this once, when its FFmpeg backend starts.
_os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET
# ONNX Runtime 1.29+ on Linux and macOS uploads usage events with a persistent device id to
# mobile.events.data.microsoft.com (a DNS query per session seen with strace, issue 28);
# `disable_telemetry_events()` comes too late. This variable, read when ONNX Runtime starts, turns
# it off for the process (and the batch workers it spawns): no connection unless the user asks.
_os.environ["ORT_DISABLE_TELEMETRY"] = "1"


def _fewer_malloc_arenas() -> None:
    """glibc gives every thread its own malloc arena; with the capture, inference, encoder and
    GUI threads a long live session's RSS crept up by fragmentation (a 30-minute recording soak:
    +2.6%). Two arenas keep it flat (measured: 240 MB, within +-2 MB over 5 minutes). Set before
    any thread starts; a no-op where the C library has no mallopt (macOS, Windows, musl)."""
    if not _sys.platform.startswith("linux") or "MALLOC_ARENA_MAX" in _os.environ:
        return
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").mallopt(-8, 2)  # M_ARENA_MAX
    except (OSError, AttributeError):
        pass


_fewer_malloc_arenas()

__version__ = "0.1.0"

# The Python API (fer_desktop/api.py), imported on first use so that `import fer_desktop` stays
# light for the command line and the GUI: `from fer_desktop import analyze_image` just works.
_API = ("Analyzer", "Face", "analyze_image", "analyze_video", "read_faces", "read_segments")


def __getattr__(name: str):
    if name in _API:
        from fer_desktop import api

        return getattr(api, name)
    raise AttributeError(f"module 'fer_desktop' has no attribute {name!r}")
