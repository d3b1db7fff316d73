"""`fer-train`: train an emotion model from the command line (JSON lines on stdout for the GUI)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from dataclasses import MISSING, fields

from fer_desktop.core.errors import UserError

from .config import TrainConfig


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="fer-train",
        description="Train an emotion classifier. Prints one JSON object per line on stdout "
        "(events: start, progress, epoch, log, finished, stopped, error); a progress bar goes to stderr.",
    )
    p.add_argument("--config", help="JSON or TOML file with settings (flags override it)")
    p.add_argument(
        "--resume", metavar="RUN_DIR", help="continue a stopped or crashed run from its last epoch"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    for f in fields(TrainConfig):
        if f.name == "arch_kwargs":
            p.add_argument(
                "--arch-kwargs",
                type=json.loads,
                default=None,
                help="JSON dict of architecture options",
            )
            continue
        default = f.default if f.default is not MISSING else None
        flag = "--" + f.name.replace("_", "-")
        if isinstance(default, bool):
            p.add_argument(flag, action=argparse.BooleanOptionalAction, default=None)
        else:
            p.add_argument(flag, type=type(default), default=None, help=f"default: {default!r}")
    return p


class _Progress:
    """A one-line progress bar with ETA on stderr, for people in a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.epochs = 0
        self.t0 = time.perf_counter()

    def __call__(self, ev: dict) -> None:
        if not self.enabled:
            return
        if ev["event"] == "start":
            self.epochs = ev["config"]["epochs"]
        elif ev["event"] == "progress":
            frac = ev["batch"] / max(ev["batches"], 1)
            bar = "#" * int(frac * 30)
            sys.stderr.write(
                f"\repoch {ev['epoch']}/{self.epochs} [{bar:<30}] {frac:4.0%} "
                f"{ev['images_per_second']:.0f} img/s, epoch ETA {ev['eta_epoch_s']:.0f}s   "
            )
        elif ev["event"] == "epoch":
            left = (ev["epochs"] - ev["epoch"]) * ev["seconds"]
            sys.stderr.write(
                f"\repoch {ev['epoch']}/{ev['epochs']}: train acc {ev['train_acc']:.3f} val acc {ev['val_acc']:.3f} "
                f"(best {ev['best_val_acc']:.3f}) {ev['seconds']:.0f}s, run ETA {left / 60:.1f} min\n"
            )
        sys.stderr.flush()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    progress = _Progress(enabled=not args.no_progress and sys.stderr.isatty())

    def emit(ev: dict) -> None:
        sys.stdout.write(json.dumps(ev) + "\n")
        sys.stdout.flush()
        progress(ev)

    stop = threading.Event()

    def on_signal(signum, frame):  # finish cleanly; last.pt stays the last complete epoch
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            signal.signal(sig, on_signal)
        except (ValueError, OSError):
            pass
    try:
        base = (
            TrainConfig.from_file(args.config).to_dict() if args.config else TrainConfig().to_dict()
        )
        for f in fields(TrainConfig):
            v = getattr(args, f.name, None)
            if v is not None:
                base[f.name] = v
        cfg = TrainConfig.from_dict(base)
        if not cfg.data and not args.resume:
            raise UserError("No dataset given.", "Pass --data FOLDER_OR_ZIP (or a fer2013.csv).")
        if cfg.threads:
            import torch

            torch.set_num_threads(cfg.threads)  # once, at start-up, for this training process only
        from .engine import run

        given = {
            f.name: getattr(args, f.name)
            for f in fields(TrainConfig)
            if getattr(args, f.name, None) is not None
        }
        summary = run(cfg, emit, stop=stop, resume=args.resume, overrides=given)
        return 0 if summary["event"] == "finished" else 3
    except UserError as exc:
        emit({"event": "error", "message": exc.message, "hint": exc.hint})
        return 2
    except Exception as exc:  # an unexpected crash still reaches the GUI as one message
        emit(
            {
                "event": "error",
                "message": f"{type(exc).__name__}: {exc}",
                "hint": "See the log in the run folder.",
            }
        )
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
