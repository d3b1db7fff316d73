"""The Photos tab's right column: the selected face's bars and the list of faces in the photo."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from fer_desktop.core.photos import annotate as photos
from fer_desktop.core.render.overlay import label_text
from fer_desktop.ui.photos.list import PhotoEntry
from fer_desktop.ui.prob_bars import ProbabilityBars


class PhotoDetails(QWidget):
    """Bars for one face (the clicked one, else the largest) and one line per face."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bars = ProbabilityBars()
        self.faces_label = QLabel()
        self.faces_label.setWordWrap(True)
        self.faces_label.setAlignment(Qt.AlignmentFlag.AlignTop)
        col = QVBoxLayout(self)
        col.addWidget(self.bars)
        col.addWidget(self.faces_label, 1)

    def clear(self) -> None:
        self.bars.set_probabilities(None)
        self.faces_label.clear()

    def show_entry(self, e: PhotoEntry | None, selected: int | None) -> None:
        faces = e.result.faces if e is not None and e.result is not None else []
        face = next((f for f in faces if f.track_id == selected), None)
        if face is None and faces:
            face = max(faces, key=lambda f: f.area)
        if face is None:
            done = e is not None and e.status == "done"
            self.bars.set_probabilities(None, photos.NO_FACE_TEXT if done else "")
        else:
            self.bars.set_probabilities(
                face.probabilities, f"Face {face.track_id}: {label_text(face)}"
            )
        self.faces_label.setText(
            "\n".join(
                f"{'▶ ' if f is face else '   '}Face {f.track_id}: {label_text(f)}" for f in faces
            )
            + ("\n\nClick a face to see its bars." if len(faces) > 1 else "")
        )
