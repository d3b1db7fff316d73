"""Thread counts are chosen once at start-up and kept when a library changes them."""

from __future__ import annotations

import subprocess
import sys

import torch

from fer_desktop.core.support.threads import keep_torch_threads

START = """
import os, sys
os.environ.pop("OMP_NUM_THREADS", None)
from fer_desktop.core.support.threads import configure_threads
n = configure_threads()
assert "torch" not in sys.modules, "start-up must not wait for torch"
import torch
print(n, os.environ["OMP_NUM_THREADS"], torch.get_num_threads())
"""


def test_start_up_fixes_the_count_before_torch_starts():
    r = subprocess.run([sys.executable, "-c", START], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    n, env, torch_threads = r.stdout.split()
    assert n == env == torch_threads  # torch's pool uses what start-up chose
    assert int(n) >= 1


def test_a_library_changing_the_count_is_undone():
    before = torch.get_num_threads()
    with keep_torch_threads():
        torch.set_num_threads(1 if before > 1 else 2)  # what ultralytics' select_device does
    assert torch.get_num_threads() == before
