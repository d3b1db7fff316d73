"""Who and what a session is, said at record time (issue 30): a participant id, a condition and a
free note. They go into session.json (`"study"`), the session folder's name (safely), the
segments and summary tables and the report; a researcher groups sessions by them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from fer_desktop.core.support.errors import UserError

MAX_ID = 64  # characters of a participant id or a condition
MAX_NOTE = 2000
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class StudyInfo:
    participant: str = ""
    condition: str = ""
    note: str = ""

    def __bool__(self) -> bool:
        return bool(self.participant or self.condition or self.note)

    def checked(self) -> StudyInfo:
        """The same, trimmed; a UserError naming the field when one is too long or holds a
        control character (a line break in an id would break every table it goes into)."""
        out = {}
        for name, limit in (("participant", MAX_ID), ("condition", MAX_ID), ("note", MAX_NOTE)):
            value = str(getattr(self, name)).strip()
            if len(value) > limit:
                raise UserError(f"The {name} is {len(value)} characters long; at most {limit}.",
                                f"Shorten the {name}.")  # fmt: skip
            allowed = "\n\t" if name == "note" else ""
            if any(unicodedata.category(c) == "Cc" and c not in allowed for c in value):
                raise UserError(f"The {name} holds a control character.", f"Retype the {name}.")
            out[name] = value
        return StudyInfo(**out)

    def folder_suffix(self) -> str:
        """ "_P01_A" for participant "P01", condition "A": letters, digits, ".", "_" and "-"
        only (anything else becomes "-"), 40 characters at most; "" when neither is set."""
        parts = [_UNSAFE.sub("-", p).strip("-.") for p in (self.participant, self.condition)]
        text = "_".join(p for p in parts if p)[:40].rstrip("-._")
        return f"_{text}" if text else ""

    def to_json(self) -> dict[str, str]:
        return {"participant": self.participant, "condition": self.condition, "note": self.note}

    @classmethod
    def from_json(cls, value: object) -> StudyInfo:
        """What session.json says (tolerant: a missing or odd entry reads as empty)."""
        if not isinstance(value, dict):
            return cls()
        text = {k: v if isinstance(v := value.get(k), str) else "" for k in ("participant",
                "condition", "note")}  # fmt: skip
        return cls(
            text["participant"][:MAX_ID], text["condition"][:MAX_ID], text["note"][:MAX_NOTE]
        )
