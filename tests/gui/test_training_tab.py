"""The training tab and its process runner, with real tiny training runs (pytest-qt, offscreen)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import sys
import textwrap
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QPushButton

from fer_desktop.workers.training_runner import TrainingRunner, training_command

from shared_paths import FER_ZIP, FERPLUS_ZIP

RUN_MS = 900_000  # generous: a background training may share the CPU


class FakeDialogs:
    """Answers the tab's file pickers from a queue instead of opening dialogs."""

    def __init__(self) -> None:
        self.answers: list[str] = []
        self.asked: list[str] = []

    def directory(self, parent, caption, start=""):
        self.asked.append(caption)
        return self.answers.pop(0) if self.answers else ""

    def open_file(self, parent, caption, start="", filter=""):
        return self.directory(parent, caption, start)


@pytest.fixture
def runners():
    """Every TrainingRunner made in a test; the test fails if one is left running."""
    made: list[TrainingRunner] = []

    def factory(parent=None, **kw):
        r = TrainingRunner(parent, **kw)
        made.append(r)
        return r

    yield factory, made
    leaked = [r for r in made if r.is_running()]
    for r in leaked:
        r.stop_and_wait(5_000)
    assert not leaked, "a training process was left running"


@pytest.fixture
def make_tab(qtbot, tmp_path, monkeypatch, runners):
    from fer_desktop.ui.training.tab import TrainingTab

    monkeypatch.setenv("FER_DESKTOP_HOME", str(tmp_path / "home"))
    factory, _ = runners
    tabs = []

    def make(**kw):
        errors: list = []
        dialogs = FakeDialogs()
        tab = TrainingTab(
            runner_factory=factory,
            dialogs=dialogs,
            show_error=lambda parent, err: errors.append(err),
            runs_dir=tmp_path / "runs",
            **kw,
        )
        tab.errors, tab.fake_dialogs = errors, dialogs
        qtbot.addWidget(tab)
        tab.resize(1280, 820)
        tab.show()
        tabs.append(tab)
        return tab

    yield make
    for tab in tabs:
        assert tab.form.wait_idle(30_000), "a dataset check thread is still running"


def choose_dataset(qtbot, tab, path: Path, button: str = "folder") -> None:
    tab.fake_dialogs.answers.append(str(path))
    label = "Folder" if button == "folder" else "Zip"
    b = next(w for w in tab.form.findChildren(QPushButton) if w.text().startswith(label))
    qtbot.mouseClick(b, Qt.MouseButton.LeftButton)


def tiny_settings(tab, arch: str = "tiny_cnn", epochs: int = 2) -> None:
    s = tab.form
    s.set_arch(arch)
    s.epochs.setValue(epochs)
    s.batch_size.setValue(32)
    s.limit.setValue(200)


# --- the runner on its own ---------------------------------------------------------------------


def test_training_command_frozen_and_from_source(monkeypatch):
    assert training_command(["--epochs", "1"]) == [
        sys.executable,
        "-m",
        "fer_training",
        "--epochs",
        "1",
    ]
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert training_command(["--help"]) == [sys.executable, "train", "--help"]


def _script_command(tmp_path: Path, body: str):
    script = tmp_path / "fake_trainer.py"
    script.write_text(textwrap.dedent(body))
    return lambda args: [sys.executable, str(script), *args]


def test_runner_buffers_partial_lines_into_signals(qtbot, tmp_path):
    cmd = _script_command(
        tmp_path,
        """
        import sys, time
        w = sys.stdout.write
        w('{"event": "start", "run_dir": "R", "con'); sys.stdout.flush(); time.sleep(0.3)
        w('fig": {}, "start_epoch": 1}\\nnot json, a stray print\\n'); sys.stdout.flush()
        w('{"event": "progress", "epoch": 1, "batch": 1, "batches": 2}\\n{"event": "epoch", "epoch": 1}\\n')
        w('{"event": "log", "level": "info", "message": "hi"}\\n')
        w('{"event": "finished", "run_dir": "R", "epochs_done": 1}')  # no final newline
    """,
    )
    runner = TrainingRunner(command=cmd)
    got: dict[str, list] = {
        k: [] for k in ("started", "progress", "epoch", "log", "finished", "failed")
    }
    for k, v in got.items():
        getattr(runner, k).connect(v.append)
    with qtbot.waitSignal(runner.exited, timeout=60_000) as blocker:
        runner.start([])
    assert blocker.args == [0]
    assert got["started"][0]["config"] == {} and runner.run_dir == "R"
    assert got["progress"][0]["batches"] == 2 and got["epoch"][0]["epoch"] == 1
    assert [e["message"] for e in got["log"]] == ["not json, a stray print", "hi"]
    assert got["finished"][0]["epochs_done"] == 1 and not got["failed"]
    assert not runner.is_running()


