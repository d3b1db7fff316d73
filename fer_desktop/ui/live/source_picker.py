"""The Live tab's source list: cameras found in the background, recent files and streams, pickers."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QFileDialog, QInputDialog, QWidget

from fer_desktop.core.live.sources import list_cameras, parse_source, redact
from fer_desktop.core.support.errors import UserError
from fer_desktop.core.support.image_files import VIDEO_EXTS
from fer_desktop.workers.tasks import LatestTask

NO_CAMERA = UserError(
    "No camera found.",
    "Connect a camera (the list looks for cameras again each time you open it), or open a "
    'video file instead (choose "Video file…" in the source list, or File ▸ Open video…).',
)
NONE, PICK_FILE, PICK_URL = "none", "pick-file", "pick-url"


class SourcePicker(QComboBox):
    """Cameras, remembered files/URLs, then "Video file…" and "Stream URL…".

    `source_chosen(text)` fires when the user picks a file or enters a URL through the dialogs.
    """

    source_chosen = Signal(str)

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        camera_lister: Callable[[], list[int]] = list_cameras,
        last_source: str = "",
    ) -> None:
        super().__init__(parent)
        self.last_source = last_source
        self.addItem("Looking for cameras…", (NONE, None))
        self.addItem("Video file…", (PICK_FILE, None))
        self.addItem("Stream URL…", (PICK_URL, None))
        self.activated.connect(self._on_activated)
        self._camera_lister = camera_lister
        self._cameras = LatestTask("Looking for cameras", self)
        self._cameras.finished.connect(self.set_cameras)
        self._cameras.failed.connect(lambda err: self.set_cameras([]))
        self._cameras.run(camera_lister)

    def rescan(self) -> None:
        """Look for cameras again (one plugged in after the app started), in the background."""
        if not self._cameras.busy:
            self._cameras.run(self._camera_lister)

    def showPopup(self) -> None:  # noqa: N802 - Qt's name
        self.rescan()  # the list updates while open when a new camera is found
        super().showPopup()

    def current_source(self) -> tuple[str, object]:
        """(kind, value) of the selected entry: camera, file, url, or none / pick-file / pick-url."""
        return self.currentData()

    def set_cameras(self, cams: list[int]) -> None:
        current = self.currentData()
        if self.itemData(0) == (NONE, None):
            self.removeItem(0)  # "Looking for cameras…" / "No camera found"
        while self.count() and (self.itemData(0) or ("",))[0] == "camera":
            self.removeItem(0)  # the cameras found before: the new list replaces them
        if not cams:
            self.insertItem(0, "No camera found", (NONE, None))
            self.setItemData(0, NO_CAMERA.hint, Qt.ItemDataRole.ToolTipRole)
        for i, cam in enumerate(cams):
            self.insertItem(i, f"Camera {cam}", ("camera", cam))
        if current[0] == NONE:
            last = self.last_source
            idx = self.index_of(("camera", int(last))) if last.isdigit() else -1
            self.setCurrentIndex(max(0, idx))
        else:
            self.setCurrentIndex(max(0, self.index_of(current)))

    def remember(self, text: str) -> None:
        """Select `text` (adding it above the pickers when new)."""
        self.last_source = text
        spec = parse_source(text)
        data = ("camera", spec.value) if spec.kind == "camera" else (spec.kind, text)
        idx = self.index_of(data)
        if idx < 0:
            idx = self.count() - 2  # before "Video file…" / "Stream URL…"
            self.insertItem(idx, spec.label, data)
            self.setItemData(idx, redact(text), Qt.ItemDataRole.ToolTipRole)
        self.setCurrentIndex(idx)

    def index_of(self, data: tuple) -> int:
        """The row holding `data`, or -1 (QComboBox.findData compares Python tuples by
        identity, so an entry would be added again each time it is chosen)."""
        for i in range(self.count()):
            if tuple(self.itemData(i) or ()) == tuple(data):
                return i
        return -1

    def forget(self, text: str) -> None:
        """Remove a file or stream that could not be opened from the list (cameras stay)."""
        for kind in ("file", "url"):
            while (i := self.index_of((kind, text))) >= 0:
                self.removeItem(i)
                self.setCurrentIndex(0)
        if self.last_source == text:
            self.last_source = ""

    def open_video_dialog(self) -> None:
        exts = " ".join(f"*{e}" for e in sorted(VIDEO_EXTS))
        path, _ = QFileDialog.getOpenFileName(
            self, "Open a video", "", f"Videos ({exts});;All files (*)"
        )
        if path:
            self.source_chosen.emit(path)

    def open_url_dialog(self) -> None:
        url, ok = QInputDialog.getText(self, "Open a stream", "Stream URL (rtsp://, http://…):")
        if ok and url.strip():
            self.source_chosen.emit(url.strip())

    def shutdown(self) -> None:
        """Forget a camera probe still running (it may hang in a driver; it holds no model)."""
        self._cameras.cancel()

    def _on_activated(self, index: int) -> None:
        kind = self.itemData(index)[0]
        if kind == PICK_FILE:
            self.open_video_dialog()
        elif kind == PICK_URL:
            self.open_url_dialog()
