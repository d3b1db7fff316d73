"""Writing and reading a user's files (core/support/fileio.py): atomic writes that leave nothing
half-written, private folders, names that never overwrite, spreadsheet-safe cells and bounded
reads, each pinned by what a user would find on disk (issue 33)."""

from __future__ import annotations

import csv
import os
import stat

import pytest

from fer_desktop.core.support import fileio
from fer_desktop.core.support.fileio import (
    atomic_write,
    atomic_write_bytes,
    atomic_write_csv,
    atomic_write_text,
    broken_link,
    check_regular_file,
    from_spreadsheet_safe,
    make_private_dir,
    read_bounded_text,
    spreadsheet_safe,
    unique_path,
)


def _mode(p) -> int:
    return stat.S_IMODE(os.stat(p).st_mode)


def test_an_atomic_write_replaces_the_file_in_one_step_and_leaves_no_temp_file(tmp_path):
    target = tmp_path / "new" / "folder" / "a.txt"  # missing folders are made
    assert atomic_write_text(target, "first ä") == target
    assert target.read_text(encoding="utf-8") == "first ä"
    atomic_write_bytes(target, b"second")
    assert target.read_bytes() == b"second"
    assert sorted(p.name for p in target.parent.iterdir()) == ["a.txt"]


def test_a_failed_write_keeps_the_old_file_and_removes_its_temp_file(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("old")

    def half(p):
        p.write_text("half")
        raise KeyboardInterrupt  # even an interrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, half)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_a_written_file_has_normal_permissions_or_the_ones_asked_for(tmp_path):
    old = os.umask(0o022)
    try:
        assert _mode(atomic_write_text(tmp_path / "a", "x")) == 0o644  # not mkstemp's 0600
        os.umask(0o077)
        assert _mode(atomic_write_text(tmp_path / "b", "x")) == 0o600
        assert os.umask(0o077) == 0o077  # the umask is left as it was
    finally:
        os.umask(old)
    assert _mode(atomic_write_bytes(tmp_path / "c", b"x", mode=0o640)) == 0o640
    assert _mode(atomic_write_text(tmp_path / "d", "x", mode=fileio.PRIVATE_FILE)) == 0o600


def test_a_private_folder_is_made_with_parents_and_an_existing_one_is_tightened(tmp_path):
    p = make_private_dir(tmp_path / "a" / "b")
    assert p.is_dir() and _mode(p) == 0o700
    loose = tmp_path / "loose"
    loose.mkdir(mode=0o755)
    os.chmod(loose, 0o755)
    make_private_dir(loose)
    assert _mode(loose) == 0o700
    with pytest.raises(FileExistsError):
        make_private_dir(loose, exist_ok=False)


def test_a_taken_name_gets_the_next_free_number(tmp_path):
    a = tmp_path / "report.html"
    assert unique_path(a) == a
    a.write_text("x")
    assert unique_path(a) == tmp_path / "report-1.html"
    (tmp_path / "report-1.html").write_text("x")
    assert unique_path(str(a)) == tmp_path / "report-2.html"


def test_a_broken_link_says_why(tmp_path):
    plain = tmp_path / "plain"
    plain.write_text("x")
    assert broken_link(plain) is None
    good = tmp_path / "good"
    good.symlink_to(plain)
    assert broken_link(good) is None
    missing = tmp_path / "missing"
    missing.symlink_to(tmp_path / "nowhere")
    assert broken_link(missing) == "is a symbolic link to a missing file"
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    assert broken_link(loop) == "is a symbolic link that points to itself (a loop)"


def test_a_csv_has_its_header_its_columns_and_safe_cells(tmp_path):
    rows = [{"name": "=HYPERLINK(1)", "x": -1.5, "extra": "ignored"}, {"name": "Ann", "x": "+3"}]
    path = atomic_write_csv(tmp_path / "a.csv", ["name", "x"], rows)
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == "name,x"
    got = list(csv.DictReader(text.splitlines()))
    assert got == [{"name": "'=HYPERLINK(1)", "x": "-1.5"}, {"name": "Ann", "x": "+3"}]


@pytest.mark.parametrize("cell", ["=1+1", "+A1", "-A1", "@SUM(A1)", "\tx", "\rx"])
def test_a_formula_gets_an_apostrophe_and_comes_back_unchanged(cell):
    safe = spreadsheet_safe(cell)
    assert safe == "'" + cell
    assert from_spreadsheet_safe(safe) == cell


@pytest.mark.parametrize("value", ["-1.5", "+2", "plain", "'quoted", 3, -2.0, None, ""])
def test_numbers_and_plain_text_pass_unchanged(value):
    assert spreadsheet_safe(value) == value
    if isinstance(value, str):
        assert from_spreadsheet_safe(value) == value  # an apostrophe of the user's own stays


def test_a_bounded_read_takes_a_regular_file_up_to_its_limit(tmp_path):
    f = tmp_path / "s.json"
    f.write_bytes("\ufeff{}".encode())  # a BOM is dropped
    assert read_bounded_text(f, 5) == "{}"
    f.write_bytes(b"123456")
    assert read_bounded_text(f, 6) == "123456"  # at the limit
    with pytest.raises(
        OSError, match=r"s\.json is 6 bytes, more than a settings file may be \(5\)"
    ):
        read_bounded_text(f, 5, "settings file")
    with pytest.raises(OSError, match="is not a regular file"):
        read_bounded_text(tmp_path, 10)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(OSError, match="pipe is not a regular file"):
        read_bounded_text(fifo, 10)  # refused before opening: nothing hangs
    with pytest.raises(OSError, match="pipe is not a regular file"):
        check_regular_file(fifo)
    check_regular_file(f)


def test_a_file_that_grows_while_read_is_refused(tmp_path, monkeypatch):
    f = tmp_path / "s.json"
    f.write_bytes(b"12345")
    real_stat = os.stat

    class Smaller:  # the size seen before the read, as if the file grew after it
        def __init__(self, st):
            self.st_mode, self.st_size = st.st_mode, 2

    monkeypatch.setattr(fileio.os, "stat", lambda p: Smaller(real_stat(p)))
    with pytest.raises(OSError, match=r"s\.json grew past 3 bytes while being read"):
        read_bounded_text(f, 3)
    assert read_bounded_text(f, 5) == "12345"


def test_the_temporary_file_is_hidden_beside_the_target(tmp_path):
    """Beside it (same disk: the rename is atomic), hidden, and named after it (a person who
    sees one after a power cut knows what it was)."""
    seen = []
    atomic_write(tmp_path / "faces.csv", lambda p: (seen.append(p), p.write_text("x")))
    tmp = seen[0]
    assert tmp.parent == tmp_path and tmp.name.startswith(".faces.csv.") and tmp.suffix == ".tmp"


def test_a_writer_that_removed_its_temp_file_still_reports_its_own_error(tmp_path):
    def gone(p):
        p.unlink()
        raise ValueError("the writer's own problem")

    with pytest.raises(ValueError, match="the writer's own problem"):
        atomic_write(tmp_path / "a.txt", gone)


def test_a_link_loop_reported_as_an_os_error_is_a_loop(tmp_path, monkeypatch):
    """Python 3.13 raises OSError(ELOOP) where 3.11 raises RuntimeError: both say "a loop"."""
    import errno
    from pathlib import Path

    loop = tmp_path / "loop"
    loop.symlink_to(loop)

    def eloop(self, strict=False):
        raise OSError(errno.ELOOP, "Too many levels of symbolic links")

    monkeypatch.setattr(Path, "resolve", eloop)
    assert broken_link(loop) == "is a symbolic link that points to itself (a loop)"
