"""Small widgets several tabs use: a label that elides instead of wrapping, a slider with its value,
a push button wired to its action."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QSlider, QWidget


class ElidedLabel(QLabel):
    """One line; a text too long for the width ends in "…" and the whole text is the tooltip."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(40)
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        self._full = text
        self.setToolTip(text)
        self._elide()

    def full_text(self) -> str:
        return self._full

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        width = max(self.width(), self.minimumWidth())
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideMiddle, width)
        super().setText(shown)


class ValueSlider(QWidget):
    """A horizontal slider from `lo` to `hi` (integers) with its value formatted beside it."""

    def __init__(
        self, lo: int, hi: int, value: int, fmt: Callable[[int], str], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(lo, hi)
        self.value_label = QLabel()
        self.value_label.setMinimumWidth(self.fontMetrics().horizontalAdvance("100%") + 6)
        self.value_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self._fmt = fmt
        self.slider.valueChanged.connect(lambda v: self.value_label.setText(fmt(v)))
        self.slider.setValue(value)
        self.value_label.setText(fmt(self.slider.value()))
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.slider, 1)
        row.addWidget(self.value_label)

    @property
    def valueChanged(self):  # noqa: N802 - forwards QSlider's signal
        return self.slider.valueChanged

    def value(self) -> int:
        return self.slider.value()

    def setValue(self, v: int) -> None:  # noqa: N802 - QSlider's name
        self.slider.setValue(v)


def push_button(text: str, on_click: Callable[[], object]) -> QPushButton:
    """A button calling `on_click` when clicked: `QPushButton(text, clicked=on_click)`, which
    PySide6 accepts but its stubs do not (they declare no signal keywords)."""
    button = QPushButton(text)
    button.clicked.connect(on_click)
    return button


def fit_to_screen(window: QWidget, width: int, height: int, near: QWidget | None = None) -> None:
    """Size `window` to `width` x `height`, or less where the screen is smaller, and place it
    wholly on the screen (of `near`, else its own): a window never opens partly off-screen
    (issue 32: 1280x800 windows on a 1280x720 screen)."""
    screen = (near.screen() if near is not None else None) or window.screen()
    if screen is None:
        window.resize(width, height)
        return
    area = screen.availableGeometry()
    frame_extra = window.frameGeometry().size() - window.geometry().size()
    w = max(1, min(width, area.width() - frame_extra.width()))
    h = max(1, min(height, area.height() - frame_extra.height()))
    window.resize(w, h)
    x = area.x() + max(0, (area.width() - w - frame_extra.width()) // 2)
    y = area.y() + max(0, (area.height() - h - frame_extra.height()) // 2)
    window.move(x, y)


def keep_on_screen(window: QWidget) -> None:
    """A restored geometry from a bigger or other monitor, pulled back wholly onto the screen."""
    screen = window.screen()
    if screen is None:
        return
    area = screen.availableGeometry()
    g = window.frameGeometry()
    if area.contains(g):
        return
    fit_to_screen(window, min(window.width(), area.width()), min(window.height(), area.height()))
