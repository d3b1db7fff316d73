"""The window never freezes (issue 35): cyclic garbage that holds Qt objects is freed on the GUI
thread, never on a worker thread that happened to allocate when the collector's threshold was
crossed (that froze the window: ~QObject on a worker took Qt's mutex and waited for the GIL
while the GUI thread, holding the GIL, waited for that mutex).

The test makes exactly that situation, deterministically: a reference cycle holding a QObject
made on the GUI thread, then a worker thread that allocates past the collector's threshold while
the GUI thread waits. Where the cycle is freed is recorded by a finalizer on the QObject.
Without the GUI-thread collector (automatic collection on), it is freed on the worker."""

from __future__ import annotations

import gc
import threading
import weakref

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QMenu

from fer_desktop.core.settings import Settings


def _cycle_holding_qobjects(freed_on: list[str]) -> None:
    """A QObject (with a connected signal and a child QMenu, as a window's menus have) kept
    alive only by a Python reference cycle; records the thread that frees it."""
    owner = QObject()
    menu = QMenu()
    menu.addAction("x")
    box: dict = {"owner": owner, "menu": menu}
    box["self"] = box  # the cycle: only the collector can free it
    owner.objectNameChanged.connect(menu.setTitle)  # a connection between them, as widgets have
    weakref.finalize(owner, lambda: freed_on.append(threading.current_thread().name))


def _allocate_past_the_threshold() -> list:
    """Container allocations that count towards a gen-0 collection (the count drops again when
    they are freed: keep the returned list while the count matters)."""
    return [[None] for _ in range(3 * gc.get_threshold()[0])]


def test_window_moves_garbage_collection_to_the_gui_thread(qtbot):
    from fer_desktop.ui.main_window import MainWindow

    win = MainWindow(Settings(detector="yunet", device="cpu"), preload=False)
    qtbot.addWidget(win)
    assert not gc.isenabled()  # automatic collection (on any thread) is off while it runs

    freed_on: list[str] = []
    _cycle_holding_qobjects(freed_on)
    worker = threading.Thread(target=_allocate_past_the_threshold, name="fer-test-allocator")
    worker.start()
    worker.join()
    assert freed_on in ([], ["MainThread"]), f"a Qt object was freed on {freed_on}"
    junk = _allocate_past_the_threshold()  # the GUI thread allocates, as a busy window does
    qtbot.waitUntil(lambda: freed_on == ["MainThread"], timeout=5000)  # the GUI thread's timer
    del junk


def test_collector_collects_as_the_thresholds_say(qtbot):
    """The timer collects generation 0 once its count passes the threshold, and leaves it
    alone below (so a quiet GUI does not pay for collections)."""
    from fer_desktop.workers import gui_gc

    collector = gui_gc.install()
    assert collector is not None and collector is gui_gc.install()  # one per application
    gc.collect()
    freed: list[str] = []
    _cycle_holding_qobjects(freed)
    collector.check()  # count below threshold 0: nothing collected yet
    assert freed == []
    junk = _allocate_past_the_threshold()
    collector.check()
    assert freed == ["MainThread"]
    del junk


def test_a_timer_slot_allocating_on_the_gui_thread_still_frees_garbage(qtbot):
    """Collection still happens in a busy window: garbage made by the GUI thread's own slots
    is freed within a few timer periods."""
    from fer_desktop.workers import gui_gc

    gui_gc.install()
    freed: list[str] = []
    kept: list = []

    def slot() -> None:
        if not kept:
            _cycle_holding_qobjects(freed)
        kept.append(_allocate_past_the_threshold())

    timer = QTimer()
    timer.timeout.connect(slot)
    timer.start(20)
    try:
        qtbot.waitUntil(lambda: freed == ["MainThread"], timeout=5000)
    finally:
        timer.stop()
