"""The per-user folder (platformdirs) and its FER_DESKTOP_HOME override."""

from __future__ import annotations

import sys

import pytest

from fer_desktop.core.support.resources import user_data_dir


def test_override_wins_and_is_created(tmp_path, monkeypatch):
    home = tmp_path / "portable" / "home"
    monkeypatch.setenv("FER_DESKTOP_HOME", str(home))
    assert user_data_dir() == home and home.is_dir()


@pytest.mark.skipif(sys.platform != "linux", reason="the documented Linux folder")
def test_documented_linux_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("FER_DESKTOP_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert user_data_dir() == tmp_path / "xdg" / "fer-desktop"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    assert user_data_dir() == tmp_path / "user" / ".local" / "share" / "fer-desktop"


def test_documented_windows_and_macos_folders(tmp_path, monkeypatch):
    """Our user_data_dir() on Windows (the roaming AppData folder) and on macOS, with platformdirs'
    backend for that system in place: a change of `roaming=` or the app name fails here."""
    import platformdirs
    import platformdirs.macos
    import platformdirs.windows

    monkeypatch.delenv("FER_DESKTOP_HOME")
    monkeypatch.setattr(platformdirs, "PlatformDirs", platformdirs.windows.Windows)
    monkeypatch.setattr(platformdirs.windows, "get_win_folder", lambda csidl: str(tmp_path / csidl))
    assert user_data_dir() == tmp_path / "CSIDL_APPDATA" / "fer-desktop"  # Roaming, not Local
    monkeypatch.setattr(platformdirs, "PlatformDirs", platformdirs.macos.MacOS)
    monkeypatch.setenv("HOME", str(tmp_path / "mac"))
    assert user_data_dir() == tmp_path / "mac" / "Library" / "Application Support" / "fer-desktop"
