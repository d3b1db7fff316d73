"""Read a recorded session folder back (for the session viewer): per-face timelines and shares.

Tolerant of what a crash leaves behind: a session.json that still says "recording" (or is
missing), a last CSV line cut short. No Qt here.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fer_desktop.core.classify.action_names import ACTION_COLUMNS
from fer_desktop.core.emotions import CLASSES, valence
from fer_desktop.core.sessions.annotations import MAX_JSON_BYTES, Annotations, Marker
from fer_desktop.core.sessions.figures import LABELS as LABELS  # re-exported for the viewers
from fer_desktop.core.sessions.figures import Figures, of_frames
from fer_desktop.core.sessions.layout import (
    CSV_COLUMNS,
    CSV_NAME,
    JSON_NAME,
    READABLE_CSV_COLUMNS,
    VIDEO_NAME,
)
from fer_desktop.core.sessions.study import StudyInfo
from fer_desktop.core.support.errors import UserError
from fer_desktop.core.support.fileio import check_regular_file, read_bounded_text


@dataclass
class TrackTimeline:
    """One face over the session: a row per processed frame it was seen in."""

    track_id: int
    times: np.ndarray  # (n,) seconds
    frames: np.ndarray  # (n,) frame numbers
    probs: np.ndarray  # (n, 7) displayed probabilities, CLASSES order
    labels: list[str]  # displayed label per row (a class or "uncertain")
    name: str = ""  # the participant's name ("Face N" unless named in the session view)
    merged: tuple[int, ...] = ()  # the other tracks merged into this one
    # (n, len(ACTION_COLUMNS)) float32, NaN where not measured; None: a session without them
    actions: np.ndarray | None = None
    boxes: np.ndarray | None = None  # (n, 4) int32 x1, y1, x2, y2 per row (the player's overlay)

    def action(self, column: str) -> np.ndarray:
        """(n,) one of ACTION_COLUMNS ("yaw", "bs_jawOpen"…), NaN where not measured; "smile":
        the mean of bs_mouthSmileLeft and bs_mouthSmileRight. All NaN in an older session."""
        if column == "smile":
            return (self.action("bs_mouthSmileLeft") + self.action("bs_mouthSmileRight")) / 2
        if self.actions is None:
            return np.full(len(self.times), np.nan)
        return self.actions[:, ACTION_COLUMNS.index(column)].astype(np.float64)

    def blinks(self) -> list:
        """The blinks in this timeline (core/sessions/blinks.py), empty without facial actions."""
        from fer_desktop.core.sessions.blinks import blink_events

        return blink_events(self.times, self.action("blink_left"), self.action("blink_right"))

    @property
    def valence(self) -> np.ndarray:
        """(n,) valence per row, from the probabilities (emotions.VALENCE_NOTE)."""
        return valence(self.probs) if len(self.probs) else np.zeros(0)

    def figures(self) -> Figures:
        """Frames, means, dominant, shares, mean valence: the one rule (sessions/figures.py)."""
        return of_frames(self.probs, self.labels)

    def label_shares(self) -> dict[str, float]:
        """Share of this face's frames shown with each label (CLASSES, then "uncertain")."""
        return self.figures().shares

    @property
    def dominant(self) -> str:
        """The class with the highest mean probability ("uncertain" for no frames)."""
        return self.figures().dominant


