"""Shared pytest fixtures."""

from __future__ import annotations

import atexit
import faulthandler
import hashlib
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

import shared_paths as _paths

# Before any Qt import: no display needed, and no test touches the real user folder.
os.environ["QT_QPA_PLATFORM"] = "offscreen"
_TEST_HOME = tempfile.mkdtemp(prefix="fer-desktop-home-")
os.environ["FER_DESKTOP_HOME"] = _TEST_HOME
atexit.register(shutil.rmtree, _TEST_HOME, ignore_errors=True)

TESTDATA = _paths.TESTDATA
SHARED_MODELS = _paths.MODELS
# The threads of our own the code starts by name (superqt pool workers are watched by pytest-qt).
WATCHED_THREADS = (
    "fer-capture",
    "fer-inference",
    "fer-record-video",
    "fer-analyze-read",
    "fer-analyze-find",
)


def _no_network(*args, **kwargs):
    raise AssertionError(f"test tried to use the network: {args[:2]}")


@pytest.fixture
def no_network(monkeypatch):
    """Any socket use fails the test: proves a code path stays offline."""
    monkeypatch.setattr(socket, "getaddrinfo", _no_network)
    monkeypatch.setattr(socket, "create_connection", _no_network)
    monkeypatch.setattr(socket.socket, "connect", _no_network)


@pytest.fixture(scope="session")
def yolo_face_pt() -> Path:
    """Real YOLOv8n face weights (../shared/models/yolov8n-face.pt): for tests only, never shipped."""
    path = SHARED_MODELS / "yolov8n-face.pt"
    if not path.is_file():
        pytest.skip(f"YOLOv8 face weights not found at {path} (the shared models folder)")
    return path


@dataclass
class HubCache:
    """A Hugging Face hub cache folder that tests fill with the layout huggingface_hub writes."""

    path: Path

    def add(self, weights: Path, repo_id: str = "", filename: str = "") -> Path:
        """Put `weights` in as `repo_id`/`filename` (default: the YOLOv8 face repo's model.pt):
        blobs/<sha256>, snapshots/<commit>/<filename> -> blob, refs/main. Returns the snapshot path.
        """
        from fer_desktop.core.detectors import YOLO_FILENAME, YOLO_REPO_ID

        repo = self.path / ("models--" + (repo_id or YOLO_REPO_ID).replace("/", "--"))
        commit = hashlib.sha1(str(weights).encode()).hexdigest()
        blob = repo / "blobs" / hashlib.sha256(weights.read_bytes()).hexdigest()
        snapshot = repo / "snapshots" / commit / (filename or YOLO_FILENAME)
        blob.parent.mkdir(parents=True, exist_ok=True)
        snapshot.parent.mkdir(parents=True, exist_ok=True)
        (repo / "refs").mkdir(exist_ok=True)
        shutil.copyfile(weights, blob)
        try:
            snapshot.symlink_to(os.path.relpath(blob, snapshot.parent))
        except OSError:  # no symlinks (Windows without developer mode): huggingface_hub copies too
            shutil.copyfile(blob, snapshot)
        (repo / "refs" / "main").write_text(commit)
        return snapshot


@pytest.fixture
def offline_hub(monkeypatch, tmp_path) -> HubCache:
    """An empty Hugging Face cache in HF_HUB_CACHE, HF_HUB_OFFLINE=1, and no bundled YOLO weights.

    The detectors read both variables at call time; the real `hf_hub_download` does the lookup.
    """
    from fer_desktop.core.detectors import BUNDLED_YOLO_NAME
    from fer_desktop.core.support.resources import resources_dir

    hub = tmp_path / "hf-hub"
    hub.mkdir()
    monkeypatch.setenv("HF_HUB_CACHE", str(hub))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    real = resources_dir()
    if (real / "detectors" / BUNDLED_YOLO_NAME).exists():  # a developer's bundle-ready tree
        res = tmp_path / "resources"
        res.mkdir()
        for entry in real.iterdir():
            if entry.name != "detectors":
                (res / entry.name).symlink_to(entry)
        shutil.copytree(real / "detectors", res / "detectors")
        (res / "detectors" / BUNDLED_YOLO_NAME).unlink()
        monkeypatch.setenv("FER_DESKTOP_RESOURCES", str(res))
    return HubCache(hub)


@pytest.fixture
def yolo_hub_cache(offline_hub, yolo_face_pt) -> Path:
    """`offline_hub` holding the real YOLOv8n face weights as
    arnabdhar/YOLOv8-Face-Detection/model.pt. Returns the cached file's path."""
    return offline_hub.add(yolo_face_pt)


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


SLOW_TIMEOUT = 1800  # a PyInstaller bundle build takes minutes


