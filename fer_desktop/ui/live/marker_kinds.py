"""Marker kinds (issue 30): a small table names what the keys 1-9 mark while recording and in the
session window (e.g. 1 = stimulus, 2 = response); each kind has its colour on the timelines."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTableWidget, QTableWidgetItem, QVBoxLayout

from fer_desktop.core.sessions.annotations import KIND_RGB, kind_names


class MarkerKindsDialog(QDialog):
    def __init__(self, settings, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Marker kinds")
        self.settings = settings
        self.table = QTableWidget(9, 2)
        self.table.setHorizontalHeaderLabels(["key", "name"])
        self.table.verticalHeader().setVisible(False)
        for i, name in enumerate(kind_names(settings.marker_kinds)):
            key = QTableWidgetItem(str(i + 1))
            key.setFlags(key.flags() & ~Qt.ItemFlag.ItemIsEditable)
            key.setBackground(QColor(*KIND_RGB[i + 1]))
            self.table.setItem(i, 0, key)
            self.table.setItem(i, 1, QTableWidgetItem(name))
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        box = QVBoxLayout(self)
        box.addWidget(self.table)
        box.addWidget(buttons)

    def names(self) -> list[str]:
        out = []
        for i in range(9):
            item = self.table.item(i, 1)
            out.append((item.text() if item is not None else "").replace("|", "/").strip())
        return out

    def accept(self) -> None:
        self.settings.marker_kinds = "|".join(self.names())
        super().accept()


def edit_marker_kinds(parent, settings) -> MarkerKindsDialog:
    """Open the table window-modal (never a nested event loop); OK keeps the names."""
    dialog = MarkerKindsDialog(settings, parent)
    parent.kinds_dialog = dialog  # the panel keeps it while it is open
    dialog.open()
    return dialog
