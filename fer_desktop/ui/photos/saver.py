"""Saving the Photos tab's results: full-resolution annotated copies and faces.csv, in the background."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from fer_desktop.core.photos import annotate as photos
from fer_desktop.core.support.errors import UserError
from fer_desktop.ui.errors import show_error
from fer_desktop.ui.photos.list import PhotoEntry
from fer_desktop.workers.tasks import LatestTask


class PhotoSaver(QObject):
    """`save(entries, folder)`; reports `saved(list[Path])` or `failed()`, and `status(text)`.

    Problems with single files are shown in one message; the other files are still saved.
    """

    saved = Signal(object)  # list[Path] written (annotated copies, then faces.csv)
    failed = Signal()
    status = Signal(str)

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self._widget = parent
        self._task = LatestTask("Saving annotated images", self)
        self._task.finished.connect(self._on_saved)
        self._task.failed.connect(self._on_failed)

    def save(
        self, entries: list[PhotoEntry], folder: str | Path, threshold: float | None = None
    ) -> bool:
        """Start saving the processed `entries`; False (and a message) when there are none."""
        done = [e for e in entries if e.status == "done"]
        if not done:
            show_error(
                self._widget,
                UserError(
                    "There is nothing to save yet.",
                    "Open photos and wait until they are processed.",
                ),
            )
            return False
        self.status.emit(f"Saving {len(done)} annotated image(s)…")
        items = [(e.path, e.result) for e in done]
        self._task.run(photos.save_batch, items, Path(folder), threshold)
        return True

    def wait(self, timeout: float | None = None) -> bool:
        return self._task.wait(timeout)

    def _on_saved(self, out) -> None:
        written, problems = out
        folder = written[0].parent if written else ""
        self.status.emit(
            f"Saved {len(written) - 1} annotated image(s) and {written[-1].name} to {folder}."
            if written
            else "Nothing was saved."
        )
        if problems:
            show_error(
                self._widget,
                UserError(
                    f"{len(problems)} image(s) could not be saved:\n" + "\n".join(problems),
                    "The others were saved.",
                ),
            )
        self.saved.emit(written)

    def _on_failed(self, err: UserError) -> None:
        self.status.emit("Saving failed.")
        show_error(self._widget, err)
        self.failed.emit()
