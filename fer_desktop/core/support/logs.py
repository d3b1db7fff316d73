"""Logging set-up: a rotating `fer-desktop.log` in the per-user folder, plus stderr for the CLI.

Every message that tells a user to "report it with the log file" names `log_path()`, the file this
module writes.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from pathlib import Path

from fer_desktop.core.support.redaction import redact
from fer_desktop.core.support.resources import user_data_dir

LOG_NAME = "fer-desktop.log"
SHOWN = {"shown": True}  # `extra=` for a record the user already sees: kept off stderr
FORMAT = "%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"
MAX_BYTES = 1_000_000
BACKUPS = 3


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever `sys.stderr` is when a record comes, not the stream of set-up time (a
    caller or a test may have replaced and closed that one since)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:  # StreamHandler.__init__ assigns it; always sys.stderr
        pass


def log_path() -> Path:
    """The log file in the per-user folder (it exists once `setup_logging` ran)."""
    return user_data_dir() / LOG_NAME


class _RedactingFormatter(logging.Formatter):
    """Formats as usual, then redacts stream passwords (a URL may reach a message anywhere)."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class _PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """The log file, and each file a rollover starts, readable by the user only."""

    def _open(self):
        stream = super()._open()
        try:
            os.chmod(self.baseFilename, 0o600)
        except OSError:
            pass
        return stream


def setup_logging(*, stderr: bool = False, level: int = logging.INFO) -> Path:
    """Send `logging` to the rotating log file (and to stderr when `stderr`); idempotent.

    Returns the log file's path. Called once at start-up by the GUI and the command line.
    """
    root = logging.getLogger()
    path = log_path()
    have_file = any(
        isinstance(h, logging.handlers.RotatingFileHandler)
        and Path(h.baseFilename) == path.resolve()
        for h in root.handlers
    )
    if not have_file:
        try:
            handler = _PrivateRotatingFileHandler(
                path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8", delay=False
            )
        except OSError:  # a read-only user folder: no log file (user_folder_notice says so)
            handler = None
        if handler is not None:
            handler.setFormatter(_RedactingFormatter(FORMAT))
            handler.set_name("fer-desktop-file")
            root.addHandler(handler)
    if stderr and not any(h.get_name() == "fer-desktop-stderr" for h in root.handlers):
        console = _StderrHandler()
        console.setFormatter(_RedactingFormatter("%(levelname)s %(name)s: %(message)s"))
        console.setLevel(logging.WARNING)
        console.addFilter(lambda record: not getattr(record, "shown", False))
        console.set_name("fer-desktop-stderr")
        root.addHandler(console)
    if root.level == logging.NOTSET or root.level > level:
        root.setLevel(level)
    return path


def install_cli_excepthook() -> None:
    """Log an uncaught exception of the command line, main thread or not (with its traceback),
    then print it as usual."""
    import threading

    if getattr(sys.excepthook, "fer_desktop", False):
        return  # installed already (main() called again in the same process)
    log = logging.getLogger("fer_desktop")
    previous, previous_thread = sys.excepthook, threading.excepthook

    def hook(exc_type, exc, tb) -> None:
        if not issubclass(exc_type, KeyboardInterrupt):
            log.critical("uncaught exception", exc_info=(exc_type, exc, tb), extra=SHOWN)
        previous(exc_type, exc, tb)

    def thread_hook(args) -> None:
        if args.exc_type is not SystemExit:
            log.critical(
                "uncaught exception in thread %s",
                getattr(args.thread, "name", "?"),
                exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
                extra=SHOWN,
            )
        previous_thread(args)

    hook.fer_desktop = True  # type: ignore[attr-defined]
    sys.excepthook = hook
    threading.excepthook = thread_hook
