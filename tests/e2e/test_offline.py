"""Offline means offline (issue 19.1): annotate, analyze, evaluate, bench and the GUI start run
with every connection to a non-local address made to fail loudly and logged; the log must stay
empty. The real code paths run (the default detector, the shipped model, the HF cache look-up)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from shared_paths import FACES, FER_ZIP, REPO, VIDEOS

GUARD = REPO / "tests" / "netguard.py"
PHOTO = FACES / "obama.jpg"
VIDEO = VIDEOS / "talking-720p.mp4"


def run_guarded(
    tmp_path: Path, *args: str, timeout: int = 300
) -> tuple[subprocess.CompletedProcess, str]:
    log = tmp_path / "network.log"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", FER_DESKTOP_HOME=str(tmp_path / "home"))
    env.pop("HF_HUB_OFFLINE", None)  # nothing may rely on the offline switch to stay offline
    env["HF_HOME"] = str(tmp_path / "hf")  # an empty hub cache: the look-up must not go online
    proc = subprocess.run(
        [sys.executable, str(GUARD), str(log), "--", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=tmp_path,
    )
    return proc, log.read_text() if log.exists() else ""


@pytest.mark.parametrize(
    "args",
    [
        ("annotate", str(PHOTO), "--no-save"),
        ("analyze", str(VIDEO), "--every", "15", "-o", "OUT"),
        ("bench", str(VIDEO), "--frames", "20", "--unpaced"),
        ("evaluate", str(FER_ZIP), "--limit", "50"),
    ],
    ids=["annotate", "analyze", "bench", "evaluate"],
)
def test_commands_open_no_connection(tmp_path, args):
    needed = [Path(a) for a in args if a.endswith((".jpg", ".mp4", ".zip"))]
    for p in needed:
        if not p.is_file():
            pytest.skip(f"{p} not found (../shared beside the repo)")
    args = tuple(str(tmp_path / "out") if a == "OUT" else a for a in args)
    proc, attempts = run_guarded(tmp_path, *args)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert attempts == "", attempts[:3000]


def test_the_gui_starts_and_loads_its_models_without_a_connection(tmp_path):
    proc, attempts = run_guarded(tmp_path, "gui", timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert attempts == "", attempts[:3000]


def test_the_guard_itself_catches_a_connection(tmp_path):
    """The check can fail: a real look-up of a public name is caught and logged."""
    log = tmp_path / "network.log"
    code = (
        f"import sys; sys.path.insert(0, {str(GUARD.parent)!r}); import netguard; netguard.install({str(log)!r})\n"
        "import socket\n"
        "try:\n    socket.create_connection(('huggingface.co', 443), timeout=1)\n"
        "except OSError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "netguard" in out.stdout and "huggingface.co" in log.read_text()
