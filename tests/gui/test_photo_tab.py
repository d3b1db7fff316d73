"""The Photos tab: real photos through the real pipeline, bad files, saving, drag and drop."""

from __future__ import annotations

import csv
import hashlib
import shutil
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDropEvent

from fer_desktop.core.emotions import CLASSES
from fer_desktop.core.settings import Settings
from fer_desktop.ui.photos.tab import PhotoTab
from fer_desktop.ui.prob_bars import ProbabilityBars, emoji_pixmap

LOAD_MS = 90_000


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def last_error(widget) -> str:
    return getattr(widget.window(), "last_error", "")


@pytest.fixture
def tab(qtbot):
    t = PhotoTab(settings=Settings(detector="yunet", device="cpu"))
    qtbot.addWidget(t)
    t.resize(1200, 700)
    t.show()
    yield t
    t.shutdown()
    t.wait(10)


@pytest.fixture
def photos_dir(testdata, tmp_path) -> Path:
    d = tmp_path / "photos"
    d.mkdir()
    shutil.copy(testdata / "faces" / "two_people.jpg", d / "two_people.jpg")
    return d


def add_and_wait(qtbot, tab, paths):
    with qtbot.waitSignal(tab.batch_finished, timeout=LOAD_MS):
        tab.add_paths(paths)


def test_two_people_shows_two_faces_and_bars(tab, photos_dir, qtbot):
    add_and_wait(qtbot, tab, [photos_dir / "two_people.jpg"])
    e = tab.entries[0]
    assert e.status == "done" and len(e.result.faces) == 2
    assert tab.current_entry is e
    assert "2 faces" in tab.list.item(0).text()
    values = tab.bars.values()
    assert set(values) == set(CLASSES) and sum(values.values()) == pytest.approx(1.0, abs=1e-3)
    assert tab.faces_label.text().count("Face ") == 2
    # The view shows the overlay on a display-sized copy.
    shown = tab.view.displayed_image
    assert shown is not None and not np.array_equal(shown, e.display)
    # Clicking the other face selects it: the bars follow.
    other = min(e.display_faces, key=lambda f: f.area)
    x1, y1, x2, y2 = other.box
    r = tab.view.image_rect()
    s = r.width() / e.display.shape[1]
    pos = QPoint(round(r.x() + (x1 + x2) / 2 * s), round(r.y() + (y1 + y2) / 2 * s))
    qtbot.mouseClick(tab.view, Qt.MouseButton.LeftButton, pos=pos)
    assert tab.selected_face == other.track_id
    assert tab.bars.title.startswith(f"Face {other.track_id}:")
    assert sorted(f.track_id for f in e.result.faces) == [1, 2]  # numbered from 1, as live


def test_save_writes_copies_and_csv_and_never_overwrites(
    tab, photos_dir, testdata, tmp_path, qtbot
):
    shutil.copy(testdata / "faces" / "obama.jpg", photos_dir / "obama.jpg")
    originals = {p: sha(p) for p in photos_dir.iterdir()}
    add_and_wait(qtbot, tab, [photos_dir])  # a folder
    assert len(tab.entries) == 2 and all(e.status == "done" for e in tab.entries)
    out = tmp_path / "out"
    with qtbot.waitSignal(tab.saved, timeout=30_000) as sig:
        tab.save_to(out)
    first = sig.args[0]
    names = sorted(p.name for p in first)
    assert names == ["faces.csv", "obama_annotated.jpg", "two_people_annotated.jpg"]
    with (out / "faces.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert sorted((r["image"], r["face"]) for r in rows) == [
        ("obama.jpg", "1"),
        ("two_people.jpg", "1"),
        ("two_people.jpg", "2"),
    ]
    assert all(r["emoji"] for r in rows)
    annotated = cv2.imread(str(out / "two_people_annotated.jpg"))
    assert (
        annotated.shape == cv2.imread(str(photos_dir / "two_people.jpg")).shape
    )  # full resolution
    first_hashes = {p: sha(p) for p in first}
    with qtbot.waitSignal(tab.saved, timeout=30_000) as sig:
        tab.save_to(out)  # again, same folder
    second = sig.args[0]
    assert not set(second) & set(first)
    assert {p.name for p in second} == {
        "faces-1.csv",
        "obama_annotated-1.jpg",
        "two_people_annotated-1.jpg",
    }
    assert {p: sha(p) for p in first} == first_hashes  # earlier outputs untouched
    assert {p: sha(p) for p in originals} == originals  # originals untouched
    with qtbot.waitSignal(tab.saved, timeout=30_000) as sig:
        tab.save_to(photos_dir)  # saving next to the originals still never touches them
    assert {p: sha(p) for p in originals} == originals


