"""Layering rules: the core never imports Qt (checked in a fresh interpreter with PySide6 blocked)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BLOCK_QT = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('PySide6', 'PyQt5', 'PyQt6', 'shiboken6'):
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
