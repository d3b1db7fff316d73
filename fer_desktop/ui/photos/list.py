"""The Photos tab's list: one entry per opened file with its state (processing, faces, failure)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSize
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QStyle, QWidget

from fer_desktop.core.photos import annotate as photos
from fer_desktop.core.support.errors import UserError
from fer_desktop.core.types import FaceResult, FrameResult

ICON_SIZE = QSize(16, 16)  # the style's 32-48 px message icons dwarf a two-line entry


@dataclass
class PhotoEntry:
    path: Path
    status: str = "pending"  # pending | done | failed
    result: FrameResult | None = None  # boxes in the original image's pixels
    display: np.ndarray | None = None  # downscaled copy for the view
    display_faces: list[FaceResult] | None = None  # boxes in `display` pixels
    error: UserError | None = None
    file_error: bool = False  # failed for the file itself: another model would fail the same way

    @property
    def summary(self) -> str:
        if self.status == "pending":
            return "processing…"
        if self.status == "failed":
            return self.error.message if self.error else "failed"
        assert self.result is not None  # a "done" entry has its result
        n = len(self.result.faces)
        return photos.NO_FACE_TEXT if n == 0 else f"{n} face{'s' if n > 1 else ''}"

    def finish(self, out: photos.ProcessedPhoto | UserError) -> None:
        if isinstance(out, UserError):
            self.status, self.error, self.file_error = "failed", out, True
        else:
            self.status = "done"
            self.result, self.display, self.display_faces = (
                out.result,
                out.display,
                out.display_faces,
            )


class PhotoList(QListWidget):
    """Shows `entries` (the list is the model; call `refresh(i)` after changing one)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.entries: list[PhotoEntry] = []
        self.setWordWrap(True)
        self.setIconSize(ICON_SIZE)

    def add(self, path: Path) -> PhotoEntry:
        entry = PhotoEntry(path)
        self.entries.append(entry)
        item = QListWidgetItem(self._text(entry))
        item.setToolTip(str(path))
        self.addItem(item)
        return entry

    def index_of(self, path: Path) -> int:
        return next((i for i, e in enumerate(self.entries) if e.path == path), -1)

    def reset_all(self) -> None:
        """Every entry back to "processing…" (a new model will process them again), but for
        files that could not be used: they keep their message, not shown a second time."""
        for i, e in enumerate(self.entries):
            if e.file_error:
                continue
            self.entries[i] = PhotoEntry(e.path)
            self.item(i).setIcon(self._blank_icon())
            self.refresh(i)

    def clear_all(self) -> None:
        self.entries.clear()
        self.clear()

    @property
    def current_entry(self) -> PhotoEntry | None:
        row = self.currentRow()
        return self.entries[row] if 0 <= row < len(self.entries) else None

    def pending(self) -> list[Path]:
        return [e.path for e in self.entries if e.status == "pending"]

    def count_status(self, status: str) -> int:
        return sum(e.status == status for e in self.entries)

    def refresh(self, i: int) -> None:
        e, item = self.entries[i], self.item(i)
        item.setText(self._text(e))
        icon = {
            "failed": QStyle.StandardPixmap.SP_MessageBoxWarning,
            "done": QStyle.StandardPixmap.SP_DialogApplyButton,
        }.get(e.status)
        if icon is not None:
            item.setIcon(self.style().standardIcon(icon))
        item.setToolTip(f"{e.path}\n{e.error}" if e.error else str(e.path))

    @staticmethod
    def _text(e: PhotoEntry) -> str:
        return f"{e.path.name}\n    {e.summary}"

    @staticmethod
    def _blank_icon():
        from PySide6.QtGui import QIcon

        return QIcon()
