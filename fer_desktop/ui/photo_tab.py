"""The Photos tab: open or drop images (and folders), see each annotated, save copies and a CSV.

Decoding and inference run on one background thread ("fer-photos", one pipeline, one image at a
time), so a 20 MP photo never freezes the window. A file that cannot be used gets its own message
in the list and the others go on; one summary dialog per batch lists the failures.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from fer_desktop.core import photos
from fer_desktop.core.errors import UserError
from fer_desktop.core.overlay import label_text
from fer_desktop.core.pipeline import build_pipeline
from fer_desktop.core.settings import Settings
from fer_desktop.core.types import FaceResult, FrameResult
from fer_desktop.ui.errors import show_error
from fer_desktop.ui.prob_bars import ProbabilityBars
from fer_desktop.ui.video_view import VideoView
from fer_desktop.workers.live_session import BackgroundCall, PipelineLoader, pipeline_key

DISPLAY_MAX_SIDE = 2048  # the view keeps a copy this size, not the full 20 MP image


@dataclass
class PhotoEntry:
    path: Path
    status: str = "pending"  # pending | done | failed
    result: FrameResult | None = None  # boxes in the original image's pixels
    display: np.ndarray | None = None  # downscaled copy for the view
    display_faces: list[FaceResult] | None = None  # boxes in `display` pixels
    error: UserError | None = None

    @property
    def summary(self) -> str:
        if self.status == "pending":
            return "processing…"
        if self.status == "failed":
            return self.error.message if self.error else "failed"
        n = len(self.result.faces)
        return photos.NO_FACE_TEXT if n == 0 else f"{n} face{'s' if n > 1 else ''}"


def process_photo(pipeline, path: Path) -> tuple[FrameResult, np.ndarray, list[FaceResult]]:
    """Load, detect and classify one photo; keep only a display-sized copy of the pixels."""
    img = photos.load_image(path)
    result = pipeline.process(img, track=False)
    result.frame = None
    display, scale = photos.fit_within(img, DISPLAY_MAX_SIDE)
    return result, display, photos.scale_faces(result.faces, scale)


class PhotoTab(QWidget):
    photo_processed = Signal(object)  # PhotoEntry (done or failed)
    batch_finished = Signal()  # nothing left to process
    saved = Signal(object)  # list[Path] written
    # generation, path, (result, display, faces) or UserError
    _processed = Signal(int, object, object)
    _drained = Signal(int)

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        settings: Settings | None = None,
        pipeline_factory: Callable = build_pipeline,
    ) -> None:
        super().__init__(parent)
        self.settings = settings or Settings()
        self.entries: list[PhotoEntry] = []
        self.pipeline = None
        self.selected_face: int | None = None
        self._key: tuple | None = None
        self._loading_key: tuple | None = None
        self._gen = 0
        self._queue: deque[Path] = deque()
        self._lock = threading.Lock()
        self._workers: list[threading.Thread] = []
        self._active_gen: int | None = None  # generation of the worker that will take new items
        self._batch_errors: list[str] = []
        self.loader = PipelineLoader(self, pipeline_factory)
        self.loader.finished.connect(self._on_pipeline)
        self.loader.failed.connect(self._on_pipeline_failed)
        self._saver = BackgroundCall("Saving annotated images", self, "fer-save")
        self._saver.finished.connect(self._on_saved)
        self._saver.failed.connect(lambda err: self._save_done(err))
        self._processed.connect(self._on_processed, Qt.ConnectionType.QueuedConnection)
        self._drained.connect(self._on_drained, Qt.ConnectionType.QueuedConnection)
        self._build_ui()
        self.setAcceptDrops(True)

    def _build_ui(self) -> None:
        self.open_button = QPushButton("Open photos…")
        self.open_button.clicked.connect(self.open_dialog)
        self.save_button = QPushButton("Save annotated…")
        self.save_button.clicked.connect(self.save_dialog)
        self.save_button.setEnabled(False)
        self.clear_button = QPushButton("Clear")
        self.clear_button.clicked.connect(self.clear)
        self.list = QListWidget()
        self.list.setWordWrap(True)
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
        self.bars = ProbabilityBars()
        self.faces_label = QLabel()
        self.faces_label.setWordWrap(True)
        self.faces_label.setAlignment(Qt.AlignmentFlag.AlignTop)
        right = QWidget()
        rcol = QVBoxLayout(right)
        rcol.addWidget(self.bars)
        rcol.addWidget(self.faces_label, 1)
        split = QSplitter()
        for w, stretch in ((left, 0), (self.view, 1), (right, 0)):
            split.addWidget(w)
            split.setStretchFactor(split.count() - 1, stretch)
        split.setSizes([280, 700, 300])
        QVBoxLayout(self).addWidget(split)

    # ---------------------------------------------------------------------------- public API
    def open_dialog(self) -> None:
        exts = " ".join(f"*{e}" for e in sorted(photos.IMAGE_EXTS))
        paths, _ = QFileDialog.getOpenFileNames(
            self, "Open photos", "", f"Images ({exts});;All files (*)"
        )
        if paths:
            self.add_paths(paths)

    def add_paths(self, paths) -> int:
        """Queue images (folders are searched); returns how many new files were added."""
        given = [Path(p) for p in paths]
        files = photos.collect_images(given)
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
            self.entries.append(PhotoEntry(p))
            item = QListWidgetItem(self._item_text(self.entries[-1]))
            item.setToolTip(str(p))
            self.list.addItem(item)
        if new:
            self._batch_errors = []
            with self._lock:
                self._queue.extend(new)
            self._status(f"Processing {len(new)} image(s)…")
            self._ensure_running()
            if self.list.currentRow() < 0:
                self.list.setCurrentRow(len(self.entries) - len(new))
        return len(new)

    def clear(self) -> None:
        self._gen += 1
        with self._lock:
            self._queue.clear()
        self.entries.clear()
        self.list.clear()
        self.view.clear()
        self.bars.set_probabilities(None)
        self.faces_label.clear()
        self.save_button.setEnabled(False)

    def is_busy(self) -> bool:
        return bool(self._queue) or any(t.is_alive() for t in self._workers) or self.loader.busy

    @property
    def current_entry(self) -> PhotoEntry | None:
        row = self.list.currentRow()
        return self.entries[row] if 0 <= row < len(self.entries) else None

    def save_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Save annotated copies to")
        if folder:
            self.save_to(folder)

    def save_to(self, folder: str | Path) -> None:
        """Write annotated copies and faces.csv into `folder` in the background (`saved` reports)."""
        done = [e for e in self.entries if e.status == "done"]
        if not done:
            show_error(
                self,
                UserError(
                    "There is nothing to save yet.",
                    "Open photos and wait until they are processed.",
                ),
            )
            return
        self.save_button.setEnabled(False)
        self._status(f"Saving {len(done)} annotated image(s)…")
        self._saver.run(photos.save_batch, [(e.path, e.result) for e in done], Path(folder))

    def apply_settings(self) -> None:
        """Use a new detector/model: reprocess every photo with it."""
        if pipeline_key(self.settings) == self._key:
            return
        self.pipeline = None
        self._gen += 1
        if self.entries:
            with self._lock:
                self._queue = deque(e.path for e in self.entries)
            for i, e in enumerate(self.entries):
                self.entries[i] = PhotoEntry(e.path)
                self.list.item(i).setText(self._item_text(self.entries[i]))
            self._ensure_running()

    def shutdown(self, timeout: float = 15.0) -> None:
        """Stop after the photo being processed (window closing) and wait for the threads."""
        self._gen += 1
        with self._lock:
            self._queue.clear()
        self.loader.cancel()
        self.wait(timeout)
        self.loader.wait(timeout)
        self._saver.wait(timeout)  # never leave a half-saved batch behind

    def wait(self, timeout: float | None = None) -> bool:
        for t in self._workers:
            t.join(timeout)
        self._workers = [t for t in self._workers if t.is_alive()]
        return not self._workers

    # ------------------------------------------------------------------------------ internals
    def _status(self, text: str) -> None:
        self.status_label.setText(text)

    def _ensure_running(self) -> None:
        key = pipeline_key(self.settings)
        if self.pipeline is None or self._key != key:
            if self._loading_key != key:  # not already loading these settings
                self._loading_key = key
                self.loader.load(replace(self.settings))
            return
        with self._lock:
            # The flag is cleared under the same lock by a worker that found the queue empty, so
            # an item queued now is either seen by the running worker or starts a new one.
            if self._active_gen == self._gen:
                return
            self._active_gen = gen = self._gen
            worker = threading.Thread(
                target=self._work, args=(gen, self.pipeline), name="fer-photos", daemon=True
            )
            self._workers = [t for t in self._workers if t.is_alive()] + [worker]
        worker.start()

    def _work(self, gen: int, pipeline) -> None:
        while True:
            with self._lock:
                if gen != self._gen or not self._queue:
                    if self._active_gen == gen:
                        self._active_gen = None
                    break
                path = self._queue.popleft()
            try:
                out: object = process_photo(pipeline, path)
            except UserError as exc:
                out = exc
            except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
                out = UserError(
                    f"{path.name} could not be processed ({type(exc).__name__}: {exc}).",
                    "Try another file; if it repeats, report it with the log file.",
                )
            try:
                self._processed.emit(gen, path, out)
            except RuntimeError:  # tab deleted
                return
        try:
            self._drained.emit(gen)
        except RuntimeError:
            pass

    def _on_pipeline(self, pipeline) -> None:
        self.pipeline, self._key, self._loading_key = pipeline, self._loading_key, None
        self._ensure_running()

    def _on_pipeline_failed(self, err: UserError) -> None:
        self._loading_key = None
        with self._lock:
            self._queue.clear()
        for i, e in enumerate(self.entries):
            if e.status == "pending":
                e.status, e.error = "failed", err
                self._refresh_item(i)
        self._status("The model could not be loaded.")
        show_error(self, err)

    def _on_processed(self, gen: int, path: Path, out: object) -> None:
        if gen != self._gen:
            return
        i = next((i for i, e in enumerate(self.entries) if e.path == path), -1)
        if i < 0:
            return
        e = self.entries[i]
        if isinstance(out, UserError):
            e.status, e.error = "failed", out
            self._batch_errors.append(str(out))
        else:
            e.status = "done"
            e.result, e.display, e.display_faces = out
        self._refresh_item(i)
        if i == self.list.currentRow():
            self._show_entry(i)
        self.save_button.setEnabled(any(x.status == "done" for x in self.entries))
        self.photo_processed.emit(e)

    def _on_drained(self, gen: int) -> None:
        with self._lock:
            if gen != self._gen or self._queue or self._active_gen is not None:
                return  # a newer worker is busy and will report when it is done
        done = sum(e.status == "done" for e in self.entries)
        failed = sum(e.status == "failed" for e in self.entries)
        self._status(
            f"{done} image(s) processed" + (f", {failed} could not be used." if failed else ".")
        )
        if self._batch_errors:
            errors, self._batch_errors = self._batch_errors, []
            show_error(
                self,
                UserError(
                    f"{len(errors)} file(s) could not be used:\n" + "\n".join(errors),
                    "The other images were processed; see the list on the left.",
                ),
            )
        self.batch_finished.emit()

    @staticmethod
    def _item_text(e: PhotoEntry) -> str:
        return f"{e.path.name}\n    {e.summary}"

    def _refresh_item(self, i: int) -> None:
        e, item = self.entries[i], self.list.item(i)
        item.setText(self._item_text(e))
        icon = {
            "failed": QStyle.StandardPixmap.SP_MessageBoxWarning,
            "done": QStyle.StandardPixmap.SP_DialogApplyButton,
        }.get(e.status)
        if icon is not None:
            item.setIcon(self.style().standardIcon(icon))
        item.setToolTip(f"{e.path}\n{e.error}" if e.error else str(e.path))

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
            self.bars.set_probabilities(None)
            self.faces_label.clear()
            return
        self.view.set_frame(
            e.display, e.display_faces, note=None if e.display_faces else photos.NO_FACE_TEXT
        )
        self._update_faces()

    def _on_face_clicked(self, track: int) -> None:
        self.selected_face = track if track >= 0 else None
        self._update_faces()

    def _update_faces(self) -> None:
        e = self.current_entry
        faces = e.result.faces if e is not None and e.result is not None else []
        face = next((f for f in faces if f.track_id == self.selected_face), None)
        if face is None and faces:
            face = max(faces, key=lambda f: f.area)
        if face is None:
            self.bars.set_probabilities(
                None, photos.NO_FACE_TEXT if e is not None and e.status == "done" else ""
            )
        else:
            self.bars.set_probabilities(
                face.probabilities, f"Face {face.track_id + 1}: {label_text(face)}"
            )
        self.faces_label.setText(
            "\n".join(
                f"{'▶ ' if f is face else '   '}Face {f.track_id + 1}: {label_text(f)}"
                for f in faces
            )
            + ("\n\nClick a face to see its bars." if len(faces) > 1 else "")
        )

    def _on_saved(self, out) -> None:
        written, problems = out
        self._save_done(None)
        folder = written[0].parent if written else ""
        self._status(
            f"Saved {len(written) - 1} annotated image(s) and {written[-1].name} to {folder}."
            if written
            else "Nothing was saved."
        )
        if problems:
            show_error(
                self,
                UserError(
                    f"{len(problems)} image(s) could not be saved:\n" + "\n".join(problems),
                    "The others were saved.",
                ),
            )
        self.saved.emit(written)

    def _save_done(self, err: UserError | None) -> None:
        self.save_button.setEnabled(any(e.status == "done" for e in self.entries))
        if err is not None:
            self._status("Saving failed.")
            show_error(self, err)

    # ---------------------------------------------------------------------------- drag & drop
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            self.add_paths(paths)
            event.acceptProposedAction()
