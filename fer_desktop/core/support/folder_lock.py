"""One writer per output folder (issue 28.1): an OS lock on `<folder>/.lock`.

The lock is the operating system's (flock on Linux and macOS, msvcrt.locking on Windows), so it
is released when its process ends for any reason, a kill or a crash included: a lock file left
behind by a dead run is never stale, the next run simply takes it. The file also names its
holder (pid, machine, start time) for the message a second run shows.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from datetime import datetime
from pathlib import Path

from fer_desktop.core.support.errors import UserError

LOCK_NAME = ".lock"


class FolderLock:
    """Held from `acquire()` to `release()` (or the end of the process)."""

    def __init__(self, folder: str | Path) -> None:
        self.path = Path(folder) / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> FolderLock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            _lock(fd)
        except OSError:
            holder = _read_holder(fd)
            os.close(fd)
            raise UserError(
                f"{self.path.parent} is in use by another run ({holder}).",
                "Wait until it finishes (it resumes from where it is), or choose another folder.",
            ) from None
        os.ftruncate(fd, 0)
        me = {
            "pid": os.getpid(),
            "machine": platform.node(),
            "since": datetime.now().isoformat(timespec="seconds"),
        }
        os.write(fd, json.dumps(me).encode())
        self._fd = fd
        return self

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                _unlock(fd)
            finally:
                os.close(fd)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def _read_holder(fd: int) -> str:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        info = json.loads(os.read(fd, 4096).decode("utf-8", "replace") or "{}")
        return f"process {int(info['pid'])} on {str(info['machine'])[:60]}, since {str(info['since'])[:19]}"
    except (OSError, ValueError, KeyError, TypeError):
        return "a process that is starting"


if sys.platform == "win32":  # pragma: no cover - Windows
    import msvcrt

    def _lock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


__all__ = ["LOCK_NAME", "FolderLock"]
