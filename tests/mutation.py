"""Mutation testing of the core logic (issue 33): each module against its own tests, with mutmut.

    python tests/mutation.py                      # the seven modules of the table below
    python tests/mutation.py core/emotions.py     # one module (path under fer_desktop/)
    python tests/mutation.py core/emotions.py --tests tests/unit/test_emotions.py
    python tests/mutation.py core/emotions.py --show   # the survivors' diffs after the run

Each run copies the checkout (working tree, uncommitted changes included) into a scratch folder
beside it (`../.mutation/<module>/`, never inside the repository), writes a `[tool.mutmut]`
section that mutates that one module and runs only its tests, runs `mutmut run` there and prints
`module  mutants  killed  score`. It needs `pip install mutmut` (not a project dependency: this is
a developer's command, not CI, which it would slow by an hour). Docs: docs/development.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCRATCH = REPO.parent / ".mutation"

# Each module with the tests that pin its documented behaviour.
MODULES: dict[str, list[str]] = {
    "core/pipeline/tracking.py": [
        "tests/unit/test_tracking.py", "tests/unit/test_tracking_rules.py",
        "tests/unit/test_label_hold.py",
    ],
    "core/classify/crops.py": ["tests/unit/test_crops.py", "tests/unit/test_pipeline.py"],
    "core/sessions/segments.py": ["tests/unit/test_segments.py", "tests/unit/test_safety_round2.py"],
    "core/sessions/figures.py": ["tests/unit/test_segments.py", "tests/unit/test_recording.py"],
    "core/emotions.py": [
        "tests/unit/test_emotions.py", "tests/unit/test_pipeline.py", "tests/unit/test_overlay.py",
    ],
    "core/training/archive.py": ["tests/unit/test_archive.py", "tests/unit/test_datasets.py"],
    "core/support/fileio.py": ["tests/unit/test_fileio.py", "tests/unit/test_safety_round2.py"],
    "core/jobs/layout.py": [
        "tests/unit/test_job_layout.py", "tests/unit/test_job_inputs.py",
        "tests/unit/test_safety_round2.py",
    ],
}  # fmt: skip

COPY = ("fer_desktop", "training", "tests", "resources", "pyproject.toml")


def _section(module: str, tests: list[str]) -> str:
    args = json.dumps(tests + ["-p", "no:cacheprovider", "-x", "-q"])
    return (
        "\n[tool.mutmut]\n"
        'source_paths = ["fer_desktop"]\n'
        f'only_mutate = ["fer_desktop/{module}"]\n'
        'also_copy = ["training", "resources"]\n'
        f"pytest_add_cli_args_test_selection = {args}\n"
    )


def _prepare(module: str, tests: list[str]) -> Path:
    work = SCRATCH / module.replace("/", "_").removesuffix(".py")
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "mutants")
    for name in COPY:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, work / name, ignore=ignore, symlinks=True)
        else:
            shutil.copy2(src, work / name)
    pyproject = (work / "pyproject.toml").read_text(encoding="utf-8")
    pyproject = re.sub(r"\n\[tool\.mutmut\][^\[]*", "\n", pyproject)
    (work / "pyproject.toml").write_text(pyproject + _section(module, tests), encoding="utf-8")
    return work


def _results(work: Path) -> dict[str, str]:
    """Mutant name -> status, from mutmut's own results listing."""
    out = subprocess.run(
        [sys.executable, "-m", "mutmut", "results", "--all", "true"],
        cwd=work, capture_output=True, text=True, check=False,
    ).stdout  # fmt: skip
    status = {}
    for line in out.splitlines():
        name, sep, state = line.strip().rpartition(": ")
        if sep and name:
            status[name] = state.strip()
    return status


def run(module: str, tests: list[str], show: bool) -> tuple[int, int]:
    work = _prepare(module, tests)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", FER_SHARED_DIR=str(REPO.parent / "shared"))
    subprocess.run([sys.executable, "-m", "mutmut", "run"], cwd=work, env=env, check=False,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    status = _results(work)
    total = len(status)
    killed = sum(1 for s in status.values() if s in ("killed", "timeout", "segfault"))
    survivors = sorted(n for n, s in status.items() if s not in ("killed", "timeout", "segfault"))
    score = 100.0 * killed / total if total else 0.0
    print(f"{module:32s} {total:5d} {killed:5d} {score:5.0f}%", flush=True)
    for name in survivors:
        print(f"    survived: {name} ({status[name]})")
        if show:
            subprocess.run([sys.executable, "-m", "mutmut", "show", name], cwd=work, check=False)
    return total, killed


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("modules", nargs="*", help="paths under fer_desktop/ (default: the table)")
    p.add_argument("--tests", nargs="+", help="the tests to run (default: the module's own)")
    p.add_argument("--show", action="store_true", help="print each survivor's diff")
    a = p.parse_args()
    modules = a.modules or list(MODULES)
    print(f"{'module':32s} {'mutants':>5s} {'killed':>5s} score")
    for module in modules:
        tests = a.tests or MODULES.get(module)
        if not tests:
            p.error(f"no tests known for {module}: give --tests")
        run(module, [t for t in tests if (REPO / t).exists()], a.show)


if __name__ == "__main__":
    main()
