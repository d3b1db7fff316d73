"""What a study adds to a recording: markers (moments with names) and participants (names for
face tracks, and tracks merged into one person). Kept in session.json ("markers",
"participants") and markers.csv (`time_s,name,kind,end_s`); faces.csv is never rewritten.

A marker has a `kind` (0: a plain marker; 1-9: the number key that made it, e.g. stimulus kinds
of a study, each with its own colour) and may have an `end_s` (an interval: a stimulus shown
from `time_s` to `end_s`).
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


KINDS = range(0, 10)  # 0: plain; 1-9: the number keys
# A colour per kind (RGB), on the timelines and in the report: 0 grey, then 9 distinct hues.
KIND_RGB: tuple[tuple[int, int, int], ...] = (
    (90, 90, 90), (31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189),
    (255, 127, 14), (23, 190, 207), (227, 119, 194), (140, 86, 75), (188, 189, 34),
)  # fmt: skip


def kind_names(text: str) -> list[str]:
    """The 9 kinds' names from the setting `marker_kinds` ("Stimulus|Response|…"; empty or
    missing entries: "Kind N")."""
    given = [t.strip() for t in (text or "").split("|")]
    return [(given[i] if i < len(given) and given[i] else f"Kind {i + 1}") for i in range(9)]


@dataclass
class Marker:
    time_s: float
    name: str
    kind: int = 0
    end_s: float | None = None

    def to_json(self) -> dict:
        out: dict = {"time_s": self.time_s, "name": self.name}
        if self.kind:
            out["kind"] = self.kind
        if self.end_s is not None:
            out["end_s"] = self.end_s
        return out

    @classmethod
    def checked(cls, time_s, name: str, kind=0, end_s=None) -> Marker:
        """A marker from outside values (a file): kind 0-9, an end not before the start."""
        t = float(time_s)
        k = int(kind) if kind not in (None, "") else 0
        e = float(end_s) if end_s not in (None, "") else None
        if k not in KINDS:
            raise ValueError(f"kind {k} is not 0-9")
        if e is not None and not e >= t:
            raise ValueError(f"end {e} is before the start {t}")
        return cls(round(t, 3), name, k, None if e is None else round(e, 3))


@dataclass
class Annotations:
    markers: list[Marker] = field(default_factory=list)
    names: dict[int, str] = field(default_factory=dict)  # track id -> participant name
    merged: dict[int, int] = field(default_factory=dict)  # track id -> the track it joins
    # Participants seen for less than this many seconds are hidden from the window, the report
    # and the exports (faces.csv keeps them; issue 27). 0 = show all.
    hide_shorter_s: float = 0.0

    def add_marker(self, time_s: float, name: str | None = None, kind: int = 0,
                   end_s: float | None = None) -> Marker:  # fmt: skip
        m = Marker.checked(time_s, name or f"Marker {len(self.markers) + 1}", kind, end_s)
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
            "markers": [m.to_json() for m in self.markers],
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
                a.markers.append(Marker.checked(m["time_s"], str(m.get("name") or "Marker"),
                                                m.get("kind", 0), m.get("end_s")))  # fmt: skip
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
    w.writerow(["time_s", "name", "kind", "end_s"])
    for m in markers:
        end = "" if m.end_s is None else f"{m.end_s:.3f}"
        w.writerow([f"{m.time_s:.3f}", spreadsheet_safe(m.name), m.kind or "", end])
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
            out.append(Marker.checked(row["time_s"], name, row.get("kind"), row.get("end_s")))
        except (TypeError, ValueError) as exc:
            raise UserError(
                f"{path}, line {n}: {exc} (time_s and end_s are seconds, kind 0-9).",
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
