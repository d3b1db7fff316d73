"""Where the shared real data lies: ../shared beside the checkout, as CI lays it out.

Tests that need a file skip with a clear reason when it is absent (a user's own clone)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# FER_SHARED_DIR: where tests/mutation.py's scratch copies find it (they are not beside it)
SHARED = Path(os.environ.get("FER_SHARED_DIR") or REPO.parent / "shared")
FER_ZIP = SHARED / "datasets" / "fer2013.zip"
TESTDATA = SHARED / "testdata"
FACES = TESTDATA / "faces"
MODELS = SHARED / "models"

needs_fer_zip = pytest.mark.skipif(
    not FER_ZIP.is_file(), reason=f"FER2013 zip not found at {FER_ZIP} (../shared beside the repo)"
)
CK_ZIP = SHARED / "datasets" / "ckplus48.zip"
FERPLUS_ZIP = SHARED / "datasets" / "ferplus.zip"
VIDEOS = TESTDATA / "videos"

needs_ck_zip = pytest.mark.skipif(
    not CK_ZIP.is_file(), reason=f"CK+ zip not found at {CK_ZIP} (../shared beside the repo)"
)
