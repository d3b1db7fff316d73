"""The Training tab: pick a dataset and settings, run fer-train in its own process, watch curves and
confusion matrices live, reopen past runs, and hand a trained model to the Live and Photo tabs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QMessageBox,
    QPlainTextEdit,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from fer_desktop.core.support.errors import UserError
from fer_desktop.core.training.run_folder import RunFolder, read_run
from fer_desktop.ui.errors import show_error as app_show_error
from fer_desktop.ui.training.confusion import ConfusionPanel
from fer_desktop.ui.training.form import FileDialogs, TrainingSettings
from fer_desktop.ui.training.plots import LinePlot
from fer_desktop.ui.training.status import RunStatus
from fer_desktop.ui.widgets import push_button
from fer_desktop.workers.training_runner import TrainingRunner


def _short(path: str) -> str:
    p = Path(path)
    return f"{p.parent.name}/{p.name}"


class TrainingTab(QWidget):
    """Train, watch and pick emotion models. Emits `model_chosen(path to best.pt)`."""

    model_chosen = Signal(str)

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        runner_factory: Callable[..., TrainingRunner] = TrainingRunner,
        dialogs: FileDialogs | None = None,
        show_error: Callable[[QWidget, Exception], object] = app_show_error,
        read_run: Callable[[str], dict] = read_run,
        runs_dir: Path | None = None,
    ) -> None:
        super().__init__(parent)
        self._read_run = read_run
        self._show_error = show_error
        self.dialogs = dialogs or FileDialogs()
        self.runner = runner_factory(self)
        self.run_dir: str | None = None
        self.best_checkpoint: str | None = None

        self.form = TrainingSettings(dialogs=self.dialogs, runs_dir=runs_dir)
        self.form.dataset_checked.connect(lambda ok: self._update_buttons())
        self.start_button = push_button("Start", self.start)
        self.stop_button = push_button("Stop", self.stop)
        self.stop_button.setToolTip("Stop after the current batch; finished epochs are kept")
        self.resume_button = push_button("Resume…", self._choose_resume)
        self.resume_button.setToolTip(
            "Continue a stopped run folder up to its epochs (or the Epochs box, if larger)"
        )
        self.open_button = push_button("Open run…", self._choose_open)
        self.use_button = push_button("Use this model", self.use_model)
        self.use_button.setToolTip("Use this run's best.pt in the Live and Photo tabs")
        buttons = QGridLayout()
        for i, b in enumerate((self.start_button, self.stop_button, self.resume_button)):
            buttons.addWidget(b, 0, i)
        buttons.addWidget(self.open_button, 1, 0)
        buttons.addWidget(self.use_button, 1, 1, 1, 2)
        self.log_view = QPlainTextEdit(readOnly=True, maximumBlockCount=500)
        self.log_view.setPlaceholderText("Training messages")
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 4, 0)
        ll.addWidget(self.form)
        ll.addLayout(buttons)
        ll.addWidget(self.log_view, 1)
        scroll = QScrollArea(widgetResizable=True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(left)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(left.sizeHint().width() + 16)
        scroll.setMaximumWidth(420)

        self.run_status = RunStatus()
        self.loss_plot = LinePlot("Loss")
        self.acc_plot = LinePlot("Accuracy", y_range=(0.0, 1.0), y_percent=True)
        for plot in (self.loss_plot, self.acc_plot):
            plot.add_series("train", "#1f77b4")
            plot.add_series("val", "#ff7f0e")
        self.confusion = ConfusionPanel()
        plots = QSplitter(Qt.Orientation.Horizontal)
        plots.addWidget(self.loss_plot)
        plots.addWidget(self.acc_plot)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(plots)
        split.addWidget(self.confusion)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        right = QVBoxLayout()
        right.addWidget(self.run_status)
        right.addWidget(split, 1)
        lay = QHBoxLayout(self)
        lay.addWidget(scroll)
        lay.addLayout(right, 1)

        r = self.runner
        r.started.connect(self._on_started)
        r.progress.connect(self.run_status.on_progress)
        r.epoch.connect(self._on_epoch)
        r.log.connect(self._on_log)
        r.best.connect(self._on_best)
        r.finished.connect(self._on_finished)
        r.failed.connect(self._on_failed)
        r.exited.connect(lambda code: self._update_buttons())
        self._update_buttons()

    # --- actions ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start a new run with the current settings."""
        if self.runner.is_running() or not self.form.dataset_ok:
            return
        run = RunFolder(self.form.new_run_dir())
        try:  # the settings cross into the trainer as one file: fer-train --config request.json
            request = run.write_request(self.form.config(run.path).to_dict())
        except OSError as exc:
            self._show_error(
                self,
                UserError(
                    f"Cannot write the run folder {run.path}: {exc.strerror or exc}.",
                    "Choose an output folder you can write to.",
                ),
            )
            return
        self._launch(["--config", str(request), "--no-progress"], f"Starting {run.path}…")

    def resume(self, run_dir: str) -> None:
        """Continue a stopped or crashed run from its last complete epoch."""
        if self.runner.is_running():
            return
        run = RunFolder(run_dir)
        d = run.path
        if not run.last.is_file():
            self._show_error(
                self,
                UserError(
                    f"Cannot resume {d}: it has no last.pt.",
                    "Choose a run folder that completed at least one epoch.",
                ),
            )
            return
        args = ["--resume", str(d), "--no-progress"]
        try:
            saved = int(run.saved_config().get("epochs", 0))
        except (OSError, ValueError, TypeError):
            saved = 0
        if self.form.epochs.value() > saved:  # the Epochs box can extend a run
            args += ["--epochs", str(self.form.epochs.value())]
        try:  # the finished epochs stay on screen while the dataset loads again
            self._show_run(self._read_run(str(d)))
            keep = True
        except (OSError, ValueError, KeyError):
            keep = False
        self._launch(args, f"Resuming {d}…", clear=not keep)

    def stop(self) -> None:
        """Ask the run to stop after its current batch (never blocks the GUI)."""
        if self.runner.is_running():
            self.run_status.progress.setFormat("stopping after this batch…")
            self.runner.stop()
            self._update_buttons()

    def open_run(self, run_dir: str) -> bool:
        """Show a past run's curves, matrices and metrics."""
        try:
            run = self._read_run(run_dir)
        except (OSError, ValueError, KeyError) as exc:
            hint = "Choose a folder written by a training run (it holds history.json)."
            self._show_error(self, UserError(f"Cannot open the run: {exc}", hint))
            return False
        self._show_run(run)
        return True

    def use_model(self) -> None:
        """Ask before replacing the model of Live, Photos and Videos with this run's best.pt;
        the question says what the run's score is worth."""
        best = self.best_checkpoint
        if not best or not Path(best).is_file():
            return
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Use this model?",
            f"Use {_short(best)} in Live, Photos and Videos instead of the current model?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setInformativeText(self._score_note(best))
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.accepted.connect(lambda path=best: self.model_chosen.emit(path))
        self.confirm_box = box
        box.open()

    def _score_note(self, best: str) -> str:
        try:
            run = self._read_run(str(Path(best).parent))
        except (OSError, ValueError, KeyError):
            return "Model → Use default model goes back to the shipped model at any time."
        hist, cfg = run["history"], run["config"]
        top = max(hist, key=lambda r: r.get("select_score", r["val_acc"])) if hist else None
        text = (
            f"Best epoch {top['epoch']}: {top['val_acc']:.1%} validation accuracy. " if top else ""
        )
        if cfg.get("limit"):
            text += (
                f"This run used at most {cfg['limit']} images per split (a quick test): its score "
                "says little about how it does on real faces. "
            )
        return text + "Model → Use default model goes back to the shipped model at any time."

    def busy_text(self) -> str:
        """What closing the window would stop, for its question ("" when nothing runs)."""
        if not self.runner.is_running():
            return ""
        if done := self.run_status.epochs_done:
            return (
                f"Training runs: epoch {done} of {self.run_status.epochs} is saved; "
                "Training ▸ Resume… goes on from there."
            )
        return "Training runs: its first epoch is not finished, so nothing of it is saved yet."

    def shutdown(self, timeout_ms: int = 30_000) -> None:
        """Stop a run and background checks; for the main window's closeEvent."""
        self.runner.stop_and_wait(timeout_ms)
        self.form.wait_idle(timeout_ms)

    def closeEvent(self, event) -> None:
        self.shutdown()
        super().closeEvent(event)

    # --- helpers ---------------------------------------------------------------------------

    def _start_dir(self) -> str:
        return str(Path(self.run_dir).parent) if self.run_dir else self.form.out_edit.text()

    def _choose_resume(self) -> None:
        path = self.dialogs.directory(
            self, "Run folder to resume", self.run_dir or self._start_dir()
        )
        if path:
            self.resume(path)

    def _choose_open(self) -> None:
        path = self.dialogs.directory(self, "Open a training run", self._start_dir())
        if path:
            self.open_run(path)

    def _launch(self, args: list[str], message: str, clear: bool = True) -> None:
        if clear:
            self._clear_display()
        self.run_status.reset(message, "loading the dataset…")
        self.runner.start(args)
        self._update_buttons()

    def _clear_display(self) -> None:
        self.loss_plot.clear()
        self.acc_plot.clear()
        self.confusion.clear()
        self.best_checkpoint = None

    def _show_run(self, run: dict) -> None:
        self._clear_display()
        self.run_dir = run["run_dir"]
        hist = run["history"]
        for key, plot in (("loss", self.loss_plot), ("acc", self.acc_plot)):
            for part in ("train", "val"):
                plot.set_points(part, [(r["epoch"], r[f"{part}_{key}"]) for r in hist])
        self.confusion.set_history(hist, run.get("classes") or [])
        epochs = run["config"].get("epochs", len(hist))
        self._set_x_extent(epochs)
        self.run_status.show_history(self.run_dir, hist, epochs)
        self.best_checkpoint = run.get("best")
        self._update_buttons()

    def _update_buttons(self) -> None:
        running = self.runner.is_running()
        self.start_button.setEnabled(self.form.dataset_ok and not running)
        self.stop_button.setEnabled(running and not self.runner.is_stopping())
        self.resume_button.setEnabled(not running)
        self.open_button.setEnabled(not running)
        self.form.setEnabled(not running)
        best = self.best_checkpoint
        self.use_button.setEnabled(bool(best and Path(best).is_file()))

    # --- runner events ---------------------------------------------------------------------

    def _on_started(self, ev: dict) -> None:
        self.run_dir = ev["run_dir"]
        if ev.get("start_epoch", 1) > 1:  # resumed: show the epochs done before
            try:
                self._show_run(self._read_run(self.run_dir))
            except (OSError, ValueError, KeyError):
                pass
        self.run_status.on_started(ev)
        self._set_x_extent(ev["config"]["epochs"])

    def _set_x_extent(self, epochs: int) -> None:
        for plot in (self.loss_plot, self.acc_plot):
            plot.set_x_extent(1, max(int(epochs), 1))

    def _on_epoch(self, ev: dict) -> None:
        e = ev["epoch"]
        for key, plot in (("loss", self.loss_plot), ("acc", self.acc_plot)):
            for part in ("train", "val"):
                plot.add_point(part, e, ev[f"{part}_{key}"])
        self.confusion.add_epoch(ev, ev.get("classes"))
        self.run_status.on_epoch(ev)
        best = RunFolder(self.run_dir).best_if_saved() if self.run_dir else None
        if best:
            self.best_checkpoint = str(best)
        self._update_buttons()

    def _on_best(self, ev: dict) -> None:
        self.best_checkpoint = ev.get("path") or self.best_checkpoint
        self._on_log({"level": "info", "message": f"epoch {ev.get('epoch')}: new best model saved"})
        self._update_buttons()

    def _on_log(self, ev: dict) -> None:
        self.log_view.appendPlainText(f"[{ev.get('level', 'info')}] {ev.get('message', '')}")

    def _on_finished(self, ev: dict) -> None:
        self.run_dir = ev.get("run_dir") or self.run_dir
        self.best_checkpoint = ev.get("best_checkpoint") or self.best_checkpoint
        self._on_log({"level": "info", "message": self.run_status.on_finished(ev)})
        self._update_buttons()

    def _on_failed(self, message: str) -> None:
        self.run_status.on_failed()
        self._on_log({"level": "error", "message": message})
        err = self.runner.last_error or {"message": message, "hint": ""}
        self._show_error(self, UserError(err["message"], err["hint"]))
        self._update_buttons()
