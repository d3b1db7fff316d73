"""The menu bar's actions, found by their text as a user finds them (GUI tests)."""

from __future__ import annotations


def menu_action(win, text: str):
    """The action of `win`'s menu bar whose text (without "&") is `text`."""
    for top in win.menuBar().actions():
        for act in top.menu().actions():
            if act.text().replace("&", "") == text:
                return act
    raise AssertionError(f"no menu action {text!r}")