def test_runner_reports_a_crash_with_the_last_stderr_lines(qtbot, tmp_path):
    cmd = _script_command(
        tmp_path,
        """
        import sys
        print('{"event": "log", "level": "info", "message": "loading"}', flush=True)
        for i in range(40):
            print(f"stderr line {i}", file=sys.stderr)
        raise SystemExit(7)
    """,
    )
    runner = TrainingRunner(command=cmd)
    failures = []
    runner.failed.connect(failures.append)
    with qtbot.waitSignal(runner.exited, timeout=60_000) as blocker:
        runner.start([])
    assert blocker.args == [7]
    assert len(failures) == 1
    assert "exit code 7" in failures[0] and "stderr line 39" in failures[0]
    assert "stderr line 5\n" not in failures[0]  # only the tail


def test_runner_error_event_is_one_failure(qtbot, tmp_path):
    cmd = _script_command(
        tmp_path,
        """
        print('{"event": "error", "message": "Bad dataset.", "hint": "Expected train/<class>."}')
        raise SystemExit(2)
    """,
    )
    runner = TrainingRunner(command=cmd)
    failures = []
    runner.failed.connect(failures.append)
    with qtbot.waitSignal(runner.exited, timeout=60_000):
        runner.start([])
    assert failures == ["Bad dataset.\nExpected train/<class>."]
    assert runner.last_error == {"message": "Bad dataset.", "hint": "Expected train/<class>."}


def test_runner_kills_a_process_that_ignores_stop(qtbot, tmp_path):
    cmd = _script_command(
        tmp_path,
        """
        import signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print('{"event": "start", "run_dir": "R", "config": {}}', flush=True)
        time.sleep(120)
    """,
    )
    runner = TrainingRunner(command=cmd, stop_timeout_ms=1_500)
    finished = []
    runner.finished.connect(finished.append)
    with qtbot.waitSignal(runner.started, timeout=60_000):
        runner.start([])
    with qtbot.waitSignal(runner.exited, timeout=30_000):
        runner.stop()  # returns at once; the kill timer ends it
        assert runner.is_running()
    assert finished and finished[0]["event"] == "stopped" and finished[0]["forced"]


# --- the tab -----------------------------------------------------------------------------------


def test_malformed_dataset_shows_the_error_at_once(qtbot, make_tab, tmp_path):
    bad = tmp_path / "not_faces"
    bad.mkdir()
    (bad / "readme.txt").write_text("no images here")
    tab = make_tab()
    assert not tab.start_button.isEnabled()
    choose_dataset(qtbot, tab, bad)
    qtbot.waitUntil(lambda: "✖" in tab.form.data_status.text(), timeout=30_000)
    assert "does not look like a face-expression dataset" in tab.form.data_status.text()
    assert "train/<class>" in tab.form.data_status.text()
    assert not tab.start_button.isEnabled()
    tab.start()  # even called directly, nothing starts
    assert not tab.runner.is_running()

    fake_zip = tmp_path / "faces.zip"
    fake_zip.write_text("not a zip")
    choose_dataset(qtbot, tab, fake_zip, button="zip")
    qtbot.waitUntil(lambda: "not a readable zip" in tab.form.data_status.text(), timeout=30_000)
    assert not tab.start_button.isEnabled()


