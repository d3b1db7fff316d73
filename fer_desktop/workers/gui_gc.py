"""Python's garbage collector runs on the GUI thread only, from a QTimer.

Why: automatic collection runs on whichever thread happens to allocate when a threshold is
crossed. If that is a worker thread (a model load, a dataset check, the capture thread) and the
garbage holds a Qt object that belongs to the GUI thread (a reference cycle through a widget, a
menu, a superqt worker's signals), Qt destroys that object on the worker thread: Qt's
signal-slot mutex is taken there while Shiboken asks for the GIL, and the GUI thread, holding the
GIL, waits for that mutex: the window freezes for good (issue 35), or the process aborts.

The rule (docs/design.md, "Threads"): automatic collection is off while the window runs; a timer
on the GUI thread collects with the usual generational thresholds (calibre and other large PyQt
apps do the same). Worker threads hold no references to widgets, and a worker's QObjects stay
referenced until their `finished` was handled on the GUI thread (workers/tasks.py).
"""

from __future__ import annotations

import gc
import logging

from PySide6.QtCore import QCoreApplication, QObject, QThread, QTimer

log = logging.getLogger(__name__)

INTERVAL_MS = 500  # cyclic garbage waits at most this long; a gen-0 pass takes well under 1 ms


class GuiThreadCollector(QObject):
    """Turns automatic collection off and collects from a GUI-thread timer, generation by
    generation as CPython's own thresholds would (gen 0 when its count passes threshold 0, ...)."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(parent)
        self.threshold = gc.get_threshold()
        self.was_enabled = gc.isenabled()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.check)
        self.timer.start(interval_ms)

    def check(self) -> None:
        c0, c1, c2 = gc.get_count()
        t0, t1, t2 = self.threshold
        if c0 > t0:
            gc.collect(0)
            if c1 > t1:
                gc.collect(1)
                if c2 > t2:
                    gc.collect(2)

    def stop(self) -> None:
        """Automatic collection back as it was (when the application goes away)."""
        self.timer.stop()
        if self.was_enabled:
            gc.enable()


def install() -> GuiThreadCollector | None:
    """Install the collector on the running QCoreApplication once (idempotent); must be called
    on the GUI thread. Returns it, or None without an application."""
    app = QCoreApplication.instance()
    if app is None:
        return None
    if QThread.currentThread() is not app.thread():
        raise RuntimeError("gui_gc.install() must run on the GUI thread")
    existing = app.findChild(GuiThreadCollector)
    if existing is not None:
        return existing
    collector = GuiThreadCollector(app)
    app.aboutToQuit.connect(collector.stop)
    log.debug("garbage collection moved to the GUI thread (every %d ms)", INTERVAL_MS)
    return collector


__all__ = ["GuiThreadCollector", "install"]
