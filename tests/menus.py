"""The menu bar's actions, found by their text as a user finds them (GUI tests)."""

from __future__ import annotations


def menu_action(win, text: str):
    """The action of `win`'s menu bar whose text (without "&") is `text`."""
    for top in win.menuBar().actions():
        for act in top.menu().actions():
            if act.text().replace("&", "") == text:
                return act
    raise AssertionError(f"no menu action {text!r}")


def session_windows() -> list:
    """The session windows a person sees now."""
    from PySide6.QtWidgets import QApplication

    from fer_desktop.ui.sessions.session_view import SessionView

    return [
        w for w in QApplication.topLevelWidgets() if isinstance(w, SessionView) and w.isVisible()
    ]


def open_session_window(qtbot, monkeypatch, folder):
    """A MainWindow, then File ▸ Open session… on `folder`, as a person opens one: returns the
    window and the session window it opened (the app keeps both)."""
    from PySide6.QtWidgets import QFileDialog

    from fer_desktop.core.settings import Settings
    from fer_desktop.ui.main_window import MainWindow

    win = MainWindow(Settings(detector="yunet", device="cpu"), preload=False)
    qtbot.addWidget(win)
    win.show()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    menu_action(win, "Open session…").trigger()
    qtbot.waitUntil(lambda: len(session_windows()) == 1, timeout=10_000)
    return win, session_windows()[0]
