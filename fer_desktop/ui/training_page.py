"""The main window's Training tab: the real one, or where PyTorch is missing a page saying why."""

from __future__ import annotations

import sys
from typing import Protocol

from PySide6.QtCore import Qt, Signal, SignalInstance
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from fer_desktop.core.support.resources import torch_available
from fer_desktop.ui.about_texts import NO_TRAINING_HTML, NO_TRAINING_PIP_HTML


class TrainingPage(Protocol):
    """What the main window needs of its Training tab (TrainingTab, or NoTrainingPage)."""

    model_chosen: SignalInstance  # str: the path of a checkpoint to use in Live/Photos/Videos

    def shutdown(self) -> None: ...


class NoTrainingPage(QWidget):
    """The Training tab of the build without PyTorch: says how to get training."""

    model_chosen = Signal(str)  # never emitted: nothing is trained here

    def shutdown(self) -> None:
        """Nothing runs here."""

    def __init__(self) -> None:
        super().__init__()
        self.label = QLabel(
            NO_TRAINING_HTML if getattr(sys, "frozen", False) else NO_TRAINING_PIP_HTML
        )
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.addWidget(self.label, 0, Qt.AlignmentFlag.AlignTop)


def training_page() -> QWidget:
    """The Training tab, or where PyTorch is missing (the default bundle) a page saying why."""
    if not torch_available():
        return NoTrainingPage()
    from fer_desktop.ui.training.tab import TrainingTab  # torch-free (issue 33)

    return TrainingTab()