def test_bad_files_get_a_message_each_and_the_others_are_processed(
    tab, photos_dir, testdata, qtbot
):
    truncated = photos_dir / "truncated.jpg"
    truncated.write_bytes((testdata / "faces" / "obama.jpg").read_bytes()[:100])
    text = photos_dir / "notes.jpg"
    text.write_text("shopping list: milk, eggs\n")
    black = photos_dir / "black.png"
    cv2.imwrite(str(black), np.zeros((240, 320, 3), np.uint8))
    paths = [truncated, text, photos_dir / "two_people.jpg", black]
    add_and_wait(qtbot, tab, paths)
    by_name = {e.path.name: e for e in tab.entries}
    assert by_name["truncated.jpg"].status == "failed" and by_name["notes.jpg"].status == "failed"
    assert (
        by_name["two_people.jpg"].status == "done"
        and len(by_name["two_people.jpg"].result.faces) == 2
    )
    assert by_name["black.png"].status == "done" and by_name["black.png"].result.faces == []
    for i, e in enumerate(tab.entries):  # every file says what happened to it in the list
        assert e.path.name in tab.list.item(i).text()
    assert "not a readable image" in tab.list.item(0).text()
    assert "No face found" in tab.list.item(3).text()
    err = last_error(tab)  # one summary message naming both bad files
    assert "truncated.jpg" in err and "notes.jpg" in err and "2 files could not be used" in err
    assert err.splitlines()[0].startswith("2 files could not be used, e.g. ")  # never a bare colon
    assert "two_people" not in err and "black.png" not in err
    # The no-face image shows "No face found" on the image itself (white banner text).
    tab.list.setCurrentRow(3)
    shown = tab.view.displayed_image
    assert shown[:30, :150].max() > 200 and tab.bars.title == "No face found"
    tab.list.setCurrentRow(0)
    assert tab.view.displayed_image is None and "not a readable image" in tab.view.placeholder


def test_drop_a_folder(tab, photos_dir, qtbot):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(photos_dir))])
    event = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    with qtbot.waitSignal(tab.batch_finished, timeout=LOAD_MS):
        tab.dropEvent(event)
    assert [e.path.name for e in tab.entries] == ["two_people.jpg"]


def test_bad_model_fails_every_pending_photo_with_a_message(qtbot, photos_dir, tmp_path):
    bad = tmp_path / "broken.pt"
    bad.write_bytes(b"garbage")
    tab = PhotoTab(settings=Settings(detector="yunet", device="cpu", model=str(bad)))
    qtbot.addWidget(tab)
    tab.add_paths([photos_dir / "two_people.jpg"])
    qtbot.waitUntil(lambda: "broken.pt" in last_error(tab), timeout=LOAD_MS)
    assert tab.entries[0].status == "failed"


def test_probability_bars_paint_colours_and_emoji(qtbot):
    bars = ProbabilityBars()
    qtbot.addWidget(bars)
    bars.resize(300, bars.height())
    bars.show()
    blank = bars.grab().toImage()
    bars.set_probabilities(
        {c: (0.7 if c == "happy" else 0.05) for c in CLASSES}, "Face 1: happy 70%"
    )
    img = bars.grab().toImage()
    assert img != blank
    # the happy bar (yellow, BGR 0,200,255) is drawn
    yellow = sum(
        1
        for x in range(img.width())
        for y in range(0, img.height(), 2)
        if (c := img.pixelColor(x, y)).red() > 240 and 185 < c.green() < 215 and c.blue() < 30
    )
    assert yellow > 100
    assert all(not emoji_pixmap(c).isNull() for c in CLASSES)


def test_a_20_megapixel_photo_does_not_freeze_the_window(tab, testdata, tmp_path, qtbot):
    big = tmp_path / "big_20mp.jpg"
    src = cv2.imread(str(testdata / "faces" / "obama.jpg"))
    cv2.imwrite(str(big), cv2.resize(src, (3900, 5130), interpolation=cv2.INTER_CUBIC))  # 20 MP
    # Load the model first: this test is about processing the photo.
    add_and_wait(qtbot, tab, [testdata / "faces" / "obama-240p.jpg"])
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(20)
    with qtbot.waitSignal(tab.batch_finished, timeout=LOAD_MS):
        tab.add_paths([big])
    timer.stop()
    entry = tab.entries[-1]
    assert entry.status == "done" and len(entry.result.faces) == 1
    assert max(entry.display.shape[:2]) == 2048  # only a display-sized copy is kept
    _, _, x2, y2 = entry.result.faces[0].box
    assert x2 > 2048 or y2 > 2048  # the result is in full-resolution pixels
    gaps = np.diff(ticks)
    print(f"longest GUI pause while processing 20 MP: {gaps.max():.3f} s")
    assert len(ticks) > 5 and gaps.max() < 0.4, f"GUI blocked for {gaps.max():.2f} s"
