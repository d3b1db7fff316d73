"""The Photos tab: open or drop images (and folders), see each annotated, save copies and a CSV.

Photos are decoded and classified in the background (one `LatestTask`, one photo at a time, over
the models the Live tab uses too), so a 20 MP photo never freezes the window. A file that cannot
be used gets its own message in the list and the others go on; one summary dialog per batch
lists the failures.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from fer_desktop.core.photos import annotate as photos
from fer_desktop.core.photos import io as photo_io
from fer_desktop.core.pipeline.shared_models import LoadedModels, SharedPipeline, load_models
from fer_desktop.core.settings import Settings
from fer_desktop.core.support.errors import UserError
from fer_desktop.core.support.image_files import IMAGE_EXTS
from fer_desktop.core.support.resources import annotated_dir
from fer_desktop.ui.errors import show_error
from fer_desktop.ui.photos.details import PhotoDetails
from fer_desktop.ui.photos.list import PhotoEntry, PhotoList
from fer_desktop.ui.photos.saver import PhotoSaver
from fer_desktop.ui.tab_context import TabContext
from fer_desktop.ui.video_view import VideoView
from fer_desktop.ui.widgets import push_button
from fer_desktop.workers.model_service import ModelService
from fer_desktop.workers.tasks import LatestTask


def batch_error(errors: list[str], done: int) -> UserError:
    """One message for the files of a batch that could not be used: the first reason on the
    message's own line (the status bar shows that line), the rest in the hint."""
    first = " ".join(errors[0].split())
    if len(errors) == 1:
        message = f"1 file could not be used: {first}"
    else:
        message = f"{len(errors)} files could not be used, e.g. {first}"
    others = (
        f"The other {done} image(s) were processed; see the list on the left."
        if done
        else "No image was processed."
    )
    more = "\n".join(" ".join(e.split()) for e in errors[1:10])
    return UserError(message, (more + "\n" if more else "") + others)


