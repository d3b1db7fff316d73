"""Start the desktop app: logging, thread counts, QApplication, excepthooks, the main window."""

from __future__ import annotations

import logging
import sys
from pathlib import Path


def run_gui(source: str | None = None, settings=None) -> int:
    """Show the main window; `source` (camera index, video, URL, photo or folder) starts at once."""
    from fer_desktop.display_check import display_problem

    problem = display_problem()
    if problem:  # Qt would abort the process with a message that names the wrong cause
        print(problem, file=sys.stderr)
        return 2
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from fer_desktop import __version__
    from fer_desktop.core.support.image_files import is_image_path
    from fer_desktop.core.support.logs import setup_logging
    from fer_desktop.core.support.threads import configure_threads
    from fer_desktop.ui.errors import install_excepthooks
    from fer_desktop.ui.main_window import MainWindow
    from fer_desktop.workers import gui_gc

    log_file = setup_logging()  # fer-desktop.log in the per-user folder
    threads = configure_threads()  # once, here: no loader thread changes it later
    logging.getLogger(__name__).info(
        "fer-desktop %s starting; %d torch/OpenMP threads; log %s", __version__, threads, log_file
    )
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("fer-desktop")
    app.setApplicationVersion(__version__)
    install_excepthooks()
    gui_gc.install()  # before any worker starts: garbage is collected on the GUI thread only
    window = MainWindow(settings=settings)
    window.show()
    if source:
        path = Path(source).expanduser()
        if path.is_dir() or is_image_path(path):
            window.tabs.setCurrentWidget(window.photo_tab)
            QTimer.singleShot(0, lambda: window.photo_tab.add_paths([path]))
        else:
            window.tabs.setCurrentWidget(window.live_tab)
            QTimer.singleShot(0, lambda: window.live_tab.start_source(str(source)))
    return app.exec()
