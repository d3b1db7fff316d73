"""Slow: build the PyInstaller bundle from build.spec and run it away from the source tree.

Run with `pytest -q -m slow` (deselected by default). Needs PyInstaller (`pip install -e ".[build]"`),
a few GB of free space in the temp folder and several minutes. The bundle runs with a clean
environment (no PYTHONPATH / VIRTUAL_ENV, PATH=/usr/bin:/bin, an empty HOME, cwd a temp dir), so it
can only use what it ships.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[2] / "shared"
PHOTO = SHARED / "testdata" / "faces" / "two_people.jpg"
DATASET = SHARED / "datasets" / "fer2013.zip"
EXE = "fer-desktop.exe" if sys.platform == "win32" else "fer-desktop"
BUILD_TIMEOUT = 60 * 60  # a cold build copies ~3.5 GB of torch/CUDA libraries
RUN_TIMEOUT = 10 * 60


def _tail(text: str, n: int = 60) -> str:
    return "\n".join((text or "").splitlines()[-n:])


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Iterator[Path]:
    """Build dist/fer-desktop into a temp folder, move it away from the build, yield the exe."""
    if importlib.util.find_spec("PyInstaller") is None:
        pytest.skip(
            "PyInstaller is not installed (pip install -e '.[build]'); cannot build the bundle"
        )
    tmp = tmp_path_factory.mktemp("bundle")
    assert REPO not in tmp.parents, "the bundle must be built outside the source tree"
    cmd = [
        sys.executable,
        "-m",
        "PyInstaller",
        str(REPO / "build.spec"),
        "--distpath",
        str(tmp / "dist"),
        "--workpath",
        str(tmp / "build"),
        "--noconfirm",
    ]
    proc = subprocess.run(
        cmd, check=False, cwd=REPO, capture_output=True, text=True, timeout=BUILD_TIMEOUT
    )
    assert proc.returncode == 0, f"PyInstaller failed ({proc.returncode}):\n{_tail(proc.stderr)}"
    built = tmp / "dist" / "fer-desktop"
    assert (built / EXE).is_file(), f"no {EXE} in {built}"
    shutil.rmtree(tmp / "build", ignore_errors=True)
    # Away from the dist/build folders (a rename: copying ~3.5 GB would double the disk use).
    away = tmp_path_factory.mktemp("installed") / "fer-desktop"
    shutil.move(str(built), str(away))
    yield away / EXE
    shutil.rmtree(tmp, ignore_errors=True)  # ~3.5 GB: do not leave it in pytest's kept temp dirs
    shutil.rmtree(away.parent, ignore_errors=True)


def _clean_env(home: Path) -> dict[str, str]:
    home.mkdir(parents=True, exist_ok=True)
    env = {
        "HOME": str(home),
        "QT_QPA_PLATFORM": "offscreen",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "HF_HUB_OFFLINE": "1",
    }
    if sys.platform == "win32":
        root = os.environ.get("SYSTEMROOT", r"C:\Windows")
        env.update(
            {
                "SYSTEMROOT": root,
                "PATH": rf"{root}\System32;{root}",
                "USERPROFILE": str(home),
                "APPDATA": str(home / "AppData" / "Roaming"),
                "TEMP": str(home),
                "TMP": str(home),
            }
        )
        del env["LANG"], env["LC_ALL"]
    else:
        env["PATH"] = "/usr/bin:/bin"
    return env  # deliberately no PYTHONPATH, VIRTUAL_ENV, PYTHONHOME, DISPLAY


def _run(exe: Path, args: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    cwd = tmp_path / "cwd"
    cwd.mkdir(exist_ok=True)
    return subprocess.run(
        [str(exe), *args],
        check=False,
        cwd=cwd,
        env=_clean_env(tmp_path / "home"),
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=RUN_TIMEOUT,
    )


def _json(stdout: str):
    starts = [i for i in (stdout.find("{"), stdout.find("[")) if i >= 0]
    assert starts, f"no JSON on stdout:\n{_tail(stdout)}"
    return json.loads(stdout[min(starts) :])


def test_bundle_self_test(bundle: Path, tmp_path: Path) -> None:
    proc = _run(bundle, ["--self-test"], tmp_path)
    assert proc.returncode == 0, (
        f"--self-test exited {proc.returncode}:\n{proc.stdout}\n{_tail(proc.stderr)}"
    )
    report = _json(proc.stdout)
    assert report["ok"] is True, report
    assert report["frozen"] is True, "the self-test did not run from the frozen bundle"
    assert Path(report["resources"]).resolve().is_relative_to(bundle.parent.resolve()), report[
        "resources"
    ]
    assert report["missing"] == []
    checks = report["checks"]
    assert checks["sample_faces"], "no face found on the shipped sample image"
    assert checks["annotated_bytes"] > 0
    assert checks["qt_platform"] == "offscreen"
    assert checks["training"] == "importable"


def test_bundle_annotates_a_photo(bundle: Path, tmp_path: Path) -> None:
    if not PHOTO.is_file():
        pytest.skip(f"test photo {PHOTO} not found (needs the shared test data next to the repo)")
    out = tmp_path / "annotated"
    proc = _run(bundle, ["annotate", str(PHOTO), "--json", "-o", str(out)], tmp_path)
    assert proc.returncode == 0, (
        f"annotate exited {proc.returncode}:\n{proc.stdout}\n{_tail(proc.stderr)}"
    )
    (entry,) = _json(proc.stdout)
    assert entry["error"] is None, entry
    assert len(entry["faces"]) >= 1, entry
    face = entry["faces"][0]
    assert set(face) >= {"box", "label", "confidence", "emoji", "probabilities"}
    annotated = Path(entry["annotated"])
    assert annotated.is_file() and annotated.stat().st_size > 0
    assert annotated.parent == out


def test_bundle_trains_as_a_subprocess_of_itself(bundle: Path, tmp_path: Path) -> None:
    """The GUI starts training as `<bundle exe> train ...`: one tiny epoch must finish."""
    if not DATASET.is_file():
        pytest.skip(f"dataset {DATASET} not found (needs the shared data next to the repo)")
    run_dir = tmp_path / "run"
    proc = _run(
        bundle,
        [
            "train",
            "--data",
            str(DATASET),
            "--arch",
            "simple_cnn",
            "--epochs",
            "1",
            "--limit",
            "100",
            "--out",
            str(run_dir),
        ],
        tmp_path,
    )
    assert proc.returncode == 0, (
        f"train exited {proc.returncode}:\n{_tail(proc.stdout)}\n{_tail(proc.stderr)}"
    )
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert events and events[-1]["event"] == "finished", _tail(proc.stdout)
    assert Path(events[-1]["best_checkpoint"]).is_file()
