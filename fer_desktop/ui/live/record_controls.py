"""The Live tab's Record section: a Record toggle, "also save annotated video", where it went.

Recording taps the live session's inference thread (`LiveSession.recorder`, a
`core.sessions.live_recorder.LiveRecorder`), so every processed frame is written, not only the ones painted.
Finishing a recording (waiting for the video encoder) runs in the background; a full disk stops
the recording with a message while the live view goes on.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from fer_desktop.core.sessions.annotations import kind_names, read_markers_csv
from fer_desktop.core.sessions.layout import new_session_dir
from fer_desktop.core.sessions.study import MAX_ID, MAX_NOTE, StudyInfo
from fer_desktop.core.settings import Settings
from fer_desktop.core.support.errors import UserError
from fer_desktop.ui.errors import show_error
from fer_desktop.ui.live.marker_kinds import edit_marker_kinds
from fer_desktop.ui.sessions.session_view import open_session
from fer_desktop.ui.widgets import ElidedLabel
from fer_desktop.workers.live_session import LiveSession
from fer_desktop.workers.tasks import LatestTask

MIN_RECORDING_S = 1.0  # a click on Stop sooner is the second click of a double-click: ignored
RECORD_TEXT, STOP_TEXT = "● Record", "■ Stop recording"  # glyphs every UI font has


class RecordControls(QWidget):
    """Record toggle for a LiveSession; enabled while the session runs, stops with it."""

    recording_changed = Signal(bool)
    saved = Signal(object)  # session.json contents of a finished recording
    marker_added = Signal(float, str, int)  # perf_counter time, name, kind: the timeline draws it

    def __init__(
        self, session: LiveSession, settings: Settings, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.settings = settings
        self.folder: Path | None = None  # the current or last recording
        self._started = 0.0
        self.record_button = QPushButton(RECORD_TEXT)
        self.record_button.setCheckable(True)
        self.record_button.setEnabled(False)
        self.record_button.setToolTip(
            "Write faces.csv and session.json (one row per face per processed frame) into a new "
            "folder in the sessions folder"
        )
        self.record_button.toggled.connect(self._on_toggled)
        self.video_check = QCheckBox("Also save annotated video")
        self.video_check.setToolTip("annotated.mp4: the video with the overlay, as seen")
        self.video_check.setChecked(settings.record_video)
        self.video_check.toggled.connect(self._on_video_toggled)
        # One line that never widens the narrow panel; the whole text is its tooltip.
        self.status = ElidedLabel("Not recording")
        self.marker_button = QPushButton("Add marker (M)")
        self.marker_button.setToolTip("Mark this moment of the recording (named Marker 1, 2, …; "
                                      "rename markers in the session window)")  # fmt: skip
        self.marker_button.setEnabled(False)
        self.marker_button.clicked.connect(self.add_marker)
        self.kinds_button = QPushButton("Marker kinds…")
        self.kinds_button.setToolTip("Name the kinds the keys 1-9 mark (each has its colour)")
        self.kinds_button.clicked.connect(lambda: edit_marker_kinds(self, self.settings))
        self.import_button = QPushButton("Import markers…")
        self.import_button.setToolTip(
            "Markers to add when Record starts (time_s,name[,kind,end_s], seconds from the start)"
        )
        self.import_button.clicked.connect(self._import_dialog)
        self.pending: list = []  # imported markers, added to the next recording
        self.open_button = QPushButton("Open session")
        self.open_button.setVisible(False)  # once a recording was saved (the panel is short)
        self.open_button.clicked.connect(self.open_last)
        # Who and what (issue 30): kept in session.json, the folder name and the tables.
        self.participant_edit, self.condition_edit, self.note_edit = (
            QLineEdit(),
            QLineEdit(),
            QLineEdit(),
        )
        for edit, hint, limit in ((self.participant_edit, "e.g. P01", MAX_ID),
                                  (self.condition_edit, "e.g. A", MAX_ID),
                                  (self.note_edit, "optional", MAX_NOTE)):  # fmt: skip
            edit.setPlaceholderText(hint)
            edit.setMaxLength(limit)
        study = QFormLayout()
        study.setContentsMargins(0, 0, 0, 0)
        study.addRow("Participant", self.participant_edit)
        study.addRow("Condition", self.condition_edit)
        study.addRow("Note", self.note_edit)
        layout = QVBoxLayout(self)  # one column: the side panel is narrow
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(study)
        layout.addWidget(self.record_button)
        layout.addWidget(self.video_check)
        layout.addWidget(self.marker_button)
        tools = QHBoxLayout()
        tools.addWidget(self.kinds_button)
        tools.addWidget(self.import_button)
        layout.addLayout(tools)
        layout.addWidget(self.status)
        layout.addWidget(self.open_button)
        self._timer = QTimer(self, interval=500)
        self._timer.timeout.connect(self._show_progress)
        self._finisher = LatestTask("Finishing the recording", self)
        self._finisher.finished.connect(self._on_saved)
        self._finisher.failed.connect(lambda err: show_error(self, err))
        session.state_changed.connect(self._on_state)
        session.recording_failed.connect(self._on_failed)
        session.recording_warning.connect(lambda err: show_error(self, err))  # still recording

    @property
    def recording(self) -> bool:
        return self.session.recording

    def start(self) -> None:
        """Start recording the running session into a new session folder."""
        if self.recording or not self.session.running:
            return
        try:
            study = self.study().checked()
            folder = new_session_dir(suffix=study.folder_suffix())
            self.session.start_recording(folder, video=self.video_check.isChecked(),
                                         settings=asdict(self.settings), study=study)  # fmt: skip
        except (OSError, UserError) as exc:
            self._set_checked(False)
            show_error(self, exc)
            return
        self.folder = folder
        for m in self.pending:  # the study's planned onsets, on the recording's clock
            self.session.recorder.add_marker_at(m)
        self.pending = []
        self.import_button.setText("Import markers…")
        self._started = time.monotonic()
        self._set_checked(True)
        for w in (self.video_check, self.participant_edit, self.condition_edit, self.note_edit):
            w.setEnabled(False)  # they describe the whole recording
        self._timer.start()
        self._show_progress()
        self.marker_button.setEnabled(True)
        self.recording_changed.emit(True)

    def stop(self) -> None:
        """Stop recording; the files are finished in the background (`saved` says when)."""
        if not self.recording:
            return
        self._timer.stop()
        self._finisher.run(self.session.stop_recording)
        assert self.folder is not None  # record() set it when this recording started
        self.status.setText(f"Saving {self.folder.name}…")
        self._stopped()

    def study(self) -> StudyInfo:
        """The participant, condition and note typed above Record."""
        return StudyInfo(self.participant_edit.text(), self.condition_edit.text(),
                         self.note_edit.text())  # fmt: skip

    def open_last(self):
        return open_session(self.folder, self) if self.folder is not None else None

    def shutdown(self, timeout: float = 30.0) -> None:
        """Finish a recording still running and wait for its files (window closing)."""
        self.stop()
        self._finisher.wait(timeout)

    # ------------------------------------------------------------------------------ internals
    def _on_toggled(self, on: bool) -> None:
        if on and not self.recording:
            self.start()
        elif not on and self.recording:
            if time.monotonic() - self._started < MIN_RECORDING_S:  # a double-click (issue 32)
                self._set_checked(True)
                return
            self.stop()

    def _on_video_toggled(self, on: bool) -> None:
        self.settings.record_video = on

    def _on_state(self, running: bool) -> None:
        self.record_button.setEnabled(running or self.recording)
        if not running:
            self.stop()  # the source ended or was stopped: the recording ends with it

    def _on_failed(self, err: UserError) -> None:
        self._timer.stop()
        self.status.setText(f"Stopped: {err.message}")
        self.open_button.setVisible(self.folder is not None)  # what was written is kept
        self._stopped()
        show_error(self, err)

    def _on_saved(self, info: dict | None) -> None:
        if info is None:
            return
        self.open_button.setVisible(True)
        # Short enough for the narrow panel; where it went is the tooltip and "Open session".
        n = len(info["tracks"])
        self.status.setText(
            f"Saved {plural(info['frames_processed'], 'frame')} of {plural(n, 'face')}."
        )
        self.status.setToolTip(f"Saved in {self.folder}")
        self.open_button.setToolTip(f"Open {self.folder}")
        self.saved.emit(info)

    def add_marker(self, kind: int = 0) -> None:
        """A marker at this moment of the recording (key M; keys 1-9 for a kind, named in
        Marker kinds…); nothing when not recording."""
        now = time.perf_counter()
        name = kind_names(self.settings.marker_kinds)[kind - 1] if kind else None
        marker = self.session.add_marker(name, kind) if self.recording else None
        if marker is not None:
            self.status.setText(f"{marker.name} at {marker.time_s:.1f} s")
            self.marker_added.emit(now, marker.name, kind)

    def import_markers(self, path: str) -> int:
        """Markers of a CSV to add when Record starts (a bad file says so, keeps nothing)."""
        try:
            self.pending = read_markers_csv(path)
        except UserError as err:
            show_error(self, err)
            return 0
        self.import_button.setText(f"{len(self.pending)} markers to add")
        self.status.setText(
            f"{len(self.pending)} markers from {Path(path).name} go into the next recording"
        )
        return len(self.pending)

    def _import_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Import markers", "", "Markers (*.csv);;All files (*)"
        )
        if path:
            self.import_markers(path)

    def _stopped(self) -> None:
        self.marker_button.setEnabled(False)
        self._set_checked(False)
        for w in (self.video_check, self.participant_edit, self.condition_edit, self.note_edit):
            w.setEnabled(True)
        self.record_button.setEnabled(self.session.running)
        self.recording_changed.emit(False)

    def _set_checked(self, on: bool) -> None:
        self.record_button.blockSignals(True)
        self.record_button.setChecked(on)
        self.record_button.blockSignals(False)
        self.record_button.setText(STOP_TEXT if on else RECORD_TEXT)

    def _show_progress(self) -> None:
        if self.recording:
            seconds = time.monotonic() - self._started
            self.status.setText(f"Recording {seconds:.0f} s: {self.folder}")


def plural(n: int, word: str) -> str:
    """ "1 frame", "2 frames", "0 faces"."""
    return f"{n} {word}{'' if n == 1 else 's'}"