@pytest.mark.skipif(not FERPLUS_ZIP.is_file(), reason="needs the FER+ zip")
def test_a_ferplus_zip_is_a_dataset_and_its_votes_a_choice(qtbot, make_tab, tmp_path):
    """FER+ as its tools write it (issue 34): the check counts the faces with a 7-class
    majority, and the run learns from the majority or the vote distribution, as chosen."""
    tab = make_tab()
    choose_dataset(qtbot, tab, FERPLUS_ZIP, button="zip")
    qtbot.waitUntil(lambda: "26,295" in tab.form.data_status.text(), timeout=60_000)
    assert "3,308" in tab.form.data_status.text() and tab.start_button.isEnabled()
    assert tab.form.config(tmp_path).label_mode == "majority"
    tab.form.label_mode.setCurrentText("votes")
    assert tab.form.config(tmp_path).label_mode == "votes"


@pytest.mark.skipif(not FER_ZIP.is_file(), reason="needs the FER2013 zip")
def test_real_run_curves_matrix_and_use_model(qtbot, make_tab):
    tab = make_tab()
    choose_dataset(qtbot, tab, FER_ZIP, button="zip")
    qtbot.waitUntil(lambda: "train 28,278" in tab.form.data_status.text(), timeout=60_000)
    assert tab.start_button.isEnabled()
    tiny_settings(tab, "tiny_cnn", epochs=2)
    finished = []
    tab.runner.finished.connect(finished.append)
    with qtbot.waitSignal(tab.runner.exited, timeout=RUN_MS):
        qtbot.mouseClick(tab.start_button, Qt.MouseButton.LeftButton)
        assert tab.runner.is_running() and not tab.start_button.isEnabled()
        assert tab.stop_button.isEnabled()
    assert finished and finished[0]["event"] == "finished", tab.errors
    assert not tab.errors
    assert len(tab.loss_plot.points("train")) == 2 and len(tab.acc_plot.points("val")) == 2
    assert tab.confusion.epochs() == [1, 2] and tab.confusion.slider.maximum() == 1
    matrix = tab.confusion.view.matrix
    assert matrix and len(matrix) == 7 and sum(map(sum, matrix)) == 200
    tab.confusion.slider.setValue(0)  # compare epoch 1
    assert tab.confusion.shown_epoch() == 1 and tab.confusion.table.rowCount() == 7
    assert "finished" in tab.run_status.progress.format()
    assert tab.start_button.isEnabled() and not tab.stop_button.isEnabled()

    assert tab.use_button.isEnabled()
    qtbot.mouseClick(tab.use_button, Qt.MouseButton.LeftButton)  # asks first
    qtbot.waitUntil(lambda: tab.confirm_box.isVisible(), timeout=5_000)
    assert (
        "slice" in tab.confirm_box.informativeText()
        or "at most" in tab.confirm_box.informativeText()
    )
    with qtbot.waitSignal(tab.model_chosen, timeout=5_000) as blocker:
        qtbot.mouseClick(
            tab.confirm_box.button(QMessageBox.StandardButton.Yes), Qt.MouseButton.LeftButton
        )
    best = Path(blocker.args[0])
    assert best.name == "best.pt" and best.is_file()

    other = make_tab()  # "Open run…" on the finished folder in a fresh tab
    assert not other.use_button.isEnabled()
    other.fake_dialogs.answers.append(str(best.parent))
    qtbot.mouseClick(other.open_button, Qt.MouseButton.LeftButton)
    assert [p[0] for p in other.loss_plot.points("val")] == [1.0, 2.0]
    assert other.confusion.epochs() == [1, 2] and other.use_button.isEnabled()
    assert "2 of 2 epochs" in other.run_status.status.text()

    other.fake_dialogs.answers.append(str(best.parent.parent))  # not a run folder
    qtbot.mouseClick(other.open_button, Qt.MouseButton.LeftButton)
    assert other.errors and "Cannot open the run" in other.errors[-1].message


