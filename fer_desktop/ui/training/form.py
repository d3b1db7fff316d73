"""The settings form of the training tab: dataset (checked at once, in the background), model and
hyper-parameters, output folder. Turns them into a TrainConfig (the tab writes it to the run
folder as request.json, which fer-train runs)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from fer_desktop.core.classify.arch_names import ARCH_INFO as ARCHITECTURES
from fer_desktop.core.support.errors import UserError
from fer_desktop.core.training.config import CHOICES, TrainConfig
from fer_desktop.core.training.datasets import load_dataset
from fer_desktop.core.training.run_folder import new_run_dir, runs_root
from fer_desktop.ui.training.dataset_check import check_dataset, dataset_paths, describe_dataset
from fer_desktop.ui.widgets import push_button
from fer_desktop.workers.tasks import LatestTask


class FileDialogs:
    """The file pickers the tab uses; tests pass an object with the same methods."""

    def directory(self, parent: QWidget, caption: str, start: str = "") -> str:
        return QFileDialog.getExistingDirectory(parent, caption, start)

    def open_file(self, parent: QWidget, caption: str, start: str = "", filter: str = "") -> str:
        return QFileDialog.getOpenFileName(parent, caption, start, filter)[0]


class TrainingSettings(QWidget):
    """Everything a run needs before it starts. `dataset_checked(ok)` fires after each check."""

    dataset_checked = Signal(bool)

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        dialogs: FileDialogs | None = None,
        dataset_loader: Callable = load_dataset,
        runs_dir: Path | None = None,
    ) -> None:
        super().__init__(parent)
        self.dialogs = dialogs or FileDialogs()
        self._load = dataset_loader
        self.dataset_ok = False
        self._checked_path = ""
        self._check = LatestTask("Checking the dataset", self)
        self._check.progress.connect(self._on_quick_check)
        self._check.finished.connect(self._on_full_check)
        self._check.failed.connect(self._on_check_failed)

        self.data_edit = QLineEdit(
            placeholderText="folder, .zip or fer2013.csv (several: separated by ;)"
        )
        self.data_edit.setToolTip(
            "One dataset, or several trained together separated by ; "
            "(e.g. fer2013.zip ; ckplus48.zip): each is validated on its own test split."
        )
        self.data_edit.editingFinished.connect(self._edited)
        browse_dir = push_button("Folder…", self._browse_folder)
        browse_file = push_button("Zip/CSV…", self._browse_file)
        add_more = push_button("Add…", self._add_dataset)
        add_more.setToolTip("Add another dataset to train on together with the one above")
        self.data_status = QLabel("Choose a dataset.")
        self.data_status.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(browse_dir)
        row.addWidget(browse_file)
        row.addWidget(add_more)
        data_box = QGroupBox("Dataset")
        dl = QVBoxLayout(data_box)
        dl.addWidget(self.data_edit)
        dl.addLayout(row)
        dl.addWidget(self.data_status)

        self.arch = QComboBox()
        for i, (name, spec) in enumerate(ARCHITECTURES.items()):
            self.arch.addItem(f"{name} ({spec.size})" if spec.size else name, name)
            self.arch.setItemData(
                i,
                f"{spec.description}\nInput {spec.input_size}×{spec.input_size}.",
                Qt.ItemDataRole.ToolTipRole,
            )
        self.arch.currentIndexChanged.connect(self._arch_tooltip)
        d = TrainConfig()  # the defaults live in one place
        self.set_arch(d.arch)
        self._arch_tooltip()
        self.epochs = QSpinBox(minimum=1, maximum=1000, value=d.epochs)
        self.estimate = QLabel("")
        self.estimate.setWordWrap(True)
        self.estimate.setToolTip(
            "Estimated from the architecture's measured speed on a 2-core laptop CPU; a GPU or a "
            "faster CPU takes less, other work on the machine more."
        )
        self.batch_size = QSpinBox(minimum=2, maximum=4096, value=d.batch_size)
        self.lr = QDoubleSpinBox(
            decimals=5, minimum=0.00001, maximum=1.0, singleStep=0.0001, value=d.lr
        )
        self.optimizer = QComboBox()
        self.optimizer.addItems(sorted(CHOICES["optimizer"], key=lambda o: o != "adamw"))
        self.optimizer.setCurrentText(d.optimizer)
        self.schedule = QComboBox()
        self.schedule.addItems(list(CHOICES["schedule"]))
        self.schedule.setCurrentText(d.schedule)
        self.schedule.setToolTip(
            "cosine: warm-up then cosine decay; plateau: divide the rate when val loss stalls"
        )
        self.balance = QComboBox()
        self.balance.addItems(list(CHOICES["balance"]))
        self.balance.setCurrentText(d.balance)
        self.balance.setToolTip(
            "Counter class imbalance (FER2013 has few 'disgust' faces): "
            "weighted loss or a balanced sampler"
        )
        self.label_mode = QComboBox()
        self.label_mode.addItems(list(CHOICES["label_mode"]))
        self.label_mode.setCurrentText(d.label_mode)
        self.label_mode.setToolTip(
            "FER+ datasets (ten annotators per face): learn the majority label, or the votes "
            "as a distribution; other datasets use their one label either way"
        )
        self.limit = QSpinBox(minimum=0, maximum=10_000_000, value=0)
        self.limit.setSpecialValueText("all")
        self.limit.setToolTip("At most this many images per split, for a quick trial run (0 = all)")
        self.out_edit = QLineEdit()
        self.out_edit.textChanged.connect(self._out_changed)
        self.set_output_folder(str(runs_dir or runs_root()))
        out_row = QHBoxLayout()
        out_row.addWidget(self.out_edit, 1)
        browse_out = push_button("…", self._browse_out)
        browse_out.setMaximumWidth(32)
        out_row.addWidget(browse_out)
        model_box = QGroupBox("Model and training")
        form = QFormLayout(model_box)
        form.addRow("Architecture", self.arch)
        form.addRow("Epochs", self.epochs)
        form.addRow("Batch size", self.batch_size)
        form.addRow("Learning rate", self.lr)
        form.addRow("Optimizer", self.optimizer)
        form.addRow("Schedule", self.schedule)
        form.addRow("Balance", self.balance)
        form.addRow("FER+ labels", self.label_mode)
        form.addRow("Images per split", self.limit)
        form.addRow(self.estimate)
        for w in (self.epochs, self.limit):
            w.valueChanged.connect(self.update_estimate)
        form.addRow(QLabel("Output folder (each run gets its own folder in it)"))
        form.addRow(out_row)  # the whole width: a path is read from its start

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(data_box)
        lay.addWidget(model_box)

    # --- dataset ---------------------------------------------------------------------------

    def train_count(self) -> int:
        """Training images of the checked dataset (0 until counted)."""
        return getattr(self, "_train_count", 0)

    def arch_name(self) -> str:
        """The chosen architecture's name (the combo shows it with its size)."""
        return str(self.arch.currentData() or self.arch.currentText())

    def set_arch(self, name: str) -> None:
        i = self.arch.findData(name)
        if i >= 0:
            self.arch.setCurrentIndex(i)

    def _arch_tooltip(self) -> None:
        spec = ARCHITECTURES.get(self.arch_name())
        self.arch.setToolTip(spec.description if spec else "")
        self.update_estimate()

    def update_estimate(self) -> None:
        """ "About 15 min (10 epochs of 28,278 faces on a 2-core CPU)": what Start commits to."""
        if not hasattr(self, "estimate"):
            return
        spec = ARCHITECTURES.get(self.arch_name())
        n = self.train_count()
        if self.limit.value():  # at most this many per split of each dataset
            cap = self.limit.value() * max(1, len(dataset_paths(self.data_edit.text())))
            n = min(n, cap) if n else cap
        if not spec or not spec.cpu_images_per_s or not n:
            self.estimate.setText("")
            return
        from fer_desktop.core.support.devices import cpu_flags  # reads /proc/cpuinfo, no torch

        # The speeds in arch_names are bf16 on AVX-512 BF16; without it training runs fp32 at
        # about 0.3 of that (fer_net: 86-90 against 300+ images/s): a 1 min estimate took 5 min
        # on such a machine (issue 32).
        bf16 = bool({"avx512_bf16", "amx_bf16"} & cpu_flags())
        rate = spec.cpu_images_per_s * (1.0 if bf16 else 0.3)
        s = self.epochs.value() * n / rate * 1.1  # + validation
        text = f"{s / 3600:.1f} h" if s >= 5400 else f"{max(1, round(s / 60))} min"
        self.estimate.setText(
            f"About {text} on a 2-core CPU {'with' if bf16 else 'without'} bf16 "
            f"({self.epochs.value()} epochs of {n:,} faces); the run's own ETA follows."
        )

    def _browse_folder(self) -> None:
        path = self.dialogs.directory(self, "Dataset folder", self.data_edit.text())
        if path:
            self.set_dataset(path)

    def _browse_file(self) -> None:
        path = self.dialogs.open_file(
            self,
            "Dataset zip or fer2013.csv",
            self.data_edit.text(),
            "Datasets (*.zip *.csv);;All files (*)",
        )
        if path:
            self.set_dataset(path)

    def _add_dataset(self) -> None:
        path = self.dialogs.open_file(
            self,
            "Another dataset to train on together (zip or fer2013.csv)",
            "",
            "Datasets (*.zip *.csv);;All files (*)",
        )
        if path:
            paths = dataset_paths(self.data_edit.text())
            self.set_dataset(" ; ".join([*paths, path]) if path not in paths else " ; ".join(paths))

    def _browse_out(self) -> None:
        path = self.dialogs.directory(self, "Folder for training runs", self.out_edit.text())
        if path:
            self.set_output_folder(path)

    def set_output_folder(self, path: str) -> None:
        """Show `path` from its start (the field is narrower than most paths)."""
        self.out_edit.setText(path)
        self.out_edit.setCursorPosition(0)

    def _out_changed(self, text: str) -> None:
        self.out_edit.setToolTip(
            f"{text}\nEach run gets its own folder in here: config, history, best.pt, last.pt"
        )

    def _edited(self) -> None:
        if self.data_edit.text().strip() != self._checked_path:
            self.set_dataset(self.data_edit.text())

    def set_dataset(self, path: str) -> None:
        """Show the path and check it in the background; the newest check wins."""
        path = path.strip()
        self._checked_path = path
        self.data_edit.setText(path)
        self._check.cancel()
        self.dataset_ok = False
        self.dataset_checked.emit(False)
        if not path:
            self._set_status("Choose a dataset.", "")
            return
        self._set_status("Checking the dataset…", "")
        self._check.run(check_dataset, self._load, path)

    def _on_quick_check(self, quick) -> None:
        self.dataset_ok = True
        self._set_status("✔ readable: " + ", ".join(quick.splits) + " (counting images…)", "ok")
        self.dataset_checked.emit(True)

    def _on_full_check(self, full) -> None:
        text, tip = describe_dataset(full)
        train = full.splits.get("train") or full.splits.get("all")
        self._train_count = getattr(full, "train_count", len(train) if train is not None else 0)
        self.update_estimate()
        self.dataset_ok = True
        self._set_status(text, "ok", tip)
        self.dataset_checked.emit(True)

    def _on_check_failed(self, err: UserError) -> None:
        self.dataset_ok = False
        self._set_status(f"✖ {err.message}\n{err.hint}".strip(), "error")
        self.dataset_checked.emit(False)

    def _set_status(self, text: str, kind: str, tip: str = "") -> None:
        colour = {"error": "#c62828", "ok": "#2e7d32"}.get(kind, "")
        self.data_status.setStyleSheet(f"color: {colour};" if colour else "")
        self.data_status.setText(text)
        self.data_status.setToolTip(tip)

    def wait_idle(self, ms: int = 30_000) -> bool:
        """Wait for a running dataset check (tests, shutdown)."""
        self._check.cancel()  # a full count stops at its next step
        return self._check.wait(ms / 1000)

    # --- arguments -------------------------------------------------------------------------

    def new_run_dir(self) -> Path:
        return new_run_dir(self.arch_name(), self.out_edit.text().strip() or None)

    def config(self, run_dir: Path) -> TrainConfig:
        """The run the form describes, into `run_dir` (validated by the trainer, which can
        import torch; this process does not)."""
        paths = dataset_paths(self.data_edit.text())
        return TrainConfig(
            data=paths[0] if len(paths) == 1 else paths,
            arch=self.arch_name(),
            epochs=self.epochs.value(),
            batch_size=self.batch_size.value(),
            lr=self.lr.value(),
            optimizer=self.optimizer.currentText(),
            schedule=self.schedule.currentText(),
            balance=self.balance.currentText(),
            label_mode=self.label_mode.currentText(),
            limit=self.limit.value(),
            out=str(run_dir),
        )
