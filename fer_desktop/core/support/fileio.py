"""Atomic file writes (temp file + rename): a crash never leaves a half-written file in place."""

from __future__ import annotations

import csv
import io
import os
import stat
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path


def atomic_write(
    path: str | Path, write: Callable[[Path], object], mode: int | None = None
) -> Path:
    """Call `write(tmp_path)` then rename tmp_path over `path` in one step. `mode`: the file's
    permissions (default: as any new file; 0o600 for what only the user may read)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        if mode is None:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask  # mkstemp makes 0600; give the file normal permissions
        os.chmod(tmp_path, mode)
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    return path


def atomic_write_bytes(path: str | Path, data: bytes, mode: int | None = None) -> Path:
    return atomic_write(path, lambda p: p.write_bytes(data), mode)


def atomic_write_text(path: str | Path, text: str, mode: int | None = None) -> Path:
    return atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"), mode)


PRIVATE_FILE, PRIVATE_DIR = 0o600, 0o700  # sessions, settings, the log: the user's eyes only


def make_private_dir(path: Path, *, exist_ok: bool = True) -> Path:
    """mkdir (parents too) readable by the user only; an existing folder is tightened."""
    path.mkdir(parents=True, exist_ok=exist_ok, mode=PRIVATE_DIR)
    try:
        os.chmod(path, PRIVATE_DIR)
    except OSError:
        pass
    return path


def unique_path(path: str | Path) -> Path:
    """`path` if free, else `name-1.ext`, `name-2.ext`, ... (never overwrite a user's file)."""
    path = Path(path)
    if not path.exists():
        return path
    i = 1
    while True:
        cand = path.with_name(f"{path.stem}-{i}{path.suffix}")
        if not cand.exists():
            return cand
        i += 1


def broken_link(path: Path) -> str | None:
    """Why `path`, a symbolic link, leads nowhere ("points to itself (a loop)", "points to a
    missing file"), or None when it is no broken link: a clearer message than "not found"."""
    if not path.is_symlink():
        return None
    try:
        path.resolve(strict=True)
    except RuntimeError:
        return "is a symbolic link that points to itself (a loop)"
    except OSError as exc:
        if getattr(exc, "errno", None) == 40:  # ELOOP on Linux
            return "is a symbolic link that points to itself (a loop)"
        return "is a symbolic link to a missing file"
    return None


def atomic_write_csv(path: str | Path, columns: Sequence[str], rows: Iterable[dict]) -> Path:
    """Rows (dicts, extra keys ignored) as a CSV with a header, written atomically."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(columns), extrasaction="ignore")
    w.writeheader()
    for row in rows:
        w.writerow({k: spreadsheet_safe(v) for k, v in row.items()})
    return atomic_write_text(path, buf.getvalue())


# A cell a spreadsheet would evaluate as a formula starts with one of these (OWASP, CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """A text cell a spreadsheet would run as a formula ("=HYPERLINK(...)", "@SUM(...)") gets a
    leading apostrophe (OWASP's rule); numbers, negative ones included, pass unchanged."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        try:
            float(value)
            return value
        except ValueError:
            return "'" + value
    return value


def from_spreadsheet_safe(text: str) -> str:
    """The user's text back from a cell `spreadsheet_safe` wrote."""
    if text.startswith("'") and text[1:].startswith(_FORMULA_START):
        return text[1:]
    return text


def read_bounded_text(path: str | Path, limit: int, what: str = "file") -> str:
    """The text of a *regular* file of at most `limit` bytes (UTF-8). A FIFO, a device (a symlink
    to /dev/zero), a folder or a larger file raises OSError with a one-line reason, before
    anything is read: a file a user opens can never hang the app or exhaust its memory."""
    path = Path(path)
    st = os.stat(path)  # follows symlinks: what would really be read
    if not stat.S_ISREG(st.st_mode):
        raise OSError(f"{path.name} is not a regular file")
    if st.st_size > limit:
        raise OSError(f"{path.name} is {st.st_size:,} bytes, more than a {what} may be ({limit:,})")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    with os.fdopen(fd, "rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise OSError(f"{path.name} grew past {limit:,} bytes while being read")
    return data.decode("utf-8-sig")


def check_regular_file(path: str | Path) -> None:
    """OSError unless `path` is a regular file (not a FIFO, device or folder)."""
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise OSError(f"{Path(path).name} is not a regular file")