def pytest_collection_modifyitems(items) -> None:
    """The slow tests (bundles) get a longer per-test limit than `timeout` in pyproject.toml."""
    for item in items:
        if item.get_closest_marker("slow") and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(SLOW_TIMEOUT))


_REAL_STDERR: list = []  # the terminal's stderr, before pytest captures it (fd dup'd once)


def pytest_configure(config) -> None:
    """Keep a handle on the real stderr: a test's captured stderr would swallow the stacks."""
    if not _REAL_STDERR:
        _REAL_STDERR.append(os.fdopen(os.dup(sys.__stderr__.fileno()), "w"))


def pytest_unconfigure(config) -> None:
    while _REAL_STDERR:
        _REAL_STDERR.pop().close()


def _test_timeout(item) -> float:
    marker = item.get_closest_marker("timeout")
    if marker and marker.args:
        return float(marker.args[0])
    return float(item.config.getini("timeout") or 0)


@pytest.fixture(autouse=True)
def hang_backstop(request):
    """Issue 35: if a test outlives its pytest-timeout limit by a minute (a deadlock that holds
    the GIL, which no Python-level timeout can interrupt), faulthandler prints every thread's
    stack (Python frames; it needs no GIL) and ends the run with exit code 1, so a hang costs
    minutes of CI, never its 90."""
    limit = _test_timeout(request.node)
    if limit > 0:
        faulthandler.dump_traceback_later(limit + 60, exit=True, file=_REAL_STDERR[0])
    yield
    faulthandler.cancel_dump_traceback_later()


def _leftover_threads(before: set) -> list[threading.Thread]:
    return [
        t
        for t in threading.enumerate()
        if t not in before and t.is_alive() and (not t.daemon or t.name.startswith(WATCHED_THREADS))
    ]


def _busy_pool_threads() -> list[str]:
    """Background jobs (superqt workers in Qt's global thread pool) still running."""
    if "PySide6.QtCore" not in sys.modules:
        return []
    from PySide6.QtCore import QThreadPool

    n = QThreadPool.globalInstance().activeThreadCount()
    return [f"{n} background job(s) in Qt's thread pool"] if n else []


@pytest.fixture(autouse=True)
def no_leftover_threads():
    """Fail a test that leaves a non-daemon thread, a capture/inference thread, or a background
    job (workers/tasks.py) running."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 3.0  # threads that were told to stop may need a moment
    while True:
        extra = [f"{t.name} (daemon={t.daemon})" for t in _leftover_threads(before)]
        extra += _busy_pool_threads()
        if not extra or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    if extra:
        pytest.fail("test left threads running: " + ", ".join(extra))


@pytest.fixture(scope="session")
def batch_inputs(tmp_path_factory) -> Path:
    """Four videos: two whole, one truncated (its header announces frames the file lacks), one
    that is not a video at all."""
    import cv2

    talking = _paths.VIDEOS / "talking-720p.mp4"
    if not talking.is_file():
        pytest.skip(f"{talking} not found (../shared beside the repo)")
    root = tmp_path_factory.mktemp("inputs")
    (root / "sub").mkdir()
    src = cv2.VideoCapture(str(talking))
    fps = src.get(cv2.CAP_PROP_FPS)
    for name, start, n in (("a.avi", 0, 60), ("sub/b.avi", 40, 90), ("c.avi", 0, 130)):
        src.set(cv2.CAP_PROP_POS_FRAMES, start)
        w = cv2.VideoWriter(str(root / name), cv2.VideoWriter_fourcc(*"MJPG"), fps, (480, 270))
        for _ in range(n):
            ok, frame = src.read()
            assert ok
            w.write(cv2.resize(frame, (480, 270)))
        w.release()
    src.release()
    data = (root / "c.avi").read_bytes()
    (root / "c.avi").unlink()
    (root / "c_truncated.avi").write_bytes(data[: len(data) // 3])
    (root / "d_broken.mp4").write_text("this is not a video")
    return root


@pytest.fixture
def would_be_accurate(monkeypatch) -> list[Path]:
    """An accurate mode as a version that ships one would have it (this one ships none, issue
    34): the two v4 teachers committed in training/teachers/ as its members."""
    import fer_desktop.ui.main_window  # noqa: F401 - imported before the patch: it binds the name
    from fer_desktop.core.classify import ensemble

    root = Path(__file__).resolve().parents[1] / "training" / "teachers"
    members = [root / "v4_teacher_a.onnx", root / "v4_teacher_c.onnx"]
    monkeypatch.setattr(ensemble, "accurate_models", lambda: list(members))
    monkeypatch.setattr(ensemble, "accurate_available", lambda: True)
    monkeypatch.setattr("fer_desktop.ui.main_window.accurate_available", lambda: True)
    return members
