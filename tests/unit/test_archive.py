"""A dataset read with bounds (core/training/archive.py): each bound refuses what is over it and
accepts what is at it, in a folder and in a zip (issue 33: mutation testing found the total-size
bound and the "header lies about its size" bound deletable). The bounds are lowered for the test
(the module's own constants), so no test writes gigabytes."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

from fer_desktop.core.support.errors import UserError
from fer_desktop.core.training import archive
from fer_desktop.core.training.archive import BoundedTree, bounded_lines, check_bounds, too_big


def _zip(path: Path, entries: dict[str, bytes], method=zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", method) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return path


def test_sizes_are_said_in_the_units_a_person_reads():
    e = too_big("d.zip", "a.jpg", 500, 999)
    assert e.message == "d.zip: a.jpg is 500 bytes, more than a dataset file may be (999 bytes)."
    assert "expected class folders" in e.hint
    assert "2.5 kB" in too_big("d", "a", 2500, 1).message
    assert "(3.0 MB)" in too_big("d", "a", 1, 3 * 10**6).message
    assert "is 17.2 GB" in too_big("d", "a", 17_200_000_000, 1).message
    assert "is 4000.0 GB" in too_big("d", "a", 4 * 10**12, 1).message  # no unit past GB


def test_a_folder_lists_its_files_and_reads_each_within_its_bound(tmp_path, monkeypatch):
    (tmp_path / "train" / "happy").mkdir(parents=True)
    (tmp_path / "train" / "happy" / "a.jpg").write_bytes(b"x" * 100)
    (tmp_path / "labels.CSV").write_bytes(b"y" * 300)
    tree = BoundedTree(tmp_path)
    assert tree.zip is None
    assert sorted(tree.files) == ["labels.CSV", "train/happy/a.jpg"]
    monkeypatch.setattr(archive, "MAX_IMAGE_BYTES", 100)
    monkeypatch.setattr(archive, "MAX_CSV_BYTES", 300)
    assert tree.read("train/happy/a.jpg") == b"x" * 100  # at the bound: read
    assert tree.read("labels.CSV") == b"y" * 300  # a CSV has its own, larger bound
    monkeypatch.setattr(archive, "MAX_IMAGE_BYTES", 99)
    with pytest.raises(UserError, match=r"a\.jpg is 100 bytes, more than .* \(99 bytes\)"):
        tree.read("train/happy/a.jpg")
    monkeypatch.setattr(archive, "MAX_CSV_BYTES", 299)
    with pytest.raises(UserError, match="labels.CSV is 300 bytes"):
        tree.read("labels.CSV")
    with pytest.raises(UserError, match="labels.CSV is 300 bytes"):
        tree.open_text("labels.CSV")  # streamed, but still bounded by the file's size


def test_a_zip_entry_over_its_bound_is_refused_before_anything_is_read(tmp_path, monkeypatch):
    z = _zip(tmp_path / "d.zip", {"train/happy/a.jpg": os.urandom(200), "l.csv": b"1,2\n" * 100})
    monkeypatch.setattr(archive, "MAX_IMAGE_BYTES", 200)
    monkeypatch.setattr(archive, "MAX_CSV_BYTES", 400)
    tree = BoundedTree(z)
    assert sorted(tree.files) == ["l.csv", "train/happy/a.jpg"]
    assert len(tree.read("train/happy/a.jpg")) == 200
    assert tree.open_text("l.csv").read() == "1,2\n" * 100
    monkeypatch.setattr(archive, "MAX_IMAGE_BYTES", 199)
    with pytest.raises(UserError, match=r"d\.zip: train/happy/a\.jpg is 200 bytes"):
        BoundedTree(z)


def test_a_zip_whose_header_lies_about_a_size_is_cut_at_the_bound(tmp_path, monkeypatch):
    """The directory is checked when the tree opens; what is read is bounded again, whatever
    the archive declares (here the bound drops after the tree opened, as a lying header would
    make the data longer than the directory said)."""
    z = _zip(tmp_path / "d.zip", {"a.jpg": os.urandom(300)})
    tree = BoundedTree(z)
    monkeypatch.setattr(archive, "MAX_IMAGE_BYTES", 299)
    with pytest.raises(UserError, match="a.jpg is 300 bytes"):
        tree.read("a.jpg")


def test_a_zip_bomb_is_refused_by_its_compression_ratio(tmp_path):
    bomb = _zip(tmp_path / "bomb.zip", {"a.csv": b"0" * (2 * 2**20)})  # 2 MB of zeros: ~1000x
    with pytest.raises(UserError, match=r"a\.csv would unpack \d+ times larger") as info:
        BoundedTree(bomb)
    assert "zip bomb" in info.value.hint
    with pytest.raises(UserError, match="times larger"):
        check_bounds(bomb)  # the trainer's cheap check before torch
    small = _zip(tmp_path / "small.zip", {"a.csv": b"0" * (2**20)})  # very compressible but 1 MB
    assert BoundedTree(small).files == ["a.csv"]
    plain = _zip(tmp_path / "plain.zip", {"a.csv": os.urandom(2 * 2**20)})  # large, ratio ~1
    assert BoundedTree(plain).files == ["a.csv"]


def test_the_ratio_bound_is_the_documented_one(tmp_path, monkeypatch):
    data = b"0" * (2 * 2**20)
    ratio = (
        len(data)
        / zipfile.ZipFile(_zip(tmp_path / "r.zip", {"a.csv": data})).infolist()[0].compress_size
    )
    monkeypatch.setattr(archive, "MAX_RATIO", ratio)  # exactly at the bound: accepted
    BoundedTree(tmp_path / "r.zip")
    monkeypatch.setattr(archive, "MAX_RATIO", ratio - 1)
    with pytest.raises(UserError):
        BoundedTree(tmp_path / "r.zip")


def test_a_zip_that_unpacks_to_more_than_the_total_bound_is_refused(tmp_path, monkeypatch):
    z = _zip(tmp_path / "d.zip", {f"train/happy/{i}.jpg": os.urandom(1000) for i in range(3)})
    monkeypatch.setattr(archive, "MAX_TOTAL_BYTES", 3000)
    assert len(BoundedTree(z).files) == 3  # at the bound
    monkeypatch.setattr(archive, "MAX_TOTAL_BYTES", 2999)
    with pytest.raises(
        UserError, match=r"d\.zip unpacks to 3\.0 kB, more than a dataset may be \(3\.0 kB\)"
    ):
        BoundedTree(z)


def test_a_file_that_is_not_a_zip_says_so(tmp_path):
    bad = tmp_path / "d.zip"
    bad.write_bytes(b"not a zip at all")
    with pytest.raises(UserError, match=r"d\.zip is not a readable zip archive") as info:
        BoundedTree(bad)
    assert "Choose a dataset folder or zip" in info.value.hint


def test_lines_are_read_with_a_bound_and_a_line_at_the_bound_passes(monkeypatch):
    monkeypatch.setattr(archive, "MAX_CSV_FIELD", 10)
    text = io.StringIO("a,b\n" + "x" * 9 + "\n" + "last")
    assert list(bounded_lines(text, "f.csv")) == ["a,b\n", "x" * 9 + "\n", "last"]
    with pytest.raises(UserError, match=r"f\.csv has a line longer than 10 bytes"):
        list(bounded_lines(io.StringIO("a\n" + "x" * 50 + "\n"), "f.csv"))
    assert list(bounded_lines(io.StringIO("x" * 10), "f.csv")) == ["x" * 10]  # at the bound


def test_check_bounds_refuses_a_csv_over_its_bound_and_passes_a_folder(tmp_path, monkeypatch):
    csv = tmp_path / "fer2013.csv"
    csv.write_bytes(b"e,p\n" * 10)
    monkeypatch.setattr(archive, "MAX_CSV_BYTES", 40)
    check_bounds(csv)  # at the bound
    monkeypatch.setattr(archive, "MAX_CSV_BYTES", 39)
    with pytest.raises(UserError, match="fer2013.csv is 40 bytes"):
        check_bounds(csv)
    check_bounds(tmp_path)  # a folder: its files are bounded when read
    monkeypatch.setattr(archive, "MAX_IMAGE_BYTES", 10)
    z = _zip(tmp_path / "d.ZIP", {"a.jpg": os.urandom(11)})
    with pytest.raises(UserError, match="a.jpg is 11 bytes"):
        check_bounds(z)  # the suffix in any case


def test_a_folder_csv_is_streamed_as_utf8_with_its_line_ends_and_bad_bytes_replaced(
    tmp_path, monkeypatch
):
    (tmp_path / "fer2013.csv").write_bytes(b"emotion,pixels\r\n3,1 2\xff\r\n")
    text = BoundedTree(tmp_path).open_text("fer2013.csv")
    assert text.read() == "emotion,pixels\r\n3,1 2\ufffd\r\n"  # csv needs the \r\n as they are
    text.close()
    monkeypatch.setattr(archive, "MAX_CSV_BYTES", (tmp_path / "fer2013.csv").stat().st_size)
    BoundedTree(tmp_path).open_text("fer2013.csv").close()  # at the bound


def test_each_refusal_names_the_dataset_and_says_what_was_expected(tmp_path, monkeypatch):
    assert "is 999 bytes" in too_big("d", "a", 999, 1000).message  # under 1000: bytes
    assert "is 1.0 kB" in too_big("d", "a", 1000, 1).message
    monkeypatch.setattr(archive, "MAX_TOTAL_BYTES", 10)
    z = _zip(tmp_path / "set.zip", {"a.jpg": os.urandom(20)})
    with pytest.raises(UserError) as info:
        BoundedTree(z)
    assert info.value.message.startswith("set.zip ") and info.value.hint.startswith("Expected ")
    monkeypatch.setattr(archive, "MAX_CSV_FIELD", 4)
    with pytest.raises(UserError) as info:
        list(bounded_lines(io.StringIO("123456789\n"), "f.csv"))
    assert info.value.hint.startswith("Expected ")
    (tmp_path / "big.csv").write_bytes(b"x" * 50)
    monkeypatch.setattr(archive, "MAX_CSV_BYTES", 10)
    for call in (lambda: check_bounds(tmp_path / "big.csv"),
                 lambda: BoundedTree(tmp_path).open_text("big.csv"),
                 lambda: BoundedTree(tmp_path).read("big.csv")):  # fmt: skip
        with pytest.raises(UserError) as info:
            call()
        assert info.value.message.startswith(
            ("big.csv: big.csv is", f"{tmp_path.name}: big.csv is")
        )
