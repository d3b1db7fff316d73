"""The run header of the training tab: which run, a progress bar (epoch x/y, ETA, images/s), a
status line with the latest metrics."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QProgressBar, QVBoxLayout, QWidget


def duration(s: float) -> str:
    """'42s', '3m 05s', '1h 07m'."""
    s = max(0, round(s))
    if s >= 3600:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    return f"{s // 60}m {s % 60:02d}s" if s >= 60 else f"{s}s"


class RunStatus(QWidget):
    """Shows the trainer's start / progress / epoch / finished events as text and a progress bar."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.epochs = 0
        self._epoch_seconds: list[float] = []
        self.run_label = QLabel("No run yet.")
        self.run_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.progress = QProgressBar(maximum=1000, value=0, textVisible=True)
        self.progress.setFormat("idle")
        self.status = QLabel("")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.run_label)
        lay.addWidget(self.progress)
        lay.addWidget(self.status)

    @property
    def epochs_done(self) -> int:
        """Complete epochs of the run shown (each has its checkpoint in last.pt)."""
        return len(self._epoch_seconds)

    def reset(self, run_text: str, bar_text: str) -> None:
        self.run_label.setText(run_text)
        self.progress.setValue(0)
        self.progress.setFormat(bar_text)
        self.status.setText("")
        self._epoch_seconds = []

    def set_bar(self, fraction: float, text: str) -> None:
        self.progress.setValue(int(1000 * min(max(fraction, 0.0), 1.0)))
        self.progress.setFormat(text)

    def show_history(self, run_dir: str, history: list[dict], epochs: int) -> None:
        """A reopened (or resumed) run: where it got to and its best epoch."""
        self.epochs = epochs or len(history)
        self._epoch_seconds = [r.get("seconds", 0.0) for r in history]
        self.run_label.setText(f"Run: {run_dir}")
        best = max(history, key=lambda r: r["val_acc"]) if history else None
        self.set_bar(len(history) / max(self.epochs, 1), f"epoch {len(history)}/{self.epochs}")
        self.status.setText(
            f"{len(history)} of {self.epochs} epochs"
            + (f" · best val acc {best['val_acc']:.1%} at epoch {best['epoch']}" if best else "")
        )

    def on_started(self, ev: dict) -> None:
        cfg = ev["config"]
        self.epochs = cfg["epochs"]
        self.run_label.setText(
            f"Run: {ev['run_dir']}  ·  {cfg['arch']}  ·  "
            f"{ev['train_images']:,} training / {ev['val_images']:,} validation images"
        )
        start = ev.get("start_epoch", 1)
        self.set_bar((start - 1) / max(self.epochs, 1), f"epoch {start}/{self.epochs}: starting…")

    def on_progress(self, ev: dict) -> None:
        total = max(self.epochs, 1)
        eta = ev["eta_epoch_s"]
        recent = self._epoch_seconds[-3:]
        if recent:  # whole-run ETA once an epoch's duration is known
            eta += sum(recent) / len(recent) * (total - ev["epoch"])
            eta_text = f"run ETA {duration(eta)}"
        else:
            eta_text = f"epoch ETA {duration(eta)}"
        self.set_bar(
            (ev["epoch"] - 1 + ev["batch"] / max(ev["batches"], 1)) / total,
            f"epoch {ev['epoch']}/{total} · batch {ev['batch']}/{ev['batches']} · "
            f"{ev['images_per_second']:.0f} img/s · {eta_text}",
        )

    def on_epoch(self, ev: dict) -> None:
        e = ev["epoch"]
        self.epochs = ev.get("epochs", self.epochs)
        self._epoch_seconds.append(ev.get("seconds", 0.0))
        self.set_bar(
            e / max(self.epochs, 1),
            f"epoch {e}/{self.epochs} done · {ev['images_per_second']:.0f} img/s",
        )
        self.status.setText(
            f"epoch {e}: train acc {ev['train_acc']:.1%}, val acc {ev['val_acc']:.1%} · "
            f"best {ev['best_val_acc']:.1%} at epoch {ev['best_epoch']} · "
            f"{ev['seconds']:.0f} s/epoch · elapsed {duration(ev.get('elapsed_s', 0))}"
        )

    def on_finished(self, ev: dict) -> str:
        """Show the end of a run; returns the one-line summary."""
        done = ev.get("epochs_done", 0)
        if ev["event"] == "finished":
            self.set_bar(1.0, f"finished: {done} epochs")
            text = (
                f"Finished · best val acc {ev.get('best_val_acc', 0):.1%} "
                f"at epoch {ev.get('best_epoch')}"
            )
        else:
            self.set_bar(self.progress.value() / 1000, f"stopped after epoch {done}")
            text = f"Stopped after epoch {done} · Resume… continues it from epoch {done + 1}"
        self.status.setText(text)
        return text

    def on_failed(self) -> None:
        self.set_bar(self.progress.value() / 1000, "failed")
