"""`fer-desktop report`: a session folder into report.html (one file, offline) and segments.csv."""

from __future__ import annotations

import sys
from pathlib import Path


def register(sub) -> None:
    r = sub.add_parser(
        "report",
        help="write a session's report (report.html, self-contained) and segments.csv",
        description="Per segment (between markers, or --window seconds) and participant: mean "
        "probabilities, dominant emotion, share of time per label, mean valence.",
    )
    r.add_argument("session", metavar="SESSION_DIR", help="a recorded or analysed session folder")
    r.add_argument(
        "-o", "--out", metavar="FILE", help="the report's path (default: in the session)"
    )
    r.add_argument(
        "--window", type=float, metavar="S", help="fixed segments of S seconds instead of markers"
    )
    r.set_defaults(func=run)


MIN_WINDOW_S, MAX_WINDOW_S = 0.1, 86400.0


def run(args) -> int:
    from fer_desktop.core.sessions.reader import load_session
    from fer_desktop.core.sessions.report import write_report
    from fer_desktop.core.sessions.segments import write_segments
    from fer_desktop.core.support.errors import UserError
    from fer_desktop.core.support.fileio import unique_path

    if args.window is not None and not MIN_WINDOW_S <= args.window <= MAX_WINDOW_S:
        raise UserError(  # 1e-7 s made billions of segments (issue 28)
            f"--window must be between {MIN_WINDOW_S} s and {MAX_WINDOW_S:.0f} s, not "
            f"{args.window}.",
            "Use e.g. --window 30.",
        )
    session = load_session(args.session)
    out = Path(args.out).expanduser() if args.out else None
    try:
        report = write_report(session, out, args.window)
        # beside an -o report: its own free name, never over a segments.csv already there
        beside = unique_path(out.with_name(out.stem + "_segments.csv")) if out else None
        segments = write_segments(session, beside, args.window)
    except OSError as exc:
        raise UserError(
            f"Could not write the report: {exc.strerror or exc}.",
            "Choose a folder you can write to (-o).",
        ) from exc
    print(f"report: {report}\nsegments: {segments}")
    for p in session.problems:
        print(f"note: {p}", file=sys.stderr)
    return 0
