"""The Videos tab on the real video: a full analysis, a cancel part-way, a file that is no video."""

from __future__ import annotations

import json

import pytest
from PySide6.QtWidgets import QMainWindow

from fer_desktop.core.settings import Settings
from fer_desktop.ui.sessions.session_view import SessionView
from fer_desktop.ui.sessions.videos_tab import VideosTab
from fer_desktop.workers.model_service import ModelService

LOAD_MS = 90_000  # loading the models on a busy 2-core machine


@pytest.fixture(scope="module")
def models(qapp):
    service = ModelService()
    yield service
    service.shutdown()


@pytest.fixture
def tab(qtbot, models):
    win = QMainWindow()  # show_error reports to the window
    t = VideosTab(settings=Settings(device="cpu"), models=models)
    win.setCentralWidget(t)
    qtbot.addWidget(win)
    win.show()
    yield t
    t.shutdown()


def test_analyse_a_video_then_open_its_session(qtbot, tab, video_path):
    tab.set_video(str(video_path))
    tab.every_spin.setValue(6)
    with qtbot.waitSignal(tab.finished, timeout=LOAD_MS) as blocker:
        tab.analyse_button.click()
        assert tab.cancel_button.isEnabled() and not tab.analyse_button.isEnabled()
    result = blocker.args[0]
    assert result.frames == 22 and result.folder == tab.folder
    assert tab.progress.value() == tab.progress.maximum() == 22
    assert "Done: 22 frames" in tab.status.text() and str(result.folder) in tab.status.text()
    assert tab.analyse_button.isEnabled() and not tab.cancel_button.isEnabled()
    info = json.loads((result.folder / "session.json").read_text())
    assert info["status"] == "finished" and info["frames_processed"] == 22
    view = tab.open_result()
    assert isinstance(view, SessionView) and view.data.folder == result.folder
    view.close()


def test_cancel_stops_the_analysis_and_keeps_what_was_done(qtbot, tab, video_path):
    tab.set_video(str(video_path))
    with qtbot.waitSignal(tab.task.progress, timeout=LOAD_MS):
        tab.analyse_button.click()
    with qtbot.waitSignal(tab.cancelled, timeout=5000):
        tab.cancel_button.click()
    assert tab.status.text().startswith("Cancelled.")
    assert tab.analyse_button.isEnabled() and not tab.cancel_button.isEnabled()
    assert tab.task.wait(30)  # the job stopped at its next frame and closed its files
    info = json.loads((tab.folder / "session.json").read_text())
    assert info["status"] == "cancelled"
    assert 0 < info["frames_processed"] < 132
    assert tab.result is None  # a cancelled job's result never arrives as "finished"


def test_a_file_that_is_not_a_video_gets_a_message_and_leaves_no_folder(qtbot, tab, tmp_path):
    bad = tmp_path / "clip.mp4"
    bad.write_text("not a video")
    tab.set_video(str(bad))
    with qtbot.waitSignal(tab.task.failed, timeout=LOAD_MS):
        tab.analyse_button.click()
    assert "not a readable video" in tab.window().last_error
    assert tab.folder is None and tab.analyse_button.isEnabled()


def test_the_queue_analyses_a_folder_as_one_job_and_opens_a_finished_session(
    qtbot, monkeypatch, batch_inputs
):
    """Through the real window: Videos tab, Add folder… (the dialog answered), two workers,
    Analyse all; each video's status in the table; a double-click opens a finished session."""
    import gc

    from PySide6.QtWidgets import QApplication, QFileDialog

    from fer_desktop.ui.main_window import MainWindow

    win = MainWindow(Settings(detector="yunet", device="cpu"), preload=False)
    qtbot.addWidget(win)
    win.show()
    win.tabs.setCurrentWidget(win.videos_tab)
    queue = win.videos_tab.queue
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(batch_inputs))
    queue.folder_button.click()
    names = [queue.table.item(r, 0).text() for r in range(queue.table.rowCount())]
    assert sorted(names) == ["a.avi", "b.avi", "c_truncated.avi", "d_broken.mp4"]
    assert queue.status.text() == "4 video(s) in the queue."
    queue.workers_spin.setValue(2)
    with qtbot.waitSignal(queue.job_finished, timeout=180_000) as done:
        queue.run_button.click()
        assert queue.cancel_button.isEnabled() and not queue.run_button.isEnabled()
    info = done.args[0]
    shown = {queue.table.item(r, 0).text(): queue.table.item(r, 1).text() for r in range(4)}
    assert shown == {"a.avi": "✔ done", "b.avi": "✔ done", "c_truncated.avi": "⚠ truncated",
                     "d_broken.mp4": "✖ failed"}  # fmt: skip
    assert queue.status.text().startswith("Done: 2 done, 1 truncated, 1 failed")
    assert info["workers"] == 2 and (queue.job_dir / "summary.csv").is_file()
    assert queue.run_button.isEnabled() and not queue.cancel_button.isEnabled()
    row = names.index("a.avi")
    queue.table.cellDoubleClicked.emit(row, 0)
    gc.collect()
    views = [
        w for w in QApplication.topLevelWidgets() if isinstance(w, SessionView) and w.isVisible()
    ]
    assert views and views[-1].data.folder.parent == queue.job_dir / "videos"
    for v in views:
        v.close()
    win.close()
