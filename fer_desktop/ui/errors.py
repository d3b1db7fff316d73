"""The one way errors reach the user: `show_error` (what happened + what to do), plus excepthooks.

The dialog is opened with `.open()` (window-modal, never a nested event loop), so a test or a worker
signal never blocks on it; the last message is also kept on the window as `last_error` and shown
in its status bar.
"""

from __future__ import annotations

import logging
import sys
import threading
import weakref
from collections.abc import Callable
from typing import Protocol, cast

import shiboken6
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMainWindow, QMessageBox, QWidget

from fer_desktop.core.support.errors import UserError
from fer_desktop.core.support.logs import log_path, setup_logging

log = logging.getLogger("fer_desktop")

TITLE = "fer-desktop"
_MAX_STACKED = 5  # messages shown together when several errors arrive before the first is read


class _ErrorState(Protocol):
    """The plain Python attributes `show_error` keeps on a window (no Qt class declares them)."""

    last_error: str
    errors: list[str]
    _error_box: QMessageBox | None


def _state(window: QWidget) -> _ErrorState:
    return cast(_ErrorState, window)


def describe(err: BaseException | str) -> tuple[str, str]:
    """(what happened, what to do) for any error."""
    if isinstance(err, UserError):
        return err.message, err.hint
    if isinstance(err, str):
        return err, ""
    return (
        f"Unexpected error: {type(err).__name__}: {err}",
        (
            "The app keeps running. If this happens again, please report it with the log file "
            f"{log_path()}."
        ),
    )


def log_error(text: str, err: BaseException | str) -> None:
    """Log what the user is shown; with the traceback (and its causes) when there is one."""
    if isinstance(err, BaseException) and (err.__traceback__ or err.__cause__):
        log.error("%s", text, exc_info=(type(err), err, err.__traceback__))
    else:
        log.warning("%s", text)


def _target_window(parent: QWidget | None) -> QWidget | None:
    if parent is not None:
        try:
            return parent.window()
        except RuntimeError:  # deleted
            return None
    app = QApplication.instance()
    if not isinstance(app, QApplication):  # none, or a QCoreApplication without windows
        return None
    return app.activeWindow() or next(
        (w for w in app.topLevelWidgets() if isinstance(w, QMainWindow)), None
    )


def show_error(parent: QWidget | None, err: BaseException | str, *, logged: bool = False) -> str:
    """Tell the user what happened and what to do; never blocks, never raises. Returns the text.

    The message is logged with its traceback (unless the caller `logged` it already).
    """
    message, hint = describe(err)
    text = f"{message}\n{hint}".strip()
    if not logged:
        log_error(text.replace("\n", " "), err)
    window = _target_window(parent)
    if window is None or QApplication.instance() is None:
        print(f"fer-desktop: {text}", file=sys.stderr)
        return text
    state = _state(window)
    state.last_error = text  # for tests and for the status bar's tooltip
    errors = getattr(window, "errors", None)
    if not isinstance(errors, list):
        errors = state.errors = []
    errors.append(text)
    if isinstance(window, QMainWindow):
        window.statusBar().showMessage(message.split("\n", 1)[0], 15000)
    box = _open_box(window)
    if box is not None:
        # One dialog at a time: stack messages instead of piling windows on top of each other.
        shown = box.property("messages") or []
        shown = (list(shown) + [text])[-_MAX_STACKED:]
        box.setProperty("messages", shown)
        box.setText(f"{len(shown)} problems occurred:")
        box.setInformativeText("\n\n".join(shown))
        return text
    box = QMessageBox(
        QMessageBox.Icon.Warning, TITLE, message, QMessageBox.StandardButton.Ok, window
    )
    box.setInformativeText(hint)
    ok = box.button(QMessageBox.StandardButton.Ok)
    if ok is not None:
        ok.setIcon(QIcon())  # some styles put a stock tick icon on OK; the warning icon is enough
    box.setProperty("messages", [text])
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    state._error_box = box
    # The box deletes itself on close: forget it first, so the next error opens a new one
    # instead of touching a deleted C++ object. The slots hold the window weakly: a strong
    # reference could be the window's last one, freed inside the box's own destructor, which
    # would delete the box twice (a crash seen when a test let go of its window first).
    ref = weakref.ref(window)
    box.finished.connect(lambda _result, w=ref: _forget_box(w()))
    box.destroyed.connect(lambda _obj=None, w=ref: _forget_box(w()))
    box.open()
    return text


def _open_box(window: QWidget) -> QMessageBox | None:
    """The window's error box if it is still alive and shown, else None."""
    box = getattr(window, "_error_box", None)
    if not isinstance(box, QMessageBox) or not shiboken6.isValid(box):
        return None
    try:
        return box if box.isVisible() else None
    except RuntimeError:  # deleted between the check and the call
        return None


def _forget_box(window: QWidget | None) -> None:
    if window is None:
        return
    try:
        _state(window)._error_box = None
    except RuntimeError:  # the window itself is gone
        pass


class _ErrorRelay(QObject):
    """Carries exceptions from any thread to the GUI thread (a queued signal)."""

    raised = Signal(object)


_relay: _ErrorRelay | None = None


def _log_uncaught(exc_type, exc, tb) -> None:
    log.error("uncaught exception", exc_info=(exc_type, exc, tb))


_showing = False


def _show_uncaught(exc: BaseException) -> None:
    """Show an uncaught exception; an error while showing one is logged, never shown again (no
    error loop that floods the log)."""
    global _showing
    if _showing:
        return
    _showing = True
    try:
        show_error(None, exc, logged=True)
    except Exception:
        log.exception("could not show an error")
    finally:
        _showing = False


def install_excepthooks() -> Callable[[], None]:
    """Route uncaught exceptions (GUI thread and Python threads) to `show_error` and the log.

    Call on the GUI thread after the QApplication exists; also starts the log file. Returns a
    function restoring the old hooks.
    """
    global _relay
    setup_logging()
    if _relay is None:
        _relay = _ErrorRelay()
        _relay.raised.connect(_show_uncaught, Qt.ConnectionType.QueuedConnection)
    relay = _relay
    old_sys, old_thread = sys.excepthook, threading.excepthook

    def sys_hook(exc_type, exc, tb) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            old_sys(exc_type, exc, tb)
            return
        _log_uncaught(exc_type, exc, tb)
        relay.raised.emit(exc)

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        _log_uncaught(args.exc_type, args.exc_value, args.exc_traceback)
        relay.raised.emit(args.exc_value)

    sys.excepthook = sys_hook
    threading.excepthook = thread_hook

    def restore() -> None:
        sys.excepthook, threading.excepthook = old_sys, old_thread

    return restore
