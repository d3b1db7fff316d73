"""A dataset folder or zip, read with bounds: every entry's size (and, in a zip, its compression
ratio) is checked before anything is read, so a hostile archive (a zip bomb, a huge CSV line)
is refused with a message instead of exhausting memory."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from fer_desktop.core.emotions import CLASSES
from fer_desktop.core.support.errors import UserError

EXPECTED = (
    "class folders such as train/<class>/*.jpg and test/<class>/*.jpg, "
    "images/train/<class>/ and images/validation/<class>/, <class>/*.jpg, fer2013.csv, "
    "or FER+'s FER2013Train/ + FER2013Valid/ with label.csv "
    f"(classes: {', '.join(CLASSES)})"
)

# Bounds on what a dataset may make this program read, checked before reading (a 2 MB zip can
# declare gigabytes). A face image is a few kB; FER2013's CSV is 290 MB.
MAX_IMAGE_BYTES = 32 * 2**20


MAX_CSV_BYTES = 1024 * 2**20


MAX_TOTAL_BYTES = 16 * 2**30


MAX_RATIO = 100  # uncompressed / compressed size of one zip entry (FER2013's CSV: about 3)


def _size(n: float) -> str:
    for unit in ("bytes", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


def too_big(source: str, name: str, size: int, limit: int) -> UserError:
    return UserError(
        f"{source}: {name} is {_size(size)}, more than a dataset file may be ({_size(limit)}).",
        f"This is not a face dataset the app can read; expected {EXPECTED}.",
    )


def _limit_for(name: str) -> int:
    return MAX_CSV_BYTES if name.lower().endswith(".csv") else MAX_IMAGE_BYTES


class BoundedTree:
    """Uniform, bounded read access to a folder or a zip archive: every entry's size (and, in a
    zip, its compression ratio) is checked against the limits before anything is read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if path.is_dir():
            self.zip = None
            self.files = [p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()]
            return
        try:
            self.zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise UserError(
                f"{path.name} is not a readable zip archive ({exc}).",
                f"Choose a dataset folder or zip; expected {EXPECTED}.",
            ) from exc
        infos = [i for i in self.zip.infolist() if not i.is_dir()]
        total = 0
        for info in infos:
            if info.file_size > _limit_for(info.filename):
                raise too_big(path.name, info.filename, info.file_size, _limit_for(info.filename))
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > 2**20 and ratio > MAX_RATIO:
                raise UserError(
                    f"{path.name}: {info.filename} would unpack {ratio:.0f} times larger than it "
                    f"is stored ({_size(info.compress_size)} to {_size(info.file_size)}): refused.",
                    "A zip compressed this much is not a face dataset (it may be a zip bomb).",
                )
            total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise UserError(
                f"{path.name} unpacks to {_size(total)}, more than a dataset may be "
                f"({_size(MAX_TOTAL_BYTES)}).",
                f"Expected {EXPECTED}.",
            )
        self.files = [i.filename for i in infos]

    def read(self, name: str) -> bytes:
        limit = _limit_for(name)
        if self.zip is not None:
            with self.zip.open(name) as f:
                data = f.read(limit + 1)  # never more than the limit, whatever it declares
        else:
            file = self.path / name
            size = file.stat().st_size
            if size > limit:
                raise too_big(self.path.name, name, size, limit)
            data = file.read_bytes()
        if len(data) > limit:
            raise too_big(self.path.name, name, len(data), limit)
        return data

    def open_text(self, name: str) -> io.TextIOBase:
        """A streamed text reader of `name` (a CSV is parsed row by row, never read whole)."""
        if self.zip is not None:
            raw = self.zip.open(name)
        else:
            size = (self.path / name).stat().st_size
            if size > MAX_CSV_BYTES:
                raise too_big(self.path.name, name, size, MAX_CSV_BYTES)
            raw = (self.path / name).open("rb")
        return io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")


MAX_CSV_FIELD = 64 * 1024  # one row's pixels: 48x48 values are about 9 kB of text


def bounded_lines(text: io.TextIOBase, source: str):
    """The lines of `text`, each read with a bound: a "line" of gigabytes is refused, not read."""
    while True:
        line = text.readline(MAX_CSV_FIELD + 1)
        if not line:
            return
        if len(line) > MAX_CSV_FIELD and not line.endswith("\n"):
            raise UserError(
                f"{source} has a line longer than {_size(MAX_CSV_FIELD)}: not a fer2013.csv.",
                f"Expected {EXPECTED}.",
            )
        yield line


def check_bounds(path: str | Path) -> None:
    """Refuse a dataset whose entries are too large or too compressed (a zip bomb), reading
    nothing but the archive's directory: cheap enough to run before a trainer imports torch."""
    p = Path(path).expanduser()
    if p.is_file() and p.suffix.lower() == ".zip":
        BoundedTree(p)
    elif p.is_file() and p.suffix.lower() == ".csv" and p.stat().st_size > MAX_CSV_BYTES:
        raise too_big(p.name, p.name, p.stat().st_size, MAX_CSV_BYTES)
