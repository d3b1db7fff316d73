"""The session window's study panel: markers (add at the cursor, rename, remove), participants
(name a track, merge two tracks of one person), the per-segment table, and the exports
(segments.csv, the HTML report). Every edit is saved into session.json at once; faces.csv is
never rewritten."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from fer_desktop.core.emotions import VALENCE_NOTE
from fer_desktop.core.sessions.annotations import (
    Annotations,
    kind_names,
    read_markers_csv,
    save_annotations,
)
from fer_desktop.core.sessions.reader import SessionData
from fer_desktop.core.sessions.report import REPORT_NAME, write_report
from fer_desktop.core.sessions.segments import SEGMENTS_NAME, segment_rows, write_segments
from fer_desktop.core.support.errors import UserError
from fer_desktop.core.support.fileio import unique_path
from fer_desktop.ui.errors import show_error
from fer_desktop.ui.sessions.actions_view import ActionsView


def _table(headers: tuple[str, ...]) -> QTableWidget:
    t = QTableWidget(0, len(headers))
    t.setHorizontalHeaderLabels(headers)
    header = t.horizontalHeader()
    # every column fits the panel (420 px): the Segments table showed 4 of its 5 (issue 32)
    header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    t.verticalHeader().setVisible(False)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    return t


class StudyPanel(QTabWidget):
    """`changed` after an edit was saved (the window reloads the session to redraw)."""

    changed = Signal()

    def __init__(self, data: SessionData, cursor: Callable[[], float], parent=None) -> None:
        super().__init__(parent)
        self.data, self.cursor_time = data, cursor  # not `cursor`: QWidget.cursor() is taken
        self.notes: Annotations = data.annotations
        self.window_s: float | None = None
        self._filling = False

        self.markers = _table(("time (s)", "name"))
        self.markers.itemChanged.connect(self._marker_edited)
        self.add_marker_button = QPushButton("Add marker at cursor (M)")
        self.add_marker_button.clicked.connect(lambda: self.add_marker(self.cursor_time()))
        self.remove_marker_button = QPushButton("Remove")
        self.remove_marker_button.clicked.connect(self._remove_marker)
        self.import_markers_button = QPushButton("Import…")
        self.import_markers_button.setToolTip(
            "Add markers from a CSV file with the columns time_s,name (e.g. stimulus onsets)"
        )
        self.import_markers_button.clicked.connect(self._import_markers_dialog)
        row = QHBoxLayout()
        row.addWidget(self.add_marker_button)
        row.addWidget(self.import_markers_button)
        row.addWidget(self.remove_marker_button)
        box = QVBoxLayout()
        box.addWidget(self.markers, 1)
        box.addLayout(row)
        self.addTab(self._page(box), "Markers")

        self.people = _table(("track", "participant", "merged tracks"))
        self.people.itemChanged.connect(self._name_edited)
        self.merge_from, self.merge_into = QComboBox(), QComboBox()
        self.merge_button = QPushButton("Merge")
        self.merge_button.setToolTip("The same person seen again after leaving the frame")
        self.merge_button.clicked.connect(self._merge)
        form = QFormLayout()
        merge = QHBoxLayout()
        merge.addWidget(self.merge_from)
        merge.addWidget(QLabel("into"))
        merge.addWidget(self.merge_into)
        merge.addWidget(self.merge_button)
        form.addRow("Track", merge)
        # Hide the faces seen only briefly (false detections, passers-by): from the charts, the
        # report and the exports; faces.csv keeps them (issue 27).
        self.hide_spin = QDoubleSpinBox()
        self.hide_spin.setRange(0.0, 600.0)
        self.hide_spin.setSingleStep(0.5)
        self.hide_spin.setDecimals(1)
        self.hide_spin.setSuffix(" s")
        self.hide_spin.setSpecialValueText("show all")
        self.hide_spin.setToolTip(
            "Hide participants seen for less than this (first to last frame); faces.csv keeps them"
        )
        self.hide_spin.editingFinished.connect(self._hide_changed)
        self.hidden_label = QLabel("")
        hide = QHBoxLayout()
        hide.addWidget(self.hide_spin)
        hide.addWidget(self.hidden_label, 1)
        form.addRow("Hide if seen <", hide)
        box = QVBoxLayout()
        box.addWidget(self.people, 1)
        box.addLayout(form)
        self.addTab(self._page(box), "Participants")

        self.segments = _table(("segment", "participant", "frames", "dominant", "valence"))
        self.segments.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.window_spin = QDoubleSpinBox()
        self.window_spin.setRange(0, 3600)
        self.window_spin.setSuffix(" s")
        self.window_spin.setSpecialValueText("between markers")
        self.window_spin.setToolTip("0: segments from marker to marker; else fixed windows")
        self.window_spin.valueChanged.connect(self._window_changed)
        self.segments_button = QPushButton("Export segments…")
        self.segments_button.clicked.connect(self._export_segments)
        self.report_button = QPushButton("Export report…")
        self.report_button.setToolTip("One HTML file that opens in any browser, offline")
        self.report_button.clicked.connect(self._export_report)
        row = QHBoxLayout()
        row.addWidget(QLabel("Segments"))
        row.addWidget(self.window_spin)
        buttons = QHBoxLayout()
        buttons.addWidget(self.segments_button)
        buttons.addWidget(self.report_button)
        note = QLabel("Valence: P(happy) − max P(negative), from the 7 classes.")
        note.setToolTip(VALENCE_NOTE)
        note.setWordWrap(True)
        box = QVBoxLayout()
        box.addLayout(row)
        box.addWidget(self.segments, 1)
        box.addWidget(note)
        box.addLayout(buttons)
        self.addTab(self._page(box), "Segments")
        self.actions_view = ActionsView(data)  # what the face does (issue 31)
        self.addTab(self.actions_view, "Facial actions")
        self.set_data(data)

    @staticmethod
    def _page(layout) -> QWidget:
        w = QWidget()
        w.setLayout(layout)
        return w

    # ----------------------------------------------------------------------------------- API
    def set_data(self, data: SessionData) -> None:
        """Show a (re)loaded session."""
        self.data, self.notes = data, data.annotations
        if hasattr(self, "actions_view"):
            self.actions_view.set_data(data)
        self._filling = True
        self.markers.setRowCount(0)
        for m in self.notes.markers:
            r = self.markers.rowCount()
            self.markers.insertRow(r)
            t = QTableWidgetItem(f"{m.time_s:.2f}")
            t.setFlags(t.flags() & ~Qt.ItemFlag.ItemIsEditable)
            self.markers.setItem(r, 0, t)
            self.markers.setItem(r, 1, QTableWidgetItem(m.name))
        self.people.setRowCount(0)
        for tid, tr in sorted(data.tracks.items()):
            r = self.people.rowCount()
            self.people.insertRow(r)
            first = QTableWidgetItem(str(tid))
            first.setFlags(first.flags() & ~Qt.ItemFlag.ItemIsEditable)
            merged = QTableWidgetItem(", ".join(str(t) for t in tr.merged))
            merged.setFlags(merged.flags() & ~Qt.ItemFlag.ItemIsEditable)
            self.people.setItem(r, 0, first)
            self.people.setItem(r, 1, QTableWidgetItem(tr.name))
            self.people.setItem(r, 2, merged)
        # Each entry names the track and its participant; a reload (after a rename or a merge)
        # keeps what the user had chosen, so a click never acts on another track (issue 32).
        chosen = [c.currentData() for c in (self.merge_from, self.merge_into)]
        for combo in (self.merge_from, self.merge_into):
            combo.clear()
            for tid, tr in sorted(data.tracks.items()):
                combo.addItem(f"{tid}: {tr.name}" if tr.name else str(tid), tid)
        ids = sorted(data.tracks)
        for combo, old, default in zip((self.merge_from, self.merge_into), chosen, (1, 0)):
            i = combo.findData(old) if old is not None else -1
            combo.setCurrentIndex(i if i >= 0 else min(default, len(ids) - 1))
        self.merge_button.setEnabled(len(ids) > 1)
        self.hide_spin.blockSignals(True)
        self.hide_spin.setValue(self.notes.hide_shorter_s)
        self.hide_spin.blockSignals(False)
        n = len(data.hidden)
        self.hidden_label.setText(f"{n} hidden" if n else "")
        self._fill_segments()
        self._filling = False

    def add_marker(self, time_s: float, name: str | None = None) -> None:
        self.notes.add_marker(time_s, name)
        self._save()

    def add_kind(self, time_s: float, kind: int) -> None:
        """A marker of `kind` (1-9) at `time_s`, named as Marker kinds… names it."""
        from fer_desktop.core.settings import Settings

        self.notes.add_marker(time_s, kind_names(Settings.load().marker_kinds)[kind - 1], kind)
        self._save()

    def import_markers(self, path: str | Path) -> int:
        """Add the markers of a `time_s,name` CSV (issue 30); a bad file says so and adds
        nothing. Returns how many were added."""
        try:
            marks = read_markers_csv(path)
        except UserError as err:
            show_error(self, err)
            return 0
        for m in marks:
            self.notes.add_marker(m.time_s, m.name, m.kind, m.end_s)
        self._save()
        return len(marks)

    def _import_markers_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Import markers", str(self.data.folder), "Markers (*.csv);;All files (*)"
        )
        if path:
            self.import_markers(path)

    def rename_marker(self, index: int, name: str) -> None:
        self.notes.markers[index].name = name.strip() or self.notes.markers[index].name
        self._save()

    def name_track(self, track_id: int, name: str) -> None:
        if name.strip():
            self.notes.names[track_id] = name.strip()
        else:
            self.notes.names.pop(track_id, None)
        self._save()

    def hide_shorter(self, seconds: float) -> None:
        """Hide the participants seen for less than `seconds` (0: show all); saved."""
        self.notes.hide_shorter_s = max(0.0, float(seconds))
        self._save()

    def _hide_changed(self) -> None:
        if self.hide_spin.value() != self.notes.hide_shorter_s:
            self.hide_shorter(self.hide_spin.value())

    def merge(self, track_id: int, into: int) -> None:
        try:
            self.data.merge(track_id, into)
        except UserError as err:
            show_error(self, err)
            return
        self._save()

    # ------------------------------------------------------------------------------ internals
    def _save(self) -> None:
        try:
            save_annotations(self.data.folder, self.notes)
        except UserError as err:
            show_error(self, err)
            return
        self.changed.emit()

    def _marker_edited(self, item: QTableWidgetItem) -> None:
        if not self._filling and item.column() == 1:
            self.rename_marker(item.row(), item.text())

    def _remove_marker(self) -> None:
        row = self.markers.currentRow()
        if 0 <= row < len(self.notes.markers):
            del self.notes.markers[row]
            self._save()

    def _name_edited(self, item: QTableWidgetItem) -> None:
        if not self._filling and item.column() == 1:
            track = self.people.item(item.row(), 0)
            if track is not None:
                self.name_track(int(track.text()), item.text())

    def _merge(self) -> None:
        a, b = self.merge_from.currentData(), self.merge_into.currentData()
        if a is not None and b is not None:
            self.merge(int(a), int(b))

    def _window_changed(self, value: float) -> None:
        self.window_s = value or None
        self._fill_segments()

    def _fill_segments(self) -> None:
        self.segments.setRowCount(0)
        for row in segment_rows(self.data, self.window_s):
            r = self.segments.rowCount()
            self.segments.insertRow(r)
            for c, text in enumerate((row["segment"], row["participant"], str(row["frames"]),
                                      row["dominant"], f"{float(row['mean_valence']):+.2f}")):  # fmt: skip
                self.segments.setItem(r, c, QTableWidgetItem(text))

    def _export(self, caption: str, name: str, filt: str, write) -> Path | None:
        default = unique_path(self.data.folder / name)
        path, _ = QFileDialog.getSaveFileName(self, caption, str(default), filt)
        if not path:
            return None
        try:
            return write(Path(path))
        except (OSError, UserError) as err:
            show_error(self, err)
            return None

    def _export_segments(self) -> Path | None:
        return self._export("Export the segments", SEGMENTS_NAME, "CSV files (*.csv)",
                            lambda p: write_segments(self.data, p, self.window_s))  # fmt: skip

    def _export_report(self) -> Path | None:
        return self._export("Export the report", REPORT_NAME, "HTML files (*.html)",
                            lambda p: write_report(self.data, p, self.window_s))  # fmt: skip
