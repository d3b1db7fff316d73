"""`fer-desktop`: the GUI, plus annotate / evaluate / bench / analyze / detect-eval (one module
each, `register(subparsers)` + `run(args)`), the train/export hand-off and --self-test."""

from __future__ import annotations

import argparse
import multiprocessing
import sys

from fer_desktop.cli import analyze, annotate, bench, detect_eval, evaluate, report, study
from fer_desktop.cli.common import add_pipeline_args, print_error, settings_from
from fer_desktop.core.support.errors import UserError


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="fer-desktop", description="Facial emotion recognition: live, photos, training."
    )
    p.add_argument("--version", action="store_true", help="print the version and exit")
    p.add_argument(
        "--source",
        dest="top_source",
        metavar="SOURCE",
        help="start the GUI live on a camera index, video file or URL",
    )
    add_pipeline_args(p)  # the GUI's own choices: --model, --detector, --device, ...
    p.add_argument(
        "--self-test",
        action="store_true",
        help="check the installation or bundle headlessly (with --source VIDEO: time the Live "
        "tab on it); JSON summary",
    )
    sub = p.add_subparsers(dest="command")

    g = sub.add_parser("gui", help="start the GUI (the default)")
    g.add_argument("--source", help="start live on a camera index, video file or stream URL")
    add_pipeline_args(g)

    for command in (annotate, evaluate, bench, analyze, detect_eval, report, study):
        command.register(sub)
    sub.add_parser(
        "train",
        help="train a model (same as fer-train; see fer-desktop train --help)",
        add_help=False,
    )
    sub.add_parser(
        "export",
        help="export a .pt model to ONNX (python -m fer_training.export; see export --help)",
        add_help=False,
    )
    return p


def main(argv: list[str] | None = None) -> int:
    multiprocessing.freeze_support()  # a batch job's worker processes, inside a frozen bundle
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] in (["train"], ["export"]):
        from fer_desktop.core.support.resources import FULL_BUILD_HINT, torch_available

        if not torch_available():  # the default bundle: no torch, so no training or export
            print(f"error: {argv[0]} needs PyTorch.\n  {FULL_BUILD_HINT}", file=sys.stderr)
            return 2
    if argv[:1] == ["train"]:  # the bundle trains as a subprocess of itself
        # The entry point is the one place above both packages: the app's layers (core, workers,
        # ui) never import the trainer (import-linter contract), so there is no package cycle.
        from fer_training.cli import main as train_main

        return train_main(argv[1:], prog="fer-desktop train")
    if argv[:1] == ["export"]:
        from fer_training.export import main as export_main

        return export_main(argv[1:])
    args = build_parser().parse_args(argv)
    if args.version:
        from fer_desktop import __version__

        print(__version__)
        return 0
    if args.self_test:
        from fer_desktop.selftest import self_test

        return self_test(source=args.top_source)  # --source VIDEO: time the Live tab on it
    from fer_desktop.core.support.logs import install_cli_excepthook, setup_logging
    from fer_desktop.core.support.threads import configure_threads

    setup_logging(stderr=args.command not in (None, "gui"))  # the GUI shows messages in windows
    from fer_desktop.core.support.resources import user_folder_notice

    if args.command not in (None, "gui") and (notice := user_folder_notice()):
        print(f"fer-desktop: note: {notice}", file=sys.stderr)  # the window shows it itself
    install_cli_excepthook()
    configure_threads()  # once, before any model is loaded
    as_json = bool(getattr(args, "json", False))
    try:
        if getattr(args, "func", None) is not None:  # a subcommand: its module's run()
            return args.func(args)
    except UserError as exc:
        print_error(exc, as_json)
        return 2
    source = getattr(args, "source", None) or args.top_source
    from fer_desktop.app import run_gui

    try:
        settings = settings_from(args)  # the user's settings with --model/--detector/... on top
    except UserError as exc:
        print_error(exc, False)
        return 2
    return run_gui(source=source, settings=settings)


if __name__ == "__main__":
    raise SystemExit(main())
