"""Frame sources on real files: a short video loops by default in the live view, never in analysis."""

from __future__ import annotations

import subprocess
import sys

import pytest

from fer_desktop.core.live.sources import FrameSource, parse_source
from fer_desktop.core.support.errors import UserError


def _count(src: FrameSource, cap: int) -> int:
    n = 0
    while n < cap and src.read() is not None:
        n += 1
    return n


def test_short_file_loops_by_default_and_not_when_asked(video_path):
    src = FrameSource(parse_source(str(video_path)), loop=None)  # 4.5 s: under 30 s
    try:
        assert 4 < src.duration_s < 5 and src.loop
        assert _count(src, 400) == 400 and src.loops >= 2  # the 135-frame clip went round
    finally:
        src.release()
    once = FrameSource(parse_source(str(video_path)), loop=False)
    try:
        n = _count(once, 400)
        assert 100 < n < 200 and once.loops == 0  # ends: read() gives None after the last frame
    finally:
        once.release()


def test_missing_camera_gives_only_the_clear_message():
    code = (
        "from fer_desktop.core.live.sources import FrameSource, parse_source\n"
        "try:\n    FrameSource(parse_source('99'))\nexcept Exception as e:\n    print('ERR', e)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "ERR Camera 99 could not be opened" in r.stdout
    assert "WARN" not in r.stderr and "VIDEOIO" not in r.stderr, r.stderr  # no OpenCV noise first


def test_missing_file_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="not found"):
        FrameSource(parse_source(str(tmp_path / "nope.mp4")))
