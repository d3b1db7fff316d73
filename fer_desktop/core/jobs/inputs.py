"""A job's inputs: video files, folders (searched recursively by video extension), text files
that list paths (one per line; `#` starts a comment; relative paths are relative to the list),
and CSV lists with a `video` column and, per video, `participant`, `condition` and `note`
(issue 30: a study's videos with who and what each one is)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from fer_desktop.core.support.errors import UserError
from fer_desktop.core.support.fileio import check_regular_file
from fer_desktop.core.support.image_files import is_video_path
from fer_desktop.core.support.redaction import redact

LIST_EXTS = {".txt", ".lst", ".list", ".csv"}
STUDY_FIELDS = ("participant", "condition", "note")
MAX_LIST_BYTES = 16 * 2**20


def expand_inputs(items: Iterable[str | Path]) -> list[Path]:
    """Every video the items name, in order, each once. A path that does not exist stays in the
    list (the job reports it as failed and goes on with the others)."""
    return expand_inputs_with_study(items)[0]


def expand_inputs_with_study(items: Iterable[str | Path]) -> tuple[list[Path], dict[Path, dict]]:
    """`expand_inputs`, and what a CSV list says of each video (participant, condition, note)."""
    out: list[Path] = []
    seen: set[Path] = set()
    study: dict[Path, dict] = {}

    def add(p: Path, about: dict | None = None) -> None:
        key = p.expanduser().absolute()
        if key not in seen:
            seen.add(key)
            out.append(key)
            if about:
                study[key] = about

    for item in items:
        if "://" in str(item):  # a stream is not a file to analyse (and its password is redacted)
            raise UserError(
                f"{redact(str(item))} is a stream, not a video file.",
                "Analyse video files; watch a stream live (fer-desktop --source URL).",
            )
        p = Path(item).expanduser()
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.is_file() and is_video_path(f) and not f.name.startswith("."):
                    add(f)
        elif p.suffix.lower() == ".csv" and p.is_file():
            for q, about in _csv_list(p):
                add(q, about)
        elif p.suffix.lower() in LIST_EXTS and p.is_file():
            try:
                lines = p.read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError) as exc:
                raise UserError(
                    f"Cannot read the list of videos {p}: {exc}.",
                    "Give a text file with one video path per line.",
                ) from exc
            for line in lines:
                line = line.split("#", 1)[0].strip()
                if line:
                    q = Path(line).expanduser()
                    add(q if q.is_absolute() else p.parent / q)
        else:
            add(p)
    return out, study


def _csv_list(p: Path) -> list[tuple[Path, dict]]:
    """(video, {participant, condition, note}) per row of a CSV job list."""
    import csv
    import io

    from fer_desktop.core.sessions.study import StudyInfo
    from fer_desktop.core.support.fileio import read_bounded_text

    hint = "Give a CSV with a video column and optional participant, condition and note columns."
    try:
        rows = list(csv.DictReader(io.StringIO(read_bounded_text(p, MAX_LIST_BYTES, "job list"))))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UserError(f"Cannot read the job list {p}: {exc}.", hint) from exc
    if rows and "video" not in rows[0]:
        raise UserError(f"{p} has no video column.", hint)
    out = []
    for n, row in enumerate(rows, start=2):
        video = (row.get("video") or "").strip()
        if not video:
            continue
        try:
            info = StudyInfo(*((row.get(f) or "") for f in STUDY_FIELDS)).checked()
        except UserError as err:
            raise UserError(f"{p}, line {n}: {err.message}", err.hint) from err
        q = Path(video).expanduser()
        out.append((q if q.is_absolute() else p.parent / q, info.to_json() if info else {}))
    return out


def probe_seconds(path: Path) -> float:
    """The video's length from its header (0 when it cannot be read): for the ETA only. A path
    that is not a regular file (a FIFO, a device) is never opened here: opening a FIFO waits for
    a writer, which hung the whole job before any video started (issue 28); the video itself
    then fails with its message and the job goes on."""
    import cv2

    try:
        check_regular_file(path)
    except OSError:
        return 0.0
    cap = cv2.VideoCapture(str(path))
    try:
        fps = cap.get(cv2.CAP_PROP_FPS) or 0.0
        n = cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0.0
        return float(n / fps) if fps > 0 and n > 0 else 0.0
    finally:
        cap.release()
