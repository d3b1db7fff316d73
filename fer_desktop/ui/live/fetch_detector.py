"""Fetch YOLOv8 face detector…: the download in the background, a busy dialog that can cancel."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QProgressDialog, QPushButton, QWidget

from fer_desktop.core.support.errors import UserError
from fer_desktop.ui.errors import show_error
from fer_desktop.workers.tasks import LatestTask

FETCH_TEXT = "Fetch YOLOv8 face detector…"


class DetectorFetch(QObject):
    """`start()` downloads with `fetch()`; `fetched(path)` on success, `cancelled()` when the user
    gives up (the download is abandoned: it holds no model), an error dialog on failure."""

    fetched = Signal(object)
    cancelled = Signal()

    def __init__(self, parent: QWidget, button: QPushButton, fetch: Callable) -> None:
        super().__init__(parent)
        self._parent, self._button, self._fetch = parent, button, fetch
        self._task = LatestTask("Downloading the YOLOv8 face detector", self)
        self._task.finished.connect(self._on_fetched)
        self._task.failed.connect(self._on_failed)
        self.dialog: QProgressDialog | None = None

    @property
    def busy(self) -> bool:
        return self._task.busy

    def start(self) -> None:
        if self._task.busy:
            return
        self._button.setEnabled(False)
        self._button.setText("Downloading YOLOv8 face detector…")
        dialog = QProgressDialog(
            "Downloading the YOLOv8 face detector from Hugging Face (about 6 MB)…",
            "Cancel",
            0,
            0,  # busy indicator: the download library reports no progress to us
            self._parent,
        )
        dialog.setWindowTitle("Fetch YOLOv8 face detector")
        dialog.setMinimumDuration(0)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.canceled.connect(self._cancel)
        self.dialog = dialog
        dialog.show()
        self._task.run(self._fetch)

    def cancel(self) -> None:
        """Abandon a running download without a word (the window is closing)."""
        self._task.cancel()

    def _cancel(self) -> None:
        self._task.cancel()
        self._done()
        self.cancelled.emit()

    def _done(self) -> None:
        self._button.setEnabled(True)
        self._button.setText(FETCH_TEXT)
        dialog, self.dialog = self.dialog, None
        if dialog is not None:
            dialog.canceled.disconnect(self._cancel)
            dialog.close()
            dialog.deleteLater()

    def _on_fetched(self, path) -> None:
        self._done()
        self.fetched.emit(path)

    def _on_failed(self, err: UserError) -> None:
        self._done()
        show_error(self._parent, err)
