"""Runs `fer-train` in a separate process (a crash never takes the app down) and turns its
JSON-lines output into Qt signals."""

from __future__ import annotations

import os
import sys
from collections import deque
from collections.abc import Callable

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, Signal

from fer_desktop.core.training import events
from fer_desktop.core.training.run_folder import RunFolder

STDERR_TAIL_LINES = 20


def training_command(args: list[str]) -> list[str]:
    """The command line that runs the trainer with `args`, from a checkout or a PyInstaller bundle.

    The bundled executable dispatches a `train` subcommand to `fer_training.cli.main`.
    """
    if getattr(sys, "frozen", False):
        return [sys.executable, "train", *args]
    return [sys.executable, "-m", "fer_training", *args]


class TrainingRunner(QObject):
    """One training process at a time. Signals carry the trainer's events as plain dicts.

    `finished` carries the final `finished` or `stopped` event; `failed` a message (the trainer's
    error event, or a crash with the last stderr lines). `exited` always comes last, once the
    process is gone, so a UI can re-enable its controls in one place.
    """

    started = Signal(dict)
    progress = Signal(dict)
    epoch = Signal(dict)
    log = Signal(dict)
    best = Signal(dict)  # a new best.pt was saved: {"epoch", "path"}
    finished = Signal(dict)
    failed = Signal(str)
    exited = Signal(int)

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        command: Callable[[list[str]], list[str]] = training_command,
        stop_timeout_ms: int = 60_000,
    ) -> None:
        super().__init__(parent)
        self._command = command
        self._stop_timeout_ms = stop_timeout_ms
        self._proc: QProcess | None = None
        self._kill_timer = QTimer(self)
        self._kill_timer.setSingleShot(True)
        self._kill_timer.timeout.connect(self._kill)
        self._reset()

    def _reset(self) -> None:
        self._err = bytearray()
        self._stderr_tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
        self._terminal: dict | None = None  # finished / stopped / error event, once seen
        self._stopping = False
        self.run_dir: str | None = None
        self.last_error: dict | None = None  # {"message", "hint"} of the last failure
        self.epochs_seen = 0

    # --- control ---------------------------------------------------------------------------

    def is_stopping(self) -> bool:
        """A stop was asked for and the process has not ended yet."""
        return self._stopping and self.is_running()

    def _running_proc(self) -> QProcess:
        assert self._proc is not None, "no training process was started"
        return self._proc

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.state() != QProcess.ProcessState.NotRunning

    def start(self, args: list[str]) -> None:
        """Start a training process with fer-train arguments (e.g. ["--data", path, ...])."""
        if self.is_running():
            raise RuntimeError("a training run is already active")
        self._reset()
        cmd = self._command(list(args))
        proc = QProcess(self)
        env = QProcessEnvironment.systemEnvironment()
        env.insert("PYTHONUNBUFFERED", "1")
        env.insert("PYTHONIOENCODING", "utf-8")
        proc.setProcessEnvironment(env)
        proc.readyReadStandardOutput.connect(self._read_stdout)
        proc.readyReadStandardError.connect(self._read_stderr)
        proc.finished.connect(self._on_finished)
        proc.errorOccurred.connect(self._on_error)
        self._proc = proc
        proc.start(cmd[0], cmd[1:])

    def stop(self) -> None:
        """Ask the run to stop after its current batch (SIGTERM); kill it only after a timeout.

        Returns at once; `finished` (a `stopped` event) and `exited` follow.
        """
        if not self.is_running() or self._stopping:
            return
        self._stopping = True
        self._running_proc().terminate()
        if os.name == "nt":  # console programs on Windows ignore WM_CLOSE: no clean stop there
            self._kill_timer.start(min(self._stop_timeout_ms, 2_000))
        else:
            self._kill_timer.start(self._stop_timeout_ms)

    def stop_and_wait(self, timeout_ms: int = 30_000) -> bool:
        """Blocking stop for application shutdown: terminate, wait, then kill. True if clean."""
        if not self.is_running():
            return True
        self._stopping = True
        self._running_proc().terminate()
        if self._running_proc().waitForFinished(timeout_ms):
            return True
        self._running_proc().kill()
        self._running_proc().waitForFinished(5_000)
        return False

    def _kill(self) -> None:
        if self.is_running():
            self.log.emit(
                events.log_event(
                    "warning",
                    "training did not stop in time; killing it (last.pt keeps the last complete epoch)",
                )
            )
            self._running_proc().kill()

    # --- output ----------------------------------------------------------------------------

    def _read_stdout(self) -> None:
        proc = self._running_proc()
        proc.setReadChannel(QProcess.ProcessChannel.StandardOutput)
        while proc.canReadLine():
            line = bytes(proc.readLine().data()).decode("utf-8", errors="replace").strip()
            if line:
                self._handle_line(line)

    def _read_stderr(self) -> None:
        self._err += bytes(self._running_proc().readAllStandardError().data())
        self._err = self._err.replace(b"\r", b"\n")  # progress bars rewrite their line with \r
        while (i := self._err.find(b"\n")) >= 0:
            line = bytes(self._err[:i]).decode("utf-8", errors="replace").rstrip()
            del self._err[: i + 1]
            if line.strip():
                self._stderr_tail.append(line)

    def _handle_line(self, line: str) -> None:
        ev = events.parse_line(line)
        if ev is None:  # a stray print from a library
            self.log.emit(events.log_event("output", line))
            return
        self.HANDLERS[ev["event"]](self, ev)

    def _on_start(self, ev: dict) -> None:
        self.run_dir = ev.get("run_dir")
        self.started.emit(ev)

    def _on_epoch(self, ev: dict) -> None:
        self.epochs_seen += 1
        self.epoch.emit(ev)

    def _on_end(self, ev: dict) -> None:
        self._terminal = ev
        self.run_dir = ev.get("run_dir") or self.run_dir
        self.finished.emit(ev)

    def _on_error_event(self, ev: dict) -> None:
        self._terminal = ev
        self._fail(ev.get("message", "Training failed."), ev.get("hint", ""))

    # One handler per event kind (events.KINDS; a test checks none is missing).
    HANDLERS: dict[str, Callable[[TrainingRunner, dict], None]] = {
        "start": _on_start,
        "progress": lambda self, ev: self.progress.emit(ev),
        "epoch": _on_epoch,
        "log": lambda self, ev: self.log.emit(ev),
        "best": lambda self, ev: self.best.emit(ev),
        "finished": _on_end,
        "stopped": _on_end,
        "error": _on_error_event,
    }

    def _fail(self, message: str, hint: str = "") -> None:
        self.last_error = {"message": message, "hint": hint}
        self.failed.emit(f"{message}\n{hint}".strip())

    # --- process end -----------------------------------------------------------------------

    def _on_finished(self, code: int, status: QProcess.ExitStatus) -> None:
        self._kill_timer.stop()
        self._read_stdout()
        self._read_stderr()
        out = (
            bytes(self._running_proc().readAllStandardOutput().data())
            .decode("utf-8", errors="replace")
            .strip()
        )
        err = bytes(self._err).decode("utf-8", errors="replace").strip()
        self._err.clear()
        if err:  # a last line without a newline
            self._stderr_tail.append(err)
        if out:
            self._handle_line(out)
        crashed = status == QProcess.ExitStatus.CrashExit
        if self._terminal is None:
            if self._stopping:  # killed after the timeout: still a user-requested stop
                self.finished.emit(
                    {
                        "event": "stopped",
                        "run_dir": self.run_dir,
                        "epochs_done": self.epochs_seen,
                        "best_checkpoint": self._best_checkpoint(),
                        "forced": True,
                    }
                )
            else:
                tail = "\n".join(self._stderr_tail)
                how = "crashed" if crashed else f"ended with exit code {code}"
                self._fail(
                    f"The training process {how} without a result."
                    + (f"\nLast output:\n{tail}" if tail else ""),
                    "Check the dataset and settings, or run fer-train in a terminal for details.",
                )
        self.exited.emit(-1 if crashed else code)

    def _on_error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:  # `finished` never follows this one
            self._fail(
                f"Could not start the training process ({self._running_proc().errorString()}).",
                "Reinstall fer_desktop; the trainer executable is missing.",
            )
            self.exited.emit(-1)

    def _best_checkpoint(self) -> str | None:
        best = RunFolder(self.run_dir).best_if_saved() if self.run_dir else None
        return str(best) if best else None
