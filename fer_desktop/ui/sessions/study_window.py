"""The Study window (issue 30): File ▸ Open study… points the app at a folder of sessions (the
sessions folder, a batch job, any folder holding session folders) and shows the group figures
`fer-desktop study` writes: per condition and class, the mean over participants with its 95%
interval (raw or baseline-corrected), with the tidy table and the report one click away."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from fer_desktop.core.sessions.layout import sessions_dir
from fer_desktop.core.sessions.study_report import write_study_report
from fer_desktop.core.sessions.study_table import (
    STUDY_COLUMNS,
    Baseline,
    condition_summary,
    session_folders,
    study_rows,
)
from fer_desktop.core.support.errors import UserError
from fer_desktop.core.support.fileio import atomic_write_csv, unique_path
from fer_desktop.ui.errors import show_error

BASELINES = (("no baseline", None), ("first 5 s", "first:5"), ("first 10 s", "first:10"))


class StudyWindow(QWidget):
    def __init__(self, folder: str | Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.folders = session_folders([Path(folder)])  # UserError: not a folder of sessions
        self.folder = Path(folder)
        self.setWindowTitle(f"Study {self.folder.name} — fer-desktop")
        self.summary = QLabel()
        self.baseline = QComboBox()
        for text, value in BASELINES:
            self.baseline.addItem(text, value)
        self.baseline.currentIndexChanged.connect(lambda _i: self.refresh())
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(
            ["condition", "class", "mean", "95% CI ±", "participants"]
        )
        self.csv_button = QPushButton("Export study.csv…")
        self.csv_button.clicked.connect(lambda: self._export("study.csv"))
        self.report_button = QPushButton("Export report…")
        self.report_button.clicked.connect(lambda: self._export("study.html"))
        row = QHBoxLayout()
        row.addWidget(QLabel("Baseline"))
        row.addWidget(self.baseline, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.csv_button)
        buttons.addWidget(self.report_button)
        box = QVBoxLayout(self)
        box.addWidget(self.summary)
        box.addLayout(row)
        box.addWidget(self.table, 1)
        box.addLayout(buttons)
        self.rows: list[dict] = []
        self.refresh()

    def refresh(self) -> None:
        base = Baseline.parse(self.baseline.currentData())
        self.rows = study_rows(self.folders, baseline=base)
        value = "corrected_mean_probability" if base else "mean_probability"
        summary = condition_summary(self.rows, value)
        people = {r["participant_id"] for r in self.rows}
        self.summary.setText(f"{len(self.folders)} session(s), {len(people)} participant(s), "
                             f"{len(summary)} condition(s); {'corrected' if base else 'raw'} means")  # fmt: skip
        cells = [(c or "(none)", cls, f"{m:+.3f}" if base else f"{m:.3f}",
                  "" if h is None else f"{h:.3f}", str(n))
                 for c in sorted(summary) for cls, (m, h, n) in summary[c].items()]  # fmt: skip
        self.table.setRowCount(len(cells))
        for r, row in enumerate(cells):
            for c, text in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(text))

    def _export(self, name: str) -> Path | None:
        default = unique_path(self.folder / name)
        path, _ = QFileDialog.getSaveFileName(self, f"Export {name}", str(default))
        if not path:
            return None
        try:
            if name.endswith(".csv"):
                return atomic_write_csv(path, STUDY_COLUMNS, self.rows)
            return write_study_report(self.rows, [str(f) for f in self.folders], Path(path))
        except OSError as exc:
            show_error(self, UserError(f"Could not write {path}: {exc.strerror or exc}.",
                                       "Choose a writable folder."))  # fmt: skip
            return None


def open_study_dialog(parent: QWidget) -> StudyWindow | None:
    """Ask for a folder of sessions and open its Study window (kept by the parent's window)."""
    from PySide6.QtCore import Qt

    folder = QFileDialog.getExistingDirectory(parent, "Open a study (a folder of sessions)",
                                              str(sessions_dir()))  # fmt: skip
    if not folder:
        return None
    try:
        view = StudyWindow(folder)
    except UserError as err:
        show_error(parent, err)
        return None
    view.setParent(parent.window(), Qt.WindowType.Window)
    view.resize(760, 560)
    view.show()
    return view
