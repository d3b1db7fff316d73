"""The Python API (docs/api.md): its example runs as written, on the shared files, and importing
it loads no Qt (issue 30)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from shared_paths import FACES, SHARED, TESTDATA, VIDEOS

ROOT = Path(__file__).resolve().parents[2]


def _example() -> str:
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    (code,) = re.findall(r"```python\n(.*?)```", text, re.S)
    return code


@pytest.mark.skipif(not (FACES / "obama.jpg").is_file() or not VIDEOS.is_dir(),
                    reason=f"the shared sample files are not at {SHARED}")  # fmt: skip
def test_the_documented_example_runs_as_written(tmp_path, monkeypatch):
    pytest.importorskip("pandas")
    code = _example().replace('Path("../shared/testdata")', f"Path({str(TESTDATA)!r})")
    monkeypatch.chdir(tmp_path)  # the example's session folder lands here
    monkeypatch.setenv("FER_DESKTOP_HOME", str(tmp_path / "home"))
    scope: dict = {}
    exec(compile(code, "docs/api.md", "exec"), scope)  # the repository's own doc
    assert (tmp_path / "talking-session" / "faces.csv").is_file()
    table = scope["table"]
    assert len(table) > 30 and table["track_id"].nunique() == 1  # 4.5 s, every 3rd frame
    assert table["happy"].between(0, 1).all() and "valence" in table.columns


def test_the_api_imports_no_qt_and_no_torch():
    code = (
        "import sys, fer_desktop\n"
        "from fer_desktop import Analyzer, Face, analyze_image, analyze_video, read_faces\n"
        "bad = [m for m in sys.modules if m.startswith(('PySide6', 'shiboken6', 'torch'))]\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


def test_a_bad_setting_and_a_folder_that_is_no_session_say_so(tmp_path):
    from fer_desktop import Analyzer, read_faces
    from fer_desktop.core.support.errors import UserError

    with pytest.raises(UserError, match="threshold"):
        Analyzer({"threshold": "high"})
    with pytest.raises(UserError):
        read_faces(tmp_path)
