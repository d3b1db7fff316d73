"""Run a fer-desktop command with the network made to fail loudly.

    python tests/netguard.py LOG -- annotate photo.jpg --no-save

Every `socket.connect`/`connect_ex`/`create_connection`/`getaddrinfo` towards a non-local address
is written to LOG and refused with an error, then the command runs as `fer-desktop ARGS` would
(`gui` starts the window and closes it once it is up). The test reads LOG: it must be empty.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
import traceback

LOCAL_NAMES = {"localhost", "", None}


def _is_local(host) -> bool:
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    if host in LOCAL_NAMES:
        return True
    try:
        ip = ipaddress.ip_address(str(host).split("%")[0])
    except ValueError:
        return False  # a name to resolve: the network
    return ip.is_loopback or ip.is_unspecified


def install(log_path: str) -> None:
    def record(what: str, target) -> None:
        with open(log_path, "a", encoding="utf-8") as f:
            f.write(f"{what} {target!r}\n{''.join(traceback.format_stack(limit=12))}\n")
        raise OSError(f"netguard: network access refused ({what} {target!r})")

    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address[0]):
            record("connect", address)
        return real_connect(self, address)

    def connect_ex(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address[0]):
            record("connect_ex", address)
        return real_connect_ex(self, address)

    def getaddrinfo(host, *args, **kwargs):
        if not _is_local(host):
            record("getaddrinfo", host)
        return real_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex
    socket.getaddrinfo = getaddrinfo


def main() -> int:
    log_path, sep, *args = sys.argv[1:]
    assert sep == "--"
    install(log_path)
    if args[:1] == ["gui"]:  # the real start-up path; quits once the models have loaded
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication

        from fer_desktop.app import run_gui

        app = QApplication.instance() or QApplication(sys.argv[:1])

        def quit_when_loaded(waited: list = [0]) -> None:  # noqa: B006 - a counter
            windows = [w for w in app.topLevelWidgets() if type(w).__name__ == "MainWindow"]
            models = (
                getattr(getattr(windows[0], "live_tab", None), "models", None) if windows else None
            )
            waited[0] += 1
            if (models is not None and not models.busy) or waited[0] > 120:
                app.quit()
            else:
                QTimer.singleShot(500, quit_when_loaded)

        QTimer.singleShot(1000, quit_when_loaded)
        return run_gui()
    from fer_desktop.cli import main as cli_main

    return cli_main(args)


if __name__ == "__main__":
    raise SystemExit(main())
