"""`fer-train`: train an emotion model from the command line (JSON lines on stdout for the GUI)."""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import signal
import sys
import threading
from collections.abc import Mapping
from dataclasses import MISSING, fields
from typing import TYPE_CHECKING, Any

from fer_desktop.core.support.errors import UserError
from fer_desktop.core.training import events
from fer_desktop.core.training.config import CHOICES, TrainConfig

if TYPE_CHECKING:
    from tqdm import tqdm


def _architectures() -> list[str]:
    from fer_desktop.core.classify.nets import ARCHITECTURES

    return list(ARCHITECTURES)


def build_parser(prog: str = "fer-train") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=prog,
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
        if f.name == "data":
            p.add_argument(
                "--data",
                action="append",
                default=None,
                help="dataset folder, zip or fer2013.csv; repeat it to train on several together",
            )
        elif f.default is MISSING:  # list settings
            p.add_argument(flag, type=json.loads, default=None, help="JSON list, e.g. [0.9, 0.1]")
        elif isinstance(default, bool):
            p.add_argument(flag, action=argparse.BooleanOptionalAction, default=None)
        elif f.name in CHOICES or f.name == "arch":
            allowed = CHOICES.get(f.name) or tuple(_architectures())
            p.add_argument(
                flag,
                choices=allowed,
                default=None,
                help=f"one of {', '.join(allowed)} (default: {default})",
            )
        else:
            p.add_argument(flag, type=type(default), default=None, help=f"default: {default!r}")
    return p


class _Progress:
    """A progress bar with the run's ETA on stderr (tqdm), for people in a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar: tqdm | None = None
        self.epochs = 0
        self.first = 1  # the first epoch of this process (a resumed run starts later)

    def __call__(self, ev: Mapping[str, Any]) -> None:
        if not self.enabled:
            return
        kind = ev["event"]
        if kind == "start":
            self.epochs = ev["config"]["epochs"]
            self.first = ev["start_epoch"]
        elif kind == "progress":
            if self.bar is None:
                from tqdm import tqdm

                total = (self.epochs - self.first + 1) * ev["batches"]
                self.bar = tqdm(total=total, unit="batch", dynamic_ncols=True, file=sys.stderr)
            self.bar.set_description(f"epoch {ev['epoch']}/{self.epochs}")
            self.bar.set_postfix_str(f"{ev['images_per_second']:.0f} img/s")
            done = (ev["epoch"] - self.first) * ev["batches"] + ev["batch"]
            self.bar.update(done - self.bar.n)
        elif kind == "epoch" and self.bar is not None:
            self.bar.write(
                f"epoch {ev['epoch']}/{ev['epochs']}: train acc {ev['train_acc']:.3f} val acc "
                f"{ev['val_acc']:.3f} ({ev['weights']} weights; best {ev['best_val_acc']:.3f}) {ev['seconds']:.0f}s"
            )
        elif kind in ("finished", "stopped", "error") and self.bar is not None:
            self.bar.close()
            self.bar = None


def _given_data(argv: list[str]) -> list[str]:
    """The --data values on the command line, found before argparse (whose choices import the
    model zoo, hence torch)."""
    out = []
    for i, a in enumerate(argv):
        if a == "--data" and i + 1 < len(argv):
            out.append(argv[i + 1])
        elif a.startswith("--data="):
            out.append(a.split("=", 1)[1])
    return out


def main(argv: list[str] | None = None, prog: str = "fer-train") -> int:
    multiprocessing.freeze_support()  # the DataLoader worker, inside a frozen bundle on Windows/macOS
    argv = list(sys.argv[1:] if argv is None else argv)
    try:  # a zip bomb is refused before torch is even imported (a few hundred MB by itself)
        from fer_desktop.core.training.datasets import check_bounds

        for data in _given_data(argv):
            check_bounds(data)
    except UserError as exc:
        sys.stdout.write(events.to_line(events.error_event(exc.message, exc.hint)))
        print(f"error: {exc.message}\n  {exc.hint}", file=sys.stderr)
        return 2
    args = build_parser(prog).parse_args(argv)
    progress = _Progress(enabled=not args.no_progress and sys.stderr.isatty())

    def emit(ev: Mapping[str, Any]) -> None:
        sys.stdout.write(events.to_line(ev))
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
        # The settings given as flags, once: they override the --config file and, on --resume,
        # the run's saved settings.
        given = {}
        for f in fields(TrainConfig):
            v = getattr(args, f.name, None)
            if v is not None:
                given[f.name] = v[0] if f.name == "data" and len(v) == 1 else v
        base = (
            TrainConfig.from_file(args.config).to_dict() if args.config else TrainConfig().to_dict()
        )
        cfg = TrainConfig.from_dict({**base, **given})
        if not cfg.data and not args.resume:
            raise UserError("No dataset given.", "Pass --data FOLDER_OR_ZIP (or a fer2013.csv).")
        if cfg.threads:
            import torch

            torch.set_num_threads(cfg.threads)  # once, at start-up, for this training process only
        from fer_training.fit import run

        summary = run(cfg, emit, stop=stop, resume=args.resume, overrides=given)
        return 0 if summary["event"] == "finished" else 3
    except UserError as exc:
        emit(events.error_event(exc.message, exc.hint))
        return 2
    except Exception as exc:  # an unexpected crash still reaches the GUI as one message
        logging.getLogger("fer_training").exception("training failed")
        logs = [h.baseFilename for h in logging.getLogger().handlers if hasattr(h, "baseFilename")]
        hint = (
            f"The traceback is in {logs[-1]}."
            if logs
            else "Run fer-train again in a terminal to see the traceback."
        )
        emit(events.error_event(f"{type(exc).__name__}: {exc}", hint))
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
