"""What a session says about itself besides its faces: the settings changed while recording and
the stretches without a face (session.json `setting_changes`, `no_face_s`; issue 27)."""

from __future__ import annotations

MAX_SETTING_CHANGES = 10_000  # bounds session.json whatever a slider does
MAX_NO_FACE_RANGES = 100_000


class SessionNotes:
    """Plain lists, JSON-ready, appended to by the recording thread."""

    def __init__(self) -> None:
        # {"time_s", "setting", "from", "to"} per change of a setting that affects the figures
        self.setting_changes: list[dict] = []
        # [start_s, end_s] of the processed frames where no face was found
        self.no_face_s: list[list[float]] = []
        self._no_face_open = False

    def add_setting_change(self, time_s: float, setting: str, old: object, new: object) -> None:
        if len(self.setting_changes) < MAX_SETTING_CHANGES:
            self.setting_changes.append(
                {"time_s": round(float(time_s), 3), "setting": str(setting), "from": old, "to": new}
            )

    def note_faces(self, time_s: float, found: bool) -> None:
        ranges = self.no_face_s
        if found:
            self._no_face_open = False
        elif self._no_face_open:
            ranges[-1][1] = round(time_s, 3)
        elif len(ranges) < MAX_NO_FACE_RANGES:
            ranges.append([round(time_s, 3), round(time_s, 3)])
            self._no_face_open = True


__all__ = ["SessionNotes"]
