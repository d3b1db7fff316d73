"""Play a session in the session window (issue 30): Play/Pause, a scrub bar, and the timelines'
cursor and the video frame moving with them. Keys: Space plays or pauses, Left/Right step a
second back or on (Shift: a tenth). Real time; the frame shown is annotated.mp4's at the cursor
(decoded off the GUI thread, newest first), so a slow disk skips frames rather than lag."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QSlider, QWidget

TICK_MS = 40  # the cursor moves 25 times a second while playing
PLAY_TEXT, PAUSE_TEXT = "▶ Play", "❚❚ Pause"


class PlayerBar(QWidget):
    def __init__(self, view) -> None:
        super().__init__(view)
        self.view = view
        self.play_button = QPushButton(PLAY_TEXT)
        self.play_button.setToolTip("Play the session from the cursor (Space)")
        self.play_button.clicked.connect(self.toggle)
        self.scrub = QSlider(Qt.Orientation.Horizontal)
        self.scrub.setRange(0, max(1, round(view.data.duration_s * 1000)))
        self.scrub.setToolTip("Drag to move through the session (Left/Right: a second)")
        self.scrub.valueChanged.connect(self._scrubbed)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.play_button)
        row.addWidget(self.scrub, 1)
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._last = 0.0
        self._moving = False  # the bar follows the cursor without seeking again
        for key, action in (("Space", self.toggle), ("Right", lambda: self.step(1.0)),
                            ("Left", lambda: self.step(-1.0)), ("Shift+Right", lambda: self.step(0.1)),
                            ("Shift+Left", lambda: self.step(-0.1))):  # fmt: skip
            QShortcut(QKeySequence(key), view).activated.connect(action)

    @property
    def playing(self) -> bool:
        return self._timer.isActive()

    def toggle(self) -> None:
        if self.playing:
            self.pause()
        else:
            self.play()

    def play(self) -> None:
        if self.view.cursor_s >= self.view.data.duration_s - 1e-3:
            self.view.seek(0.0)  # at the end: from the start again
        self._last = time.monotonic()
        self._timer.start()
        self.play_button.setText(PAUSE_TEXT)

    def pause(self) -> None:
        self._timer.stop()
        self.play_button.setText(PLAY_TEXT)

    def step(self, seconds: float) -> None:
        self.view.seek(self.view.cursor_s + seconds)
        self.follow()

    def follow(self) -> None:
        """Put the scrub bar where the cursor is (after a click on a timeline, a step, a tick)."""
        self._moving = True
        self.scrub.setValue(round(self.view.cursor_s * 1000))
        self._moving = False

    def _scrubbed(self, value: int) -> None:
        if not self._moving:
            self.view.seek(value / 1000.0)

    def _tick(self) -> None:
        now = time.monotonic()
        self.view.seek(self.view.cursor_s + (now - self._last))
        self._last = now
        self.follow()
        if self.view.cursor_s >= self.view.data.duration_s - 1e-3:
            self.pause()


def attach_player(view) -> PlayerBar:
    """A PlayerBar under the session window's time label; it follows every seek."""
    bar = PlayerBar(view)
    side = view.time_label.parentWidget().layout()
    side.insertWidget(side.indexOf(view.time_label) + 1, bar)
    view.seeked.connect(lambda _t: bar.follow())
    return bar