@dataclass
class SessionData:
    folder: Path
    info: dict  # session.json, {} when missing or unreadable
    tracks: dict[int, TrackTimeline]
    duration_s: float
    video: Path | None  # annotated.mp4 when present
    problems: list[str] = field(default_factory=list)  # what was odd but could be read around
    annotations: Annotations = field(default_factory=Annotations)  # markers, names, merges
    raw_tracks: dict[int, TrackTimeline] = field(default_factory=dict)  # before merging

    @property
    def study(self) -> StudyInfo:
        """Participant id, condition and note given at record time (issue 30)."""
        return StudyInfo.from_json(self.info.get("study"))

    @property
    def markers(self) -> list[Marker]:
        return self.annotations.markers

    @property
    def hidden(self) -> list[int]:
        """Participants hidden as seen for less than `annotations.hide_shorter_s`."""
        owners = {self.annotations.owner(t) for t in self.raw_tracks}
        return sorted(owners - set(self.tracks))

    def merge(self, track_id: int, into: int) -> None:
        """Record that participant `track_id` is participant `into` seen at another time.

        Two faces seen in the same frame are two people: such a merge is refused (UserError),
        as is a merge into itself."""
        a, b = self.tracks.get(track_id), self.tracks.get(into)
        if a is None or b is None:
            raise UserError(
                f"Track {track_id if a is None else into} is not in this session.",
                "Choose tracks from the list.",
            )
        both = np.intersect1d(a.frames, b.frames).size
        if both:
            raise UserError(
                f"Tracks {track_id} and {into} are both in {both} frame(s): two faces seen at "
                "once, not one person seen again.",
                "Merge joins one person's tracks from different times; choose two tracks that "
                "never share a frame.",
            )
        self.annotations.merge(track_id, into)


def merge_tracks(raw: dict[int, TrackTimeline], a: Annotations) -> dict[int, TrackTimeline]:
    """One timeline per participant: merged tracks joined in time order, under the first id."""
    groups: dict[int, list[TrackTimeline]] = {}
    for tid, tr in sorted(raw.items()):
        groups.setdefault(a.owner(tid), []).append(tr)
    out: dict[int, TrackTimeline] = {}
    for owner, parts in sorted(groups.items()):
        times = np.concatenate([p.times for p in parts])
        order = np.argsort(times, kind="stable")
        labels = [lab for p in parts for lab in p.labels]
        out[owner] = TrackTimeline(
            owner,
            times[order],
            np.concatenate([p.frames for p in parts])[order],
            np.concatenate([p.probs for p in parts])[order],
            [labels[i] for i in order],
            name=a.name_of(owner),
            actions=_joined_actions(parts, order),
            boxes=_joined_boxes(parts, order),
            merged=tuple(p.track_id for p in parts if p.track_id != owner),
        )
    if a.hide_shorter_s > 0:  # the participant's whole time seen, merged parts together
        out = {k: t for k, t in out.items() if seen_s(t) >= a.hide_shorter_s}
    return out


def _joined_actions(parts: list[TrackTimeline], order: np.ndarray) -> np.ndarray | None:
    if all(p.actions is None for p in parts):
        return None
    width = len(ACTION_COLUMNS)
    blocks = [
        p.actions if p.actions is not None else np.full((len(p.times), width), np.nan, np.float32)
        for p in parts
    ]
    return np.concatenate(blocks)[order]


def _joined_boxes(parts: list[TrackTimeline], order: np.ndarray) -> np.ndarray | None:
    boxes = [p.boxes for p in parts if p.boxes is not None]
    return np.concatenate(boxes)[order] if len(boxes) == len(parts) else None


def seen_s(track: TrackTimeline) -> float:
    """How long a participant was seen: its first row to its last (of all its merged parts)."""
    if len(track.times) == 0:
        return 0.0
    return float(track.times[-1] - track.times[0])


# session.json's keys that every reader uses, by the JSON type they must have (issue 28: a
# `settings` that was a number or a `duration_s` that was text ended in a traceback in `report`).
_INFO_TYPES: dict[str, tuple[type, ...]] = {
    "settings": (dict,), "participants": (dict,), "outputs": (dict,),
    "tracks": (list,), "markers": (list,), "setting_changes": (list,), "no_face_s": (list,),
    "duration_s": (int, float), "fps": (int, float), "frames_processed": (int,),
    "source": (str,), "detector": (str,), "model": (str,), "start_time": (str,), "status": (str,),
}  # fmt: skip


