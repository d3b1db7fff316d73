"""LatestTask: the one background-work wrapper (superqt workers, newest request wins)."""

from __future__ import annotations

import threading
import time

from fer_desktop.core.support.errors import UserError
from fer_desktop.workers.tasks import LatestTask


def test_newest_request_wins(qtbot):
    task = LatestTask("Counting")
    gate = threading.Event()
    got: list = []
    task.finished.connect(got.append)

    def slow(v):
        gate.wait(5)
        return v

    task.run(slow, "old")
    with qtbot.waitSignal(task.finished, timeout=5000) as blocker:
        task.run(lambda: "new")
    gate.set()
    assert blocker.args == ["new"]
    assert task.wait(5)
    qtbot.wait(50)  # the old call's queued result would arrive now: it must be dropped
    assert got == ["new"]


def test_errors_arrive_as_user_errors_with_cause(qtbot):
    task = LatestTask("Loading the thing")

    def boom():
        raise ValueError("bad value")

    with qtbot.waitSignal(task.failed, timeout=5000) as blocker:
        task.run(boom)
    err = blocker.args[0]
    assert isinstance(err, UserError)
    assert "Loading the thing failed: ValueError: bad value" in err.message
    assert isinstance(err.__cause__, ValueError) and err.__cause__.__traceback__ is not None
    assert task.wait(5)


def test_generator_is_cancelled_at_its_next_yield_and_cleans_up(qtbot):
    task = LatestTask("Analysing")
    closed = threading.Event()
    steps: list = []
    task.progress.connect(steps.append)

    def job():
        try:
            for i in range(1000):
                time.sleep(0.01)
                yield i
        finally:
            closed.set()

    with qtbot.waitSignal(task.progress, timeout=5000):
        task.run(job)
    t0 = time.perf_counter()
    task.cancel()
    assert time.perf_counter() - t0 < 0.1  # cancel never blocks
    assert task.wait(5)
    assert closed.is_set()  # the generator's finally ran when it was cancelled
    assert not task.busy
    assert len(steps) < 1000
