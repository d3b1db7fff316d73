"""The Videos tab's queue: many videos (or folders) analysed as one job, as `fer-desktop analyze`
does with several inputs (core/jobs): worker processes, a status per video, the whole job's
progress and ETA, Cancel, and any finished video's session one double-click away."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from fer_desktop.core.jobs.inputs import expand_inputs
from fer_desktop.core.jobs.layout import JobFolder, video_key
from fer_desktop.core.jobs.runner import JobProgress, default_workers, iter_job, new_job_dir
from fer_desktop.core.settings import Settings
from fer_desktop.core.support.errors import UserError
from fer_desktop.core.support.image_files import VIDEO_EXTS
from fer_desktop.ui.errors import show_error
from fer_desktop.ui.sessions.session_view import open_session
from fer_desktop.workers.tasks import LatestTask

COLUMNS = ("Video", "Status", "Faces", "Time")
SHOWN_STATUS = {"done": "✔ done", "truncated": "⚠ truncated", "failed": "✖ failed",
                "cancelled": "cancelled", "pending": "queued"}  # fmt: skip


class BatchQueue(QGroupBox):
    """Add videos or folders, Analyse all, watch each video's status and the job's ETA."""

    job_finished = Signal(dict)  # job.json's contents

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__("Queue: many videos as one job", parent)
        self.settings = settings
        self.videos: list[Path] = []
        self.job_dir: Path | None = None
        self.info: dict | None = None
        self._stopping = False
        self._active = False  # a job was started and has not ended
        self.task = LatestTask("Analysing the queue", self)
        self.task.progress.connect(self._on_progress)
        self.task.finished.connect(self._on_finished)
        self.task.failed.connect(self._on_failed)

        self.add_button = QPushButton("Add videos…")
        self.add_button.clicked.connect(self.add_dialog)
        self.folder_button = QPushButton("Add folder…")
        self.folder_button.clicked.connect(self.add_folder_dialog)
        self.clear_button = QPushButton("Clear")
        self.clear_button.clicked.connect(self.clear)
        self.workers_spin = QSpinBox()
        self.workers_spin.setRange(1, 64)
        self.workers_spin.setValue(default_workers())
        self.workers_spin.setToolTip("Videos analysed at once, each in its own process")
        self.run_button = QPushButton("Analyse all")
        # clicked(bool) would hand `checked` to start() as the job folder (issue 32)
        self.run_button.clicked.connect(lambda _checked=False: self.start())
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        top = QHBoxLayout()
        for w in (self.add_button, self.folder_button, self.clear_button):
            top.addWidget(w)
        top.addStretch(1)
        top.addWidget(QLabel("Workers"))
        top.addWidget(self.workers_spin)
        top.addWidget(self.run_button)
        top.addWidget(self.cancel_button)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.cellDoubleClicked.connect(lambda row, _col: self.open_row(row))
        self.table.setToolTip("Double-click a finished video to open its session")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status = QLabel("Add videos or a folder; each gets its own session in one job folder.")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        root = QVBoxLayout(self)
        root.addLayout(top)
        root.addWidget(self.table, 1)
        root.addWidget(self.progress)
        root.addWidget(self.status)
        self._update_buttons()

    # ----------------------------------------------------------------------------------- API
    @property
    def running(self) -> bool:
        return self._active

    def add(self, paths: Sequence[str | Path]) -> int:
        """Queue the videos `paths` name (folders searched recursively); returns how many."""
        if self.running:
            return 0
        new = [p for p in expand_inputs(paths) if p not in self.videos]
        if new:
            self.job_dir = None  # a changed queue is a new job
        for p in new:
            self.videos.append(p)
            row = self.table.rowCount()
            self.table.insertRow(row)
            item = QTableWidgetItem(p.name)
            item.setToolTip(str(p))
            self.table.setItem(row, 0, item)
            for col, text in ((1, "queued"), (2, ""), (3, "")):
                self.table.setItem(row, col, QTableWidgetItem(text))
        self.status.setText(f"{len(self.videos)} video(s) in the queue.")
        self._update_buttons()
        return len(new)

    def add_dialog(self) -> None:
        exts = " ".join(f"*{e}" for e in sorted(VIDEO_EXTS))
        paths, _ = QFileDialog.getOpenFileNames(
            self, "Add videos to the queue", "", f"Videos ({exts});;All files (*)"
        )
        if paths:
            self.add(paths)

    def add_folder_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add every video in a folder")
        if folder and not self.add([folder]):
            self.status.setText(f"No new video found in {folder}.")

    def clear(self) -> None:
        if not self.running:
            self.videos, self.info, self.job_dir = [], None, None
            self.table.setRowCount(0)
            self.progress.setValue(0)
            self._update_buttons()

    def start(self, job_dir: str | Path | None = None) -> None:
        """Analyse the queue into `job_dir`; by default the folder of this queue's cancelled or
        ended job (its finished videos are kept, the rest analysed: docs/batch.md), or a new one
        once the queue changed."""
        if self.running or not self.videos:
            return
        if job_dir:
            self.job_dir = Path(job_dir)
        elif self.job_dir is None:
            self.job_dir = new_job_dir()
        self._stopping, self._active = False, True
        for row in range(self.table.rowCount()):
            self._cell(row, 1).setText("waiting")  # each gets its result when it ends
        self.progress.setRange(0, 0)  # busy until the first video ends
        self.status.setText(f"Analysing {len(self.videos)} video(s) into {self.job_dir}…")
        self.task.run(
            iter_job, list(self.videos), self.job_dir, replace(self.settings),
            workers=self.workers_spin.value(), should_stop=lambda: self._stopping,
        )  # fmt: skip
        self._update_buttons()

    def cancel(self) -> None:
        """No new video starts; those in flight stop at their next frame (the rest stay queued:
        Analyse all on the same job finishes them later)."""
        if self.running and not self._stopping:
            self._stopping = True
            self.status.setText("Cancelling: the videos in flight stop at their next frame…")
            self._update_buttons()

    def open_row(self, row: int):
        if self.job_dir is None or not 0 <= row < len(self.videos):
            return None
        folder = JobFolder(self.job_dir).video_dir(video_key(self.videos[row]))
        if not (folder / "faces.csv").is_file():
            return None
        return open_session(folder, self)

    def shutdown(self, timeout: float = 30.0) -> None:
        self._stopping = True
        self.task.wait(timeout)

    # ------------------------------------------------------------------------------ internals
    def _row_of(self, entry: dict) -> int:
        try:
            return self.videos.index(Path(entry.get("input", "")))
        except ValueError:
            return -1

    def _cell(self, row: int, column: int) -> QTableWidgetItem:
        item = self.table.item(row, column)
        assert item is not None  # add() gives every row its four items
        return item

    def _show_entry(self, entry: dict) -> None:
        row = self._row_of(entry)
        if row < 0:
            return
        status = entry.get("status", "?")
        shown = SHOWN_STATUS.get(status, status) + (
            " (earlier run)" if entry.get("skipped") else ""
        )
        self._cell(row, 1).setText(shown)
        self._cell(row, 1).setToolTip(entry.get("error") or entry.get("warning") or "")
        self._cell(row, 2).setText(str(entry.get("tracks", "")))
        secs = entry.get("seconds")
        self._cell(row, 3).setText(f"{secs:.1f} s" if isinstance(secs, int | float) else "")

    def _on_progress(self, p: JobProgress) -> None:
        # the bar counts what its text counts: seconds of video (videos differ in length)
        self.progress.setRange(0, max(round(p.video_s_total), 1))
        self.progress.setValue(round(p.video_s_done))
        if p.last:
            self._show_entry(p.last)
        eta = p.eta_s
        left = f", about {eta:.0f} s left" if eta is not None and p.done < p.total else ""
        self.status.setText(
            f"{p.done} of {p.total} videos; {p.video_s_done:.0f} of {p.video_s_total:.0f} s of "
            f"video{left}." + (" Cancelling…" if self._stopping else "")
        )

    def _on_finished(self, info: dict) -> None:
        self._active = False
        self.info = info
        for entry in info["videos"]:
            self._show_entry(entry)
        t = info["totals"]
        self.progress.setRange(0, max(t["videos"], 1))
        self.progress.setValue(t["videos"] - t["cancelled"])
        self.status.setText(
            f"{'Cancelled' if self._stopping else 'Done'}: {t['done']} done, {t['truncated']} "
            f"truncated, {t['failed']} failed, {t['cancelled']} not analysed; "
            f"{t['throughput']:.2f}x real time. Summary: {JobFolder(self.job_dir or '').summary_csv}"
        )
        self._update_buttons()
        self.job_finished.emit(info)

    def _on_failed(self, err: UserError) -> None:
        self._active = False
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status.setText(f"Stopped: {err.message}")
        self._update_buttons()
        show_error(self, err)

    def _update_buttons(self) -> None:
        running = self.running
        for w in (self.add_button, self.folder_button, self.clear_button, self.workers_spin):
            w.setEnabled(not running)
        self.run_button.setEnabled(bool(self.videos) and not running)
        self.cancel_button.setEnabled(running and not self._stopping)
