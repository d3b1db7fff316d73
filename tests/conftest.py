"""Shared pytest fixtures."""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

import pytest

# Before any Qt import: no display needed, and no test touches the real user folder.
os.environ["QT_QPA_PLATFORM"] = "offscreen"
_TEST_HOME = tempfile.mkdtemp(prefix="fer-desktop-home-")
os.environ["FER_DESKTOP_HOME"] = _TEST_HOME
atexit.register(shutil.rmtree, _TEST_HOME, ignore_errors=True)

TESTDATA = Path(__file__).resolve().parents[2] / "shared" / "testdata"
WATCHED_THREADS = ("fer-capture", "fer-inference", "fer-open-source", "fer-photos", "fer-save")


def _no_network(*args, **kwargs):
    raise AssertionError(f"test tried to use the network: {args[:2]}")


@pytest.fixture(scope="session")
def untrained_yolo_pt(tmp_path_factory) -> Path:
    """An untrained YOLOv8n-sized detection network saved by ultralytics as `model.pt`.

    Built from ultralytics' bundled `yolov8n.yaml` (no download; sockets are blocked while it is
    built). Stands in for the YOLOv8 face weights, which tests must not download.
    """
    from fer_desktop.core import detectors  # sets YOLO_OFFLINE before ultralytics is imported

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket, "getaddrinfo", _no_network)
        mp.setattr(socket, "create_connection", _no_network)
        mp.setattr(socket.socket, "connect", _no_network)
        YOLO, _ = detectors._import_ultralytics()
        model = YOLO("yolov8n.yaml", task="detect", verbose=False)
        path = tmp_path_factory.mktemp("yolo") / "model.pt"
        model.save(str(path))
    assert path.is_file() and path.stat().st_size > 1_000_000
    return path


@pytest.fixture(scope="session")
def testdata() -> Path:
    """The shared real test data (faces/*.jpg, videos/talking-720p.mp4)."""
    if not (TESTDATA / "faces").is_dir():
        pytest.skip(
            f"shared test data not found at {TESTDATA} (expected ../shared/testdata beside the repo)"
        )
    return TESTDATA


@pytest.fixture(scope="session")
def video_path(testdata) -> Path:
    """A real 4.5 s 720p video that stands in for a webcam."""
    path = testdata / "videos" / "talking-720p.mp4"
    if not path.is_file():
        pytest.skip(f"test video not found: {path}")
    return path


def _leftover_threads(before: set) -> list[threading.Thread]:
    return [
        t
        for t in threading.enumerate()
        if t not in before and t.is_alive() and (not t.daemon or t.name.startswith(WATCHED_THREADS))
    ]


@pytest.fixture(autouse=True)
def no_leftover_threads():
    """Fail a test that leaves a non-daemon thread, or a capture/inference/photo thread, running."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 3.0  # threads that were told to stop may need a moment
    while (extra := _leftover_threads(before)) and time.monotonic() < deadline:
        time.sleep(0.05)
    if extra:
        pytest.fail(
            "test left threads running: "
            + ", ".join(f"{t.name} (daemon={t.daemon})" for t in extra)
        )
