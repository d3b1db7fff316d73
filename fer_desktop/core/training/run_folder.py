"""Read a training run folder (config.json, history.json, best.pt) for the Training tab.

The trainer writes these files (fer_training.runs); reading them lives in the core so the app can
show any run without importing the trainer.
"""

from __future__ import annotations

import json
from pathlib import Path


def read_run(run_dir: str | Path) -> dict:
    """What the GUI needs to show a finished or running run: config, classes and history."""
    run_dir = Path(run_dir)
    hist_path = run_dir / "history.json"
    if not hist_path.exists():
        raise FileNotFoundError(f"{run_dir} is not a training run folder (no history.json).")
    cfg_path = run_dir / "config.json"
    meta = json.loads(cfg_path.read_text()) if cfg_path.exists() else {}
    return {
        "run_dir": str(run_dir),
        "config": meta.get("config", {}),
        "classes": meta.get("classes", []),
        "history": json.loads(hist_path.read_text()),
        "best": str(run_dir / "best.pt") if (run_dir / "best.pt").exists() else None,
    }
