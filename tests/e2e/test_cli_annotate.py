"""`fer-desktop annotate` as a new user meets it: folders, photos without faces, errors on stderr."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from shared_paths import FACES

needs_faces = pytest.mark.skipif(not FACES.is_dir(), reason=f"test photos not found at {FACES}")


def _annotate(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "fer_desktop", "annotate", *args],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip


@needs_faces
def test_folder_no_face_and_bad_file(tmp_path):
    src = tmp_path / "photos"
    src.mkdir()
    shutil.copy(FACES / "obama-240p.jpg", src / "face.jpg")
    blank = src / "blank.png"
    import cv2
    import numpy as np

    cv2.imwrite(str(blank), np.full((200, 300, 3), 200, np.uint8))  # a photo without a face
    (src / "broken.jpg").write_bytes(b"not a jpeg at all")
    out = tmp_path / "out"

    r = _annotate(str(src), "-o", str(out))  # a folder, as the Photos tab takes
    assert r.returncode == 1, r.stderr[-2000:]  # a file failed: the exit code says so
    assert "1 of 3 file(s) could not be used" in r.stderr
    assert "face.jpg: 1 face(s)" in r.stdout
    # errors and "no face" go to stderr, not into the results on stdout
    assert "blank.png: No face found" in r.stderr and "blank.png" not in r.stdout
    assert "broken.jpg" in r.stderr and "broken.jpg" not in r.stdout
    assert sorted(p.name for p in out.iterdir()) == ["face_annotated.jpg"]  # no copy without a face

    r = _annotate(str(src), "--json", "--no-save")
    entries = {e["image"].rsplit("/", 1)[-1]: e for e in json.loads(r.stdout)}
    assert set(entries) == {"face.jpg", "blank.png", "broken.jpg"}
    assert len(entries["face.jpg"]["faces"]) == 1 and entries["face.jpg"]["error"] is None
    assert entries["blank.png"]["faces"] == [] and "No face" in entries["blank.png"]["error"]
    assert entries["broken.jpg"]["error"]


def test_empty_folder_is_a_clear_error(tmp_path):
    r = _annotate(str(tmp_path))
    assert r.returncode == 1 and "No images found" in r.stderr