@pytest.mark.skipif(not FER_ZIP.is_file(), reason="needs the FER2013 zip")
def test_stop_during_a_run_then_resume(qtbot, make_tab):
    tab = make_tab()
    tab.form.set_dataset(str(FER_ZIP))
    qtbot.waitUntil(lambda: tab.start_button.isEnabled(), timeout=60_000)
    tiny_settings(tab, "tiny_cnn", epochs=3)
    events = []
    tab.runner.finished.connect(events.append)
    with qtbot.waitSignal(tab.runner.epoch, timeout=RUN_MS):
        tab.start()
    with qtbot.waitSignal(tab.runner.exited, timeout=RUN_MS):
        qtbot.mouseClick(tab.stop_button, Qt.MouseButton.LeftButton)  # never blocks the GUI
        assert tab.runner.is_running() and not tab.stop_button.isEnabled()
    assert events[-1]["event"] == "stopped" and not events[-1].get("forced")  # a clean stop
    assert events[-1]["epochs_done"] == 1 and not tab.errors
    assert not tab.runner.is_running() and tab.resume_button.isEnabled()
    run_dir = Path(events[-1]["run_dir"])
    assert (run_dir / "last.pt").is_file()

    tab.fake_dialogs.answers.append(str(run_dir))
    epochs = []
    tab.runner.epoch.connect(lambda ev: epochs.append(ev["epoch"]))
    with qtbot.waitSignal(tab.runner.exited, timeout=RUN_MS):
        qtbot.mouseClick(tab.resume_button, Qt.MouseButton.LeftButton)
        # at once, while the dataset loads again: the finished epoch is still on screen
        assert [p[0] for p in tab.loss_plot.points("train")] == [1.0]
    assert events[-1]["event"] == "finished" and events[-1]["epochs_done"] == 3, tab.errors
    assert epochs == [2, 3]
    assert [p[0] for p in tab.loss_plot.points("train")] == [1.0, 2.0, 3.0]  # history continues
    assert tab.confusion.epochs() == [1, 2, 3]


def test_resume_of_a_folder_without_checkpoint_is_an_error(qtbot, make_tab, tmp_path):
    tab = make_tab()
    tab.fake_dialogs.answers.append(str(tmp_path))
    qtbot.mouseClick(tab.resume_button, Qt.MouseButton.LeftButton)
    assert not tab.runner.is_running()
    assert tab.errors and "no last.pt" in tab.errors[0].message


# --- the plot and matrix widgets ---------------------------------------------------------------


def test_row_normalisation():
    from fer_desktop.core.training.metrics import row_normalised

    assert row_normalised([[1, 3], [0, 0]]) == [[0.25, 0.75], [0.0, 0.0]]


def test_widgets_paint_empty_single_and_many_points(qtbot):
    from fer_desktop.ui.training.confusion import ConfusionPanel
    from fer_desktop.ui.training.plots import LinePlot

    plot = LinePlot("Loss")
    panel = ConfusionPanel()
    for w in (plot, panel):
        qtbot.addWidget(w)
        w.resize(500, 300)
        assert not w.grab().isNull()  # empty
    plot.add_point("train", 1, 2.0)
    assert not plot.grab().isNull()  # one point
    for e in range(1, 50):
        plot.add_point("val", e, 1 / e)
    plot.add_point("val", 10, 0.5)  # a resumed run re-sends epoch 10: later points are replaced
    assert [p[0] for p in plot.points("val")][-2:] == [9.0, 10.0]
    assert not plot.grab().isNull()

    classes = ["a", "b"]
    for e in (1, 2, 3):
        panel.add_epoch({"epoch": e, "confusion_matrix": [[e, 1], [0, 0]], "precision": [1, 0],
                         "recall": [0.5, 0], "val_acc": 0.5}, classes)  # fmt: skip
    assert panel.shown_epoch() == 3  # follows the newest epoch
    panel.slider.setValue(0)
    assert panel.view.matrix == [[1, 1], [0, 0]]
    panel.add_epoch({"epoch": 4, "confusion_matrix": [[4, 0], [0, 1]]}, classes)
    assert panel.shown_epoch() == 1  # the user's choice is kept while new epochs arrive
    assert panel.table.item(0, 2).text() == "2"
    panel.resize(120, 90)  # tiny: labels rotate, nothing raises
    assert not panel.grab().isNull()