def checked_info(info: dict, problems: list[str]) -> dict:
    """session.json's contents with every wrongly typed known key dropped (a note each): the
    readers then see a key either well typed or absent, never a surprise."""
    out = {}
    for key, value in info.items():
        kinds = _INFO_TYPES.get(key)
        ok = kinds is None or (isinstance(value, kinds) and not isinstance(value, bool))
        if ok and isinstance(value, float) and not math.isfinite(value):
            ok = False
        if ok:
            out[key] = value
        else:
            problems.append(f"{JSON_NAME}: {key[:40]} has the wrong type and was ignored")
    return out


def load_session(folder: str | Path) -> SessionData:
    """Load `folder` (holding faces.csv, session.json, maybe annotated.mp4).

    Raises UserError when it is not a session folder (no faces.csv or not our columns)."""
    folder = Path(folder)
    csv_path = folder / CSV_NAME
    if not csv_path.is_file():
        raise UserError(
            f"{folder} is not a session folder (it has no {CSV_NAME}).",
            "Choose a folder made by Record or by fer-desktop analyze.",
        )
    problems: list[str] = []
    info: dict = {}
    try:
        info = json.loads(read_bounded_text(folder / JSON_NAME, MAX_JSON_BYTES, "session.json"))
        if not isinstance(info, dict):
            raise ValueError("not an object")
    except FileNotFoundError:
        problems.append(f"{JSON_NAME} is missing")
    except (OSError, ValueError, RecursionError) as exc:
        problems.append(f"{JSON_NAME} could not be read ({exc})")
        info = {}
    info = checked_info(info, problems)
    if info.get("status") == "recording":
        problems.append("the recording did not finish (the app was closed or crashed)")

    rows: dict[int, list] = {}
    bad = 0
    try:
        check_regular_file(csv_path)  # a FIFO would hang the window, a device never end
        with open(csv_path, newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            columns = tuple(h.strip() for h in header) if header is not None else ()
            if columns not in READABLE_CSV_COLUMNS:  # this round's, or an older session's
                raise UserError(
                    f"{csv_path} does not have the columns of a fer-desktop session.",
                    f"Expected: {', '.join(CSV_COLUMNS)}.",
                )
            col = {name: i for i, name in enumerate(columns)}  # parse by column name
            acts = [col[c] for c in ACTION_COLUMNS if c in col]  # none in an older session
            corners = [col[c] for c in ("x1", "y1", "x2", "y2") if c in col]
            for row in reader:
                try:
                    if len(row) != len(columns):
                        raise ValueError
                    t, fr, tid = (
                        float(row[col["time_s"]]),
                        int(row[col["frame"]]),
                        int(row[col["track_id"]]),
                    )
                    probs = [float(row[col[c]]) for c in CLASSES]
                    label = row[col["label"]]
                    measured = [float(row[i]) if row[i] else math.nan for i in acts]
                    box = [int(float(row[i])) for i in corners]
                except (ValueError, IndexError):
                    bad += 1
                    continue
                rows.setdefault(tid, []).append((t, fr, probs, label, measured, box))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UserError(f"{csv_path} could not be read ({exc}).", "Check the file.") from exc
    if bad:
        problems.append(f"{bad} incomplete row(s) skipped")

    tracks = {}
    for tid, items in sorted(rows.items()):
        tracks[tid] = TrackTimeline(
            tid,
            np.array([i[0] for i in items], dtype=np.float64),
            np.array([i[1] for i in items], dtype=np.int64),
            np.array([i[2] for i in items], dtype=np.float64).reshape(-1, len(CLASSES)),
            [i[3] for i in items],
            actions=np.array([i[4] for i in items], np.float32) if acts else None,
            boxes=np.array([i[5] for i in items], np.int32) if len(corners) == 4 else None,
        )
    last = max((float(tr.times[-1]) for tr in tracks.values()), default=0.0)
    duration = max(float(info.get("duration_s") or 0.0), last)
    video = folder / VIDEO_NAME
    notes = Annotations.from_session(info)
    return SessionData(
        folder, info, merge_tracks(tracks, notes), duration, video if video.is_file() else None,
        problems, notes, tracks,
    )  # fmt: skip
