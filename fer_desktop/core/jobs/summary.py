"""summary.csv: one row per video and face track, from each finished video's session folder;
a video without a face, or one that failed, still has its row (with the reason in `note`)."""

from __future__ import annotations

from fer_desktop.core.jobs.layout import JobFolder
from fer_desktop.core.support.errors import UserError

FINISHED = ("done", "truncated")


def summary_rows(folder: JobFolder, entries: list[dict]) -> dict[str, list[dict]]:
    """Rows per video key for `entries` (job.json's video entries)."""
    from fer_desktop.core.sessions.reader import load_session

    out: dict[str, list[dict]] = {}
    for e in entries:
        base = {"video": e["input"], "status": e["status"],
                "video_duration_s": e.get("video_s", "")}  # fmt: skip
        if e["status"] not in FINISHED:
            out[e["key"]] = [base | {"note": e.get("error") or ""}]
            continue
        try:
            session = load_session(folder.video_dir(e["key"]))
        except UserError as exc:
            out[e["key"]] = [base | {"status": "failed", "note": exc.message}]
            continue
        note = e.get("warning") or ""
        rows = []
        for tid, t in sorted(session.tracks.items()):
            rows.append(
                base
                | {
                    "track_id": tid,
                    "first_s": f"{t.times[0]:.3f}",
                    "last_s": f"{t.times[-1]:.3f}",
                    **t.figures().columns(),  # the one rule (sessions/figures.py)
                    "participant_id": session.study.participant,
                    "condition": session.study.condition,
                    "note": note,
                }
            )
        out[e["key"]] = rows or [base | {"note": note or "no face found"}]
    return out
