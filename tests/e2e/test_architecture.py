"""Layering rules and one-implementation rules.

The core and the trainer never import Qt (checked in a fresh interpreter with Qt blocked); the
import-linter contracts in pyproject.toml hold; shared logic exists once.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from shared_paths import REPO

ROOT = REPO

BLOCK_QT = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('PySide6', 'PyQt5', 'PyQt6', 'shiboken6', 'qtpy', 'superqt',
                                  'pyqtgraph'):
            raise ImportError('Qt imported from the core: ' + name)
sys.meta_path.insert(0, Block())
import pkgutil, importlib, fer_desktop.core as core, fer_training
mods = [m.name for m in pkgutil.walk_packages(core.__path__, 'fer_desktop.core.')]
mods += [m.name for m in pkgutil.walk_packages(fer_training.__path__, 'fer_training.')]
for m in [m for m in mods if not m.endswith('__main__')]:
    importlib.import_module(m)
print(len(mods))
"""


def test_core_and_training_never_import_qt():
    r = subprocess.run(
        [sys.executable, "-c", BLOCK_QT], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert int(r.stdout.strip().splitlines()[-1]) >= 15  # really walked the modules


def test_training_does_not_use_generic_top_level_name():
    import fer_training

    assert Path(fer_training.__file__).parent.name == "fer_training"


def test_import_linter_contracts_hold():
    """core/training Qt-free, workers without ui, no fer_desktop <-> fer_training cycle."""
    exe = Path(sys.executable).with_name("lint-imports")
    r = subprocess.run([str(exe)], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert " 0 broken" in r.stdout
    import tomllib

    names = [
        c["name"]
        for c in tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"][
            "contracts"
        ]
    ]
    assert len(names) >= 6 and all(f"{n} KEPT" in r.stdout for n in names), r.stdout[-2000:]


def _sources() -> dict[str, str]:
    files = list((ROOT / "fer_desktop").rglob("*.py")) + list((ROOT / "training").rglob("*.py"))
    return {str(f.relative_to(ROOT)): f.read_text(encoding="utf-8") for f in files}


def _where(pattern: str) -> list[str]:
    import re

    rx = re.compile(pattern, re.M)
    return sorted(name for name, text in _sources().items() if rx.search(text))


def _overlaps(text: str) -> list[str]:
    """Functions that compute a box overlap, whatever their name: `min(..) - max(..)` (or
    np.minimum - np.maximum) twice in one function, the x and y extents of an intersection."""
    import ast

    def is_call(node, names) -> bool:
        f = node.func if isinstance(node, ast.Call) else None
        name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
        return name in names

    found = []
    for fn in ast.walk(ast.parse(text)):
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            subs = [n for n in ast.walk(fn) if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Sub)
                    and is_call(n.left, ("min", "minimum")) and is_call(n.right, ("max", "maximum"))]  # fmt: skip
            if len(subs) >= 2:
                found.append(fn.name)
    return found


def _image_extension_lists(text: str) -> int:
    import re

    return len(re.findall(r"[\(\[{][^\)\]}]*[\"']\.jpe?g[\"'][^\)\]}]*[\"']\.png[\"']", text, re.S))


def test_shared_logic_exists_once():
    """One IoU, one list of image extensions, one confusion matrix: found by what the code
    does, not by its name (issue 33: a second IoU under another name passed the old check)."""
    overlaps = {name: fns for name, text in _sources().items() if (fns := _overlaps(text))}
    assert overlaps == {"fer_desktop/core/geometry.py": ["iou"]}
    lists = {name: n for name, text in _sources().items() if (n := _image_extension_lists(text))}
    assert lists == {"fer_desktop/core/support/image_files.py": 2}  # read, and saved as
    assert _where(r"np\.bincount\(.*\* ?k|\[\s*\w+\s*,\s*\w+\s*\]\s*\+=\s*1\b") == [
        "fer_desktop/core/training/metrics.py"
    ]  # confusion matrix
    # One look for confusion matrices: both renderers take their colours from core.heatmap.
    assert _where(r"^def (heat_colour|heat_rgb)\(") == ["fer_desktop/core/render/heatmap.py"]
    for user in ("fer_desktop/ui/training/confusion.py", "training/fer_training/model_card.py"):
        assert "fer_desktop.core.render.heatmap import" in _sources()[user], user
    # torch's thread count: chosen once at start-up (core/support/threads.py); the trainer sets its own.
    assert _where(r"torch\.set_num_threads\(") == [
        "fer_desktop/core/support/threads.py",
        "training/fer_training/cli.py",
    ]


def test_one_background_worker_abstraction():
    """No hand-made thread-plus-lock-plus-counter in the GUI layers: superqt via workers/tasks."""
    gui = {
        k: v
        for k, v in _sources().items()
        if k.startswith(("fer_desktop/ui", "fer_desktop/workers"))
    }
    for name, text in gui.items():
        if name == "fer_desktop/workers/tasks.py":
            continue
        for banned in ("threading.Thread(", "QThreadPool(", "BackgroundCall", "_LatestSlot"):
            assert banned not in text, f"{name} uses {banned}"


def test_no_import_cycle_between_modules_and_no_module_over_350_lines():
    """The layout's promises: the core's modules import each other without a cycle (the old
    detectors resolve <-> yolo circle stays open), and no module grows past 350 lines."""
    import grimp

    graph = grimp.build_graph("fer_desktop")
    core = sorted(m for m in graph.modules if m.startswith("fer_desktop.core."))
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    cycles: list[list[str]] = []

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for n in sorted(graph.find_modules_directly_imported_by(m)):
            # a package's __init__ re-exporting its modules is not a cycle between modules
            if not n.startswith("fer_desktop.core.") or m.startswith(n + "."):
                continue
            if state.get(n) == 1:
                cycles.append([*path[path.index(n) :], n] if n in path else [m, n])
            elif n not in state:
                visit(n, [*path, n])
        state[m] = 2

    for m in core:
        if m not in state:
            visit(m, [m])
    assert not cycles, cycles[:3]
    long = {k: v.count("\n") for k, v in _sources().items() if v.count("\n") > 350}
    assert not long, long
