"""LiveSession: stopping never blocks the GUI, the camera is freed, settings cross threads safely.

The slow part is real: the shipped models on the real 720p video, with a classifier wrapper that
sleeps before each real classification (a slow CPU or a big model).
"""

from __future__ import annotations

import threading
import time

import pytest

from fer_desktop.core.pipeline.pipeline import Pipeline
from fer_desktop.core.pipeline.shared_models import load_models
from fer_desktop.core.settings import Settings
from fer_desktop.workers.live_session import LiveSession

SLOW_S = 1.5
LOAD_MS = 90_000


class SlowClassifier:
    """The real classifier, but each call first sleeps (and says when it started)."""

    def __init__(self, real, delay: float = SLOW_S) -> None:
        self._real = real
        self.delay = delay
        self.inside = threading.Event()

    def __getattr__(self, name):
        return getattr(self._real, name)

    def classify(self, frame, boxes, *args, **kwargs):
        self.inside.set()
        time.sleep(self.delay)
        return self._real.classify(frame, boxes, *args, **kwargs)


class RecordingPipeline(Pipeline):
    """A real pipeline that records which thread sets its smoothing and threshold."""

    def __setattr__(self, name, value):
        if name in ("threshold", "smoothing") and "writers" in self.__dict__:
            self.writers.append((name, value, threading.current_thread().name))
        super().__setattr__(name, value)


@pytest.fixture(scope="module")
def models():
    return load_models(Settings(detector="yunet", device="cpu"))


def live_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name in ("fer-capture", "fer-inference")]


def test_stop_during_slow_inference_returns_at_once_and_frees_the_camera(qtbot, models, video_path):
    slow = SlowClassifier(models.classifier)
    pipeline = Pipeline(models.detector, slow)
    session = LiveSession()
    session.start(str(video_path), pipeline)
    qtbot.waitUntil(lambda: session.engine is not None, timeout=30_000)
    engine = session.engine
    assert slow.inside.wait(30), "inference never started"
    t0 = time.perf_counter()
    session.stop()
    blocked = time.perf_counter() - t0
    print(f"stop() blocked the GUI thread for {blocked * 1000:.1f} ms")
    assert blocked < 0.1
    assert not session.running and session.engine is None
    # The capture thread releases the video while inference is still asleep in the classifier.
    capture = next(t for t in engine._threads if t.name == "fer-capture")
    inference = next(t for t in engine._threads if t.name == "fer-inference")
    qtbot.waitUntil(lambda: not capture.is_alive(), timeout=2000)
    assert not engine.source.cap.isOpened()
    assert inference.is_alive()  # outlived the stop: the source was freed anyway
    assert session.wait(10)
    assert live_threads() == []


def test_settings_reach_the_inference_thread_only_through_the_engine(qtbot, models, video_path):
    pipeline = RecordingPipeline(models.detector, models.classifier, threshold=0.4)
    pipeline.writers = []
    session = LiveSession()
    results = []
    session.result_ready.connect(results.append)
    session.tune(smoothing=0.0, threshold=0.4)
    session.start(str(video_path), pipeline)
    qtbot.waitUntil(lambda: len(results) >= 2, timeout=30_000)
    session.tune(threshold=1.0)  # the slider at 100 %: every face becomes "uncertain"
    n = len(results)
    qtbot.waitUntil(lambda: len(results) > n + 2 and bool(results[-1].faces), timeout=30_000)
    session.stop()
    assert session.wait(10)
    assert all(f.label == "uncertain" for f in results[-1].faces)
    assert ("threshold", 1.0, "fer-inference") in pipeline.writers
    gui = threading.main_thread().name
    assert not [w for w in pipeline.writers if w[2] == gui], pipeline.writers  # never the GUI


def test_swapping_the_pipeline_while_running(qtbot, models, video_path):
    first = Pipeline(models.detector, models.classifier)
    second = Pipeline(models.detector, models.classifier)
    session = LiveSession()
    session.start(str(video_path), first)
    qtbot.waitUntil(lambda: session.engine is not None, timeout=30_000)
    with qtbot.waitSignal(session.result_ready, timeout=30_000):
        pass
    session.set_pipeline(second)
    count = second._count
    qtbot.waitUntil(lambda: second._count > count, timeout=30_000)
    session.stop()
    assert session.wait(10)
