"""`fer-desktop study`: many sessions (or a batch job) into one tidy table and a study report."""

from __future__ import annotations

import sys
from pathlib import Path


def register(sub) -> None:
    s = sub.add_parser(
        "study",
        help="group figures across sessions: study.csv (tidy) and study.html",
        description="One row per participant x condition x segment x class (frames, mean "
        "probability, share of time shown, mean valence, baseline-corrected means), from the "
        "sessions' own segments; and a report with per-condition bars and 95%% intervals.",
    )
    s.add_argument("folders", nargs="+", metavar="FOLDER",
                   help="session folders, a batch job folder, or the sessions folder")  # fmt: skip
    s.add_argument(
        "-o", "--out", metavar="DIR", required=True, help="where study.csv and study.html go"
    )
    s.add_argument(
        "--window", type=float, metavar="S", help="fixed segments of S seconds instead of markers"
    )
    s.add_argument("--baseline", metavar="first:S|marker:NAME",
                   help="subtract each participant's mean over the first S seconds (or a marker's "
                   "segment) from every segment's means, as extra columns")  # fmt: skip
    s.set_defaults(func=run)


def run(args) -> int:
    from fer_desktop.cli.report import MAX_WINDOW_S, MIN_WINDOW_S
    from fer_desktop.core.sessions.study_report import write_study_report
    from fer_desktop.core.sessions.study_table import (
        STUDY_COLUMNS,
        Baseline,
        session_folders,
        study_rows,
    )
    from fer_desktop.core.support.errors import UserError
    from fer_desktop.core.support.fileio import atomic_write_csv, make_private_dir, unique_path

    if args.window is not None and not MIN_WINDOW_S <= args.window <= MAX_WINDOW_S:
        raise UserError(f"--window must be between {MIN_WINDOW_S} s and {MAX_WINDOW_S:.0f} s.",
                        "Use e.g. --window 30.")  # fmt: skip
    baseline = Baseline.parse(args.baseline)
    folders = session_folders([Path(f) for f in args.folders])
    rows = study_rows(folders, args.window, baseline)
    try:
        out = make_private_dir(Path(args.out).expanduser())
        csv_path = atomic_write_csv(unique_path(out / "study.csv"), STUDY_COLUMNS, rows)
        html_path = write_study_report(
            rows, [str(f) for f in folders], unique_path(out / "study.html")
        )
    except OSError as exc:
        raise UserError(f"Could not write the study into {args.out}: {exc.strerror or exc}.",
                        "Choose a folder you can write to (-o).") from exc  # fmt: skip
    print(
        f"{len(folders)} session(s), {len(rows)} rows: {csv_path}\nreport: {html_path}",
        file=sys.stderr,
    )
    return 0
