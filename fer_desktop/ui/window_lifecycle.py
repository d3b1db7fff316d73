"""The main window's start and close: the user's settings read field by field (a bad field
takes its default and is named), and the question before closing stops work (issue 32)."""

from __future__ import annotations

import json
from typing import SupportsInt

from PySide6.QtCore import QByteArray, QSettings, Qt
from PySide6.QtWidgets import QMessageBox

from fer_desktop.core.settings import Settings
from fer_desktop.core.support.errors import UserError
from fer_desktop.core.support.fileio import unique_path
from fer_desktop.core.support.resources import user_data_dir
from fer_desktop.ui.widgets import fit_to_screen, keep_on_screen


def load_settings() -> tuple[Settings, UserError | None]:
    """The user's settings; a field that is wrong (type, range, unknown) takes its default and
    the rest are kept; a file that cannot be read at all gives the defaults. The problem comes
    back to be shown, and the file is kept as a backup (`settings.json.broken`)."""
    path = Settings.path()
    try:
        return Settings.load(), None
    except UserError as err:
        problems = [err.message]
        settings = Settings()
        try:
            settings, problems = Settings.repair(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, RecursionError):
            pass  # not JSON at all: the defaults
        backup = unique_path(path.with_name(path.name + ".broken"))
        try:
            path.rename(backup)
            kept = f" The file was kept as {backup.name}."
        except OSError:
            kept = ""
        return settings, UserError(
            "Some settings could not be used: " + "; ".join(problems) + ".",
            "The other settings are kept." + kept
            if problems != [err.message]
            else "The default settings are used now." + kept,
        )


def ask_close(window, texts: list[str]) -> None:
    """Close only once the user says so (a window-modal question; never a nested loop)."""
    box = QMessageBox(
        QMessageBox.Icon.Question,
        "Close fer-desktop?",
        "\n".join(texts) + "\n\nClose anyway?",
        QMessageBox.StandardButton.Close | QMessageBox.StandardButton.Cancel,
        window,
    )
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

    def answered(button) -> None:
        if box.standardButton(button) == QMessageBox.StandardButton.Close:
            window._close_confirmed = True
            window.close()

    box.buttonClicked.connect(answered)
    window.close_question = box
    box.open()


def window_settings() -> QSettings:
    """Window geometry in the per-user folder (so tests with FER_DESKTOP_HOME stay isolated)."""
    return QSettings(str(user_data_dir() / "window.ini"), QSettings.Format.IniFormat)


def restore_window(win) -> None:
    """The main window's size, place, dock state and tab as the user left them (on screen)."""
    qs = window_settings()
    geometry = qs.value("geometry")
    if isinstance(geometry, QByteArray) and not geometry.isEmpty():
        win.restoreGeometry(geometry)
        keep_on_screen(win)
    else:
        fit_to_screen(win, 1280, 800)
    state = qs.value("state")
    if isinstance(state, QByteArray):
        win.restoreState(state)
    tab = qs.value("tab", 0) or 0
    if isinstance(tab, str | SupportsInt):  # any other stray value: the first tab stays
        try:
            win.tabs.setCurrentIndex(min(max(int(tab), 0), win.tabs.count() - 1))
        except (TypeError, ValueError):
            pass
