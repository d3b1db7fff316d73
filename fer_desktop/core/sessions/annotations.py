"""What a study adds to a recording: markers (moments with names) and participants (names for
face tracks, and tracks merged into one person). Kept in session.json ("markers",
"participants") and markers.csv (`time_s,name`); faces.csv is never rewritten.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from fer_desktop.core.sessions.layout import JSON_NAME, MARKERS_NAME
from fer_desktop.core.support.errors import UserError
from fer_desktop.core.support.fileio import (
    PRIVATE_FILE,
    atomic_write_text,
    from_spreadsheet_safe,
    read_bounded_text,
    spreadsheet_safe,
)

MAX_MARKERS_BYTES = 16 * 2**20  # 100k markers are about 3 MB
MAX_JSON_BYTES = 64 * 2**20  # session.json; one with 100k markers is about 5 MB


@dataclass
class Marker:
    time_s: float
    name: str


@dataclass
class Annotations:
    markers: list[Marker] = field(default_factory=list)
    names: dict[int, str] = field(default_factory=dict)  # track id -> participant name
    merged: dict[int, int] = field(default_factory=dict)  # track id -> the track it joins
    # Participants seen for less than this many seconds are hidden from the window, the report
    # and the exports (faces.csv keeps them; issue 27). 0 = show all.
    hide_shorter_s: float = 0.0

    def add_marker(self, time_s: float, name: str | None = None) -> Marker:
        m = Marker(round(float(time_s), 3), name or f"Marker {len(self.markers) + 1}")
        self.markers.append(m)
        self.markers.sort(key=lambda x: x.time_s)
        return m

    def owner(self, track_id: int) -> int:
        """The track a merged track belongs to (following chains), itself otherwise."""
        seen = set()
        while track_id in self.merged and track_id not in seen:
            seen.add(track_id)
            track_id = self.merged[track_id]
        return track_id

    def merge(self, track_id: int, into: int) -> None:
        """Track `track_id` is the same person as `into` (after the face left the frame)."""
        if self.owner(into) == track_id or track_id == into:
            raise UserError("A track cannot be merged into itself.", "Choose another track.")
        self.merged[track_id] = self.owner(into)

    def name_of(self, track_id: int) -> str:
        t = self.owner(track_id)
        return self.names.get(t) or f"Face {t}"

    def to_json(self) -> dict:
        return {
            "markers": [{"time_s": m.time_s, "name": m.name} for m in self.markers],
            "participants": {
                "names": {str(k): v for k, v in sorted(self.names.items())},
                "merged": {str(k): v for k, v in sorted(self.merged.items())},
                **({"hide_shorter_s": self.hide_shorter_s} if self.hide_shorter_s else {}),
            },
        }

    @classmethod
    def from_session(cls, info: dict) -> Annotations:
        """From session.json's contents; a session without them (older ones) has none."""
        a = cls()
        for m in info.get("markers") or []:
            try:
                a.markers.append(Marker(float(m["time_s"]), str(m.get("name") or "Marker")))
            except (KeyError, TypeError, ValueError):
                continue
        a.markers.sort(key=lambda x: x.time_s)
        p = info.get("participants") or {}
        for k, v in (p.get("names") or {}).items():
            if str(k).lstrip("-").isdigit() and isinstance(v, str) and v.strip():
                a.names[int(k)] = v.strip()
        for k, v in (p.get("merged") or {}).items():
            if str(k).lstrip("-").isdigit() and isinstance(v, int) and int(k) != v:
                a.merged[int(k)] = v
        hide = p.get("hide_shorter_s")
        if isinstance(hide, int | float) and not isinstance(hide, bool) and 0 <= hide <= 3600:
            a.hide_shorter_s = float(hide)  # NaN, negative or absurd values: show all
        return a


def markers_csv(markers: list[Marker]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["time_s", "name"])
    for m in markers:
        w.writerow([f"{m.time_s:.3f}", spreadsheet_safe(m.name)])
    return buf.getvalue()


def read_markers_csv(path: str | Path) -> list[Marker]:
    """A markers file (`time_s,name`, e.g. the stimulus onsets of a recorded study)."""
    path = Path(path).expanduser()
    try:
        text = read_bounded_text(path, MAX_MARKERS_BYTES, "markers file")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(
            f"Cannot read the markers file {path}: {exc}.",
            "Give a CSV file with the columns time_s,name.",
        ) from exc
    try:
        rows = list(csv.DictReader(io.StringIO(text)))
    except csv.Error as exc:
        raise UserError(
            f"{path} is not a CSV file the app can read ({exc}).",
            "Give a CSV file with the columns time_s,name.",
        ) from exc
    if rows and not {"time_s", "name"} <= set(rows[0]):
        raise UserError(
            f"{path} has no time_s and name columns.",
            "Give a CSV file with the columns time_s,name.",
        )
    out = []
    for n, row in enumerate(rows, start=2):
        try:
            name = from_spreadsheet_safe((row.get("name") or f"Marker {n - 1}").strip())
            out.append(Marker(float(row["time_s"]), name))
        except (TypeError, ValueError) as exc:
            raise UserError(
                f"{path}, line {n}: {row.get('time_s')!r} is not a time in seconds.",
                "Fix the line.",
            ) from exc
    return sorted(out, key=lambda m: m.time_s)


def save_annotations(folder: str | Path, annotations: Annotations) -> None:
    """Write the annotations into the session's session.json (other keys kept) and markers.csv."""
    folder = Path(folder)
    path = folder / JSON_NAME
    try:
        info = (
            json.loads(read_bounded_text(path, MAX_JSON_BYTES, "session.json"))
            if path.exists()
            else {}
        )
    except (OSError, ValueError, RecursionError) as exc:
        raise UserError(
            f"The markers and names were not saved: {path} could not be read ({exc}).",
            "The session's files were left as they are; check session.json.",
        ) from exc
    if not isinstance(info, dict):
        info = {}
    info.update(annotations.to_json())
    try:
        atomic_write_text(path, json.dumps(info, indent=1, ensure_ascii=False), mode=PRIVATE_FILE)
        atomic_write_text(
            folder / MARKERS_NAME, markers_csv(annotations.markers), mode=PRIVATE_FILE
        )
    except OSError as exc:
        raise UserError(
            f"Could not save the session's markers and names in {folder}: {exc.strerror or exc}.",
            "Check that the folder is writable.",
        ) from exc
