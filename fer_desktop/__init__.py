"""fer_desktop: live facial emotion recognition on the desktop."""

import os as _os

# FFmpeg's own log lines ("moov atom not found") would precede the one clear message the app
# gives about a damaged video; OpenCV reads this once, when its FFmpeg backend starts.
_os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET

__version__ = "0.1.0"
