"""A new user's first start: when Qt cannot open a window, one clear message instead of an abort."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from fer_desktop.display_check import display_problem, missing_libraries

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="xcb is Linux's")


def _env(**extra: str) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")
    }
    return {**env, **extra}


@linux_only
def test_no_display_gives_one_clear_message_and_exit_code_2():
    r = subprocess.run(
        [sys.executable, "-m", "fer_desktop"],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2, r.stderr[-2000:]
    assert (
        "no display" in r.stderr
        and "xvfb-run" in r.stderr
        and "apt-get install -y xvfb" in r.stderr  # the package that brings xvfb-run
        and "QT_QPA_PLATFORM=offscreen" in r.stderr
    )
    assert "Could not load the Qt platform plugin" not in r.stderr


@linux_only
def test_missing_xcb_library_is_named_with_its_package_before_qt_starts():
    """A library the loader cannot open (here one that exists nowhere, standing in for the
    libxcb-icccm4 a fresh Debian lacks) is named with the apt-get line; Qt is never imported."""
    code = (
        "import sys; from fer_desktop import display_check as d; "
        "d.XCB_LIBRARIES['libxcb-notthere.so.9'] = 'libxcb-notthere9'; "
        "from fer_desktop.cli import main; rc = main([]); "
        "assert 'PySide6.QtWidgets' not in sys.modules, 'Qt was started'; sys.exit(rc)"
    )
    r = subprocess.run(
        [sys.executable, "-c", code],
        env=_env(DISPLAY=":0"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2, r.stderr[-2000:]
    assert "libxcb-notthere.so.9" in r.stderr and "apt-get install -y" in r.stderr
    assert "libxcb-notthere9" in r.stderr and "QT_QPA_PLATFORM=offscreen" in r.stderr


@linux_only
def test_libraries_that_exist_are_not_reported(monkeypatch):
    assert missing_libraries(["libc.so.6"]) == []
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    assert display_problem(["libc.so.6"]) is None
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")  # headless use is never blocked
    assert display_problem(["libxcb-notthere.so.9"]) is None