class PhotoTab(QWidget):
    photo_processed = Signal(object)  # PhotoEntry (done or failed)
    batch_finished = Signal()  # nothing left to process
    saved = Signal(object)  # list[Path] written

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        context: TabContext | None = None,
        settings: Settings | None = None,
        models: ModelService | None = None,
        models_loader: Callable = load_models,
    ) -> None:
        super().__init__(parent)
        self.context = TabContext.of(self, context, settings, models, models_loader)
        self.settings, self.models = self.context.settings, self.context.models
        # this tab's own pipeline over the shared models (track=False)
        self.pipeline: SharedPipeline | None = None
        self.selected_face: int | None = None
        self._batch: list[Path] = []  # the photos the running batch was given
        self._batch_errors: list[str] = []
        self._save_folder = ""  # the folder the last copies went to: offered again
        self._worker = LatestTask("Processing photos", self)
        self._worker.progress.connect(self._on_processed)
        self._worker.finished.connect(self._on_batch_done)
        self._worker.failed.connect(self._on_batch_failed)
        self._saver = PhotoSaver(self)
        self._saver.status.connect(self._status)
        self._saver.saved.connect(self._on_saved)
        self._saver.failed.connect(self._update_save_button)
        self.models.failed.connect(self._on_models_failed)
        self._build_ui()
        self.setAcceptDrops(True)

    def _build_ui(self) -> None:
        self.open_button = push_button("Open photos…", self.open_dialog)
        self.save_button = push_button("Save annotated…", self.save_dialog)
        self.save_button.setEnabled(False)
        self.clear_button = push_button("Clear", self.clear)
        self.list = PhotoList()
        self.list.currentRowChanged.connect(self._show_entry)
        self.status_label = QLabel("Open photos or drop images and folders here.")
        self.status_label.setWordWrap(True)
        left = QWidget()
        col = QVBoxLayout(left)
        row = QHBoxLayout()
        for b in (self.open_button, self.save_button, self.clear_button):
            row.addWidget(b)
        col.addLayout(row)
        col.addWidget(self.list, 1)
        col.addWidget(self.status_label)
        self.view = VideoView(
            self, placeholder="Open photos (File ▸ Open photos…) or drop them here"
        )
        self.view.face_clicked.connect(self._on_face_clicked)
        self.details = PhotoDetails()
        self.bars, self.faces_label = self.details.bars, self.details.faces_label
        split = QSplitter()
        for w, stretch in ((left, 0), (self.view, 1), (self.details, 0)):
            split.addWidget(w)
            split.setStretchFactor(split.count() - 1, stretch)
        split.setSizes([280, 700, 300])
        QVBoxLayout(self).addWidget(split)

    # ---------------------------------------------------------------------------- public API
    @property
    def entries(self) -> list[PhotoEntry]:
        return self.list.entries

    @property
    def current_entry(self) -> PhotoEntry | None:
        return self.list.current_entry

    def open_dialog(self) -> None:
        exts = " ".join(f"*{e}" for e in sorted(IMAGE_EXTS))
        paths, _ = QFileDialog.getOpenFileNames(
            self, "Open photos", "", f"Images ({exts});;All files (*)"
        )
        if paths:
            self.add_paths(paths)

    def add_paths(self, paths) -> int:
        """Queue images (folders are searched); returns how many new files were added."""
        given = [Path(p) for p in paths]
        files = photo_io.collect_images(given)
        empty = [p for p in given if p.is_dir() and not any(f.is_relative_to(p) for f in files)]
        if empty:
            show_error(
                self,
                UserError(
                    f"No images found in {', '.join(p.name for p in empty)}.",
                    "Choose a folder with JPEG, PNG, BMP, TIFF or WebP files.",
                ),
            )
        known = {e.path for e in self.entries}
        new = [p for p in files if p not in known]
        for p in new:
            self.list.add(p)
        if new:
            if not self._worker.busy:
                self._batch_errors = []
            self._status(f"Processing {len(new)} image(s)…")
            self._process_pending()
            if self.list.currentRow() < 0:
                self.list.setCurrentRow(len(self.entries) - len(new))
        return len(new)

    def clear(self) -> None:
        self._worker.cancel()
        self._batch = []
        self.list.clear_all()
        self.view.clear()
        self.details.clear()
        self.save_button.setEnabled(False)

    def is_busy(self) -> bool:
        return self._worker.busy or bool(self.list.pending())

    def save_dialog(self) -> None:
        # Not the photos' own folder: copies go to a folder of their own (remembered).
        start = self._save_folder
        if not start:
            start = str(annotated_dir())
            try:
                Path(start).mkdir(parents=True, exist_ok=True)
            except OSError:
                start = ""
        folder = QFileDialog.getExistingDirectory(self, "Save annotated copies to", start)
        if folder:
            self.save_to(folder)

    def save_to(self, folder: str | Path) -> None:
        """Write annotated copies and faces.csv into `folder` in the background (`saved` reports)."""
        self._save_folder = str(folder)
        threshold = self.pipeline.threshold if self.pipeline is not None else None
        if self._saver.save(self.entries, folder, threshold):
            self.save_button.setEnabled(False)

    def apply_settings(self) -> None:
        """Use a new detector/model: process every photo again with it."""
        models = self.models.current(self.settings)
        if models is not None and self.pipeline is not None:
            if self.pipeline.classifier is models.pick(self.settings.accurate):
                return
        self.pipeline = None
        self._worker.cancel()
        self._batch = []
        self.list.reset_all()
        if self.entries:
            self._process_pending()

    def shutdown(self, timeout: float = 15.0) -> None:
        """Stop after the photo being processed (window closing) and wait for the threads."""
        self._worker.cancel()
        self.wait(timeout)
        self.models.shutdown(timeout)
        self._saver.wait(timeout)  # never leave a half-saved batch behind

    def wait(self, timeout: float | None = None) -> bool:
        return self._worker.wait(timeout)

    # ------------------------------------------------------------------------------ internals
    def _status(self, text: str) -> None:
        self.status_label.setText(text)

    def _process_pending(self) -> None:
        """Start a batch with the photos still pending, unless one is running (it continues)."""
        if self.pipeline is None:
            self.models.when_ready(self.settings, self._on_models, owner=self)
            return  # `_on_models` comes back here, now or once the models are loaded
        if self._batch:
            return  # the running batch ends in `_on_batch_done`, which comes back here
        pending = self.list.pending()
        if pending:
            self._batch = pending
            self._worker.run(photos.process_photos, self.pipeline, pending)

    def _on_models(self, models: LoadedModels) -> None:
        self.pipeline = models.pipeline(self.settings, accurate=self.settings.accurate)
        if self.list.pending():
            self._process_pending()

    def _on_models_failed(self, err: UserError) -> None:
        if not self.list.pending():
            return  # the Live tab reports it
        for i, e in enumerate(self.entries):
            if e.status == "pending":
                e.status, e.error = "failed", err
                self.list.refresh(i)
        self._status("The model could not be loaded.")
        show_error(self, err)

    def _on_processed(self, item: tuple) -> None:
        path, out = item
        i = self.list.index_of(path)
        if i < 0 or self.entries[i].status != "pending":
            return
        e = self.entries[i]
        e.finish(out)
        if e.error is not None:
            self._batch_errors.append(str(e.error))
        self.list.refresh(i)
        if i == self.list.currentRow():
            self._show_entry(i)
        self._update_save_button()
        self.photo_processed.emit(e)

    def _on_batch_done(self, _result: object = None) -> None:
        batch, self._batch = self._batch, []
        if self.list.pending():  # photos added while the batch ran
            self._process_pending()
            return
        done, failed = self.list.count_status("done"), self.list.count_status("failed")
        clf = self.pipeline.classifier if self.pipeline is not None else None
        ran = f" Accurate mode: {clf.name}." if clf is not None and clf.arch == "ensemble" else ""
        shown = (
            f' Faces below {self.pipeline.threshold:.0%} are "uncertain" (Live\'s Min. '
            "confidence; saved in faces.csv)."
            if self.pipeline is not None
            else ""
        )
        self._status(
            f"{done} image(s) processed"
            + (f", {failed} could not be used." if failed else ".")
            + shown
            + ran
        )
        if self._batch_errors:
            errors, self._batch_errors = self._batch_errors, []
            show_error(self, batch_error(errors, max(0, len(batch) - len(errors))))
        self.batch_finished.emit()

    def _on_batch_failed(self, err: UserError) -> None:
        self._batch = []
        self._status("Processing stopped.")
        show_error(self, err)

    def _show_entry(self, row: int) -> None:
        e = self.entries[row] if 0 <= row < len(self.entries) else None
        self.selected_face = None
        self.view.selected_track = None
        if e is None or e.status != "done":
            self.view.clear(
                "Processing…"
                if e is not None and e.status == "pending"
                else (str(e.error) if e is not None else "No photo selected")
            )
            self.details.clear()
            return
        self.view.set_frame(
            e.display, e.display_faces or (), note=None if e.display_faces else photos.NO_FACE_TEXT
        )
        self._update_faces()

    def _on_face_clicked(self, track: int) -> None:
        self.selected_face = track if track >= 0 else None
        self._update_faces()

    def _update_faces(self) -> None:
        self.details.show_entry(self.current_entry, self.selected_face)

    def _on_saved(self, written: list[Path]) -> None:
        self._update_save_button()
        self.saved.emit(written)

    def _update_save_button(self) -> None:
        self.save_button.setEnabled(self.list.count_status("done") > 0)

    # ---------------------------------------------------------------------------- drag & drop
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            self.add_paths(paths)
            event.acceptProposedAction()
