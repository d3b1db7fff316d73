"""The main window: assembles the tabs (Live, Photos, Videos, Training), menus and status bar."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal, SignalInstance
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from fer_desktop import __version__
from fer_desktop.core import choices
from fer_desktop.core.pipeline.shared_models import LoadedModels, load_models, models_key
from fer_desktop.core.settings import Settings
from fer_desktop.core.support.errors import UserError
from fer_desktop.core.support.fileio import unique_path
from fer_desktop.core.support.resources import (
    FULL_BUILD_HINT,
    torch_available,
    user_data_dir,
    user_folder_notice,
)
from fer_desktop.ui.errors import show_error
from fer_desktop.ui.live.tab import LiveTab
from fer_desktop.ui.photos.tab import PhotoTab
from fer_desktop.ui.sessions.session_view import open_session_dialog
from fer_desktop.ui.sessions.videos_tab import VideosTab
from fer_desktop.ui.widgets import fit_to_screen, keep_on_screen
from fer_desktop.workers import gui_gc
from fer_desktop.workers.model_service import ModelService

log = logging.getLogger(__name__)

DETECTOR_TEXT = {
    "auto": "&Auto (YOLOv8 if downloaded, else YuNet)",
    "yunet": "Offline Yu&Net",
    "yolo": "&YOLOv8 face",
}

ABOUT = f"""<h3>fer-desktop {__version__}</h3>
<p>Live facial emotion recognition: finds every face in a camera, video or photo and shows one of
seven emotions (angry, disgust, fear, happy, neutral, sad, surprise) with its confidence.</p>
<p><b>Licences</b></p>
<ul>
<li>fer-desktop: AGPL-3.0-or-later.</li>
<li>YOLOv8 face detector weights (<i>arnabdhar/YOLOv8-Face-Detection</i>, downloaded on request)
and the <i>ultralytics</i> library: AGPL-3.0.</li>
<li>Offline face detector: YuNet (OpenCV Zoo, Shiqi Yu and contributors), MIT.</li>
<li>Emotion models: trained by this project on FER2013 (ICML 2013 challenge) and CK+ (Lucey et
al. 2010), both for research use and not redistributed; figures and terms in
resources/models/MODEL_CARD.md.</li>
<li>Emoji graphics from Twemoji, Copyright 2014–2021 Twitter, Inc. and other contributors,
Copyright 2022–present Jason Sofonia &amp; Justine De Caires and other contributors, licensed under
CC-BY 4.0 (https://creativecommons.org/licenses/by/4.0/). Converted from SVG to 72×72 PNG.</li>
<li>Qt for Python (PySide6): LGPL-3.0; PyTorch: BSD-3-Clause; OpenCV: Apache-2.0.</li>
</ul>"""


NO_TRAINING_PIP_HTML = """<h3>Training needs PyTorch</h3>
<p>This install of fer-desktop has no PyTorch (<code>pip install -e .</code> installs the app
alone, which keeps it small). It recognises emotions (Live, Photos, Videos) without it. Training
your own models, exporting them and the YOLOv8 face detector need PyTorch:</p>
<p>in the source folder, with Python 3.11: <code>pip install -e ".[train]"</code>, then restart
<code>fer-desktop</code>. <code>docs/training.md</code> in the source folder shows how to take the CPU-only PyTorch
(about 1 GB instead of 5 GB).</p>"""

NO_TRAINING_HTML = """<h3>Training needs the full build</h3>
<p>This is the small build of fer-desktop. It recognises emotions (Live, Photos, Videos) without
PyTorch, which keeps it small. Training your own models and the YOLOv8 face detector need PyTorch.
Two ways to get them:</p>
<ul>
<li><b>The full build</b> (about 3.5 GB): from the source folder, with Python 3.11,
<code>pip install -e ".[build]"</code> then <code>FER_BUNDLE=full pyinstaller build.spec</code>.</li>
<li><b>A Python install</b>: from the source folder, with Python 3.11,
<code>pip install -e ".[train]"</code> then run <code>fer-desktop</code>.</li>
</ul>
<p>A model trained there (<code>best.onnx</code>, written next to <code>best.pt</code>) opens here
with <i>Model &rarr; Load model&hellip;</i>. The README's stand-alone section has the details.</p>"""


class TrainingPage(Protocol):
    """What the main window needs of its Training tab (TrainingTab, or NoTrainingPage)."""

    model_chosen: SignalInstance  # str: the path of a checkpoint to use in Live/Photos/Videos

    def shutdown(self) -> None: ...


class NoTrainingPage(QWidget):
    """The Training tab of the build without PyTorch: says how to get training."""

    model_chosen = Signal(str)  # never emitted: nothing is trained here

    def shutdown(self) -> None:
        """Nothing runs here."""

    def __init__(self) -> None:
        super().__init__()
        self.label = QLabel(
            NO_TRAINING_HTML if getattr(sys, "frozen", False) else NO_TRAINING_PIP_HTML
        )
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.addWidget(self.label, 0, Qt.AlignmentFlag.AlignTop)


def training_page() -> QWidget:
    """The Training tab, or where PyTorch is missing (the default bundle) a page saying why."""
    if not torch_available():
        return NoTrainingPage()
    from fer_desktop.ui.training.tab import TrainingTab  # torch-free (issue 33)

    return TrainingTab()


def window_settings() -> QSettings:
    """Window geometry in the per-user folder (so tests with FER_DESKTOP_HOME stay isolated)."""
    return QSettings(str(user_data_dir() / "window.ini"), QSettings.Format.IniFormat)


def load_settings() -> tuple[Settings, UserError | None]:
    """The user's settings; a field that is wrong (type, range, unknown) takes its default and
    the rest are kept; a file that cannot be read at all gives the defaults. The problem comes
    back to be shown, and the file is kept as a backup (`settings.json.broken`)."""
    import json

    path = Settings.path()
    try:
        return Settings.load(), None
    except UserError as err:
        problems = [err.message]
        settings = Settings()
        try:
            settings, problems = Settings.repair(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, RecursionError):
            pass  # not JSON at all: the defaults
        backup = unique_path(path.with_name(path.name + ".broken"))
        try:
            path.rename(backup)
            kept = f" The file was kept as {backup.name}."
        except OSError:
            kept = ""
        return settings, UserError(
            "Some settings could not be used: " + "; ".join(problems) + ".",
            "The other settings are kept." + kept
            if problems != [err.message]
            else "The default settings are used now." + kept,
        )


# The settings the models are built from (shared_models.models_key): what a failed load reverts.
MODEL_FIELDS = ("detector", "detector_weights", "yolo_imgsz", "model", "device", "precision",
                "backend", "tta", "crop_margin", "accurate")  # fmt: skip


def _model_fields(settings: Settings) -> dict:
    return {f: getattr(settings, f) for f in MODEL_FIELDS}


def _went_back_to(failed: dict, target: dict) -> str:
    """What the app runs now, in the menus' words, for the fields that changed."""
    parts = []
    if failed["model"] != target["model"]:
        parts.append(
            f"the model {Path(target['model']).name}" if target["model"] else "the default model"
        )
    if (
        failed["detector"] != target["detector"]
        or failed["detector_weights"] != target["detector_weights"]
    ):
        name = DETECTOR_TEXT.get(target["detector"], target["detector"]).replace("&", "")
        parts.append(f"the detector {name}")
    if failed["accurate"] != target["accurate"]:
        parts.append("accurate mode " + ("on" if target["accurate"] else "off"))
    rest = [f for f in MODEL_FIELDS if failed[f] != target[f]]
    rest = [f for f in rest if f not in ("model", "detector", "detector_weights", "accurate")]
    if rest:
        parts.append("the previous " + ", ".join(f.replace("_", " ") for f in rest))
    return " and ".join(parts) or "the settings that worked"


class MainWindow(QMainWindow):
    def __init__(
        self,
        settings: Settings | None = None,
        *,
        models_loader: Callable = load_models,
        training_tab: QWidget | None = None,
        preload: bool = True,
    ) -> None:
        super().__init__()
        gui_gc.install()  # cyclic garbage (Qt objects in it) is freed on this thread only
        self.setWindowTitle("fer-desktop: facial emotion recognition")
        self.last_error = ""
        problem = None
        if settings is None:
            settings, problem = load_settings()
        self.settings = settings
        self.models = ModelService(self, loader=models_loader)  # one set of models for both tabs
        # A choice whose models cannot load is not kept: the app goes back to what worked (or
        # the defaults), says so once, and the menus show what runs (issue 32).
        self._worked: dict | None = None  # the model settings of the last load that worked
        self.models.fallback = self._fall_back
        self.models.loaded.connect(self._on_models_loaded)
        self.models.fell_back.connect(self._on_fell_back)
        self.live_tab = LiveTab(settings=settings, models=self.models, preload=preload)
        self.photo_tab = PhotoTab(settings=settings, models=self.models)
        self.videos_tab = VideosTab(settings=settings, models=self.models)
        self.training_tab: TrainingPage = training_tab or training_page()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.live_tab, "Live")
        self.tabs.addTab(self.photo_tab, "Photos")
        self.tabs.addTab(self.videos_tab, "Videos")
        self.tabs.addTab(self.training_tab, "Training")
        self.setCentralWidget(self.tabs)
        self._build_menus()
        self._build_status_bar()
        self.live_tab.pipeline_changed.connect(self._on_pipeline_changed)
        self.live_tab.settings_changed.connect(self.apply_settings)
        self.training_tab.model_chosen.connect(self.use_model)
        self._restore_window()
        if problem is not None:
            show_error(self, problem)

    # ---------------------------------------------------------------------------------- menus
    def _action(self, menu, text: str, slot: Callable, shortcut=None) -> QAction:
        act = QAction(text, self)
        if shortcut is not None:
            act.setShortcut(shortcut)
        act.triggered.connect(lambda checked=False: slot())
        menu.addAction(act)
        return act

    def _build_menus(self) -> None:
        bar = self.menuBar()
        m = bar.addMenu("&File")
        self._action(m, "Open &video…", self._open_video, QKeySequence.StandardKey.Open)
        self._action(m, "Open &photos…", self._open_photos, QKeySequence("Ctrl+Shift+O"))
        self._action(m, "Open &session…", lambda: open_session_dialog(self))
        m.addSeparator()
        self._action(m, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        m = bar.addMenu("&Model")
        self._action(m, "&Load model…", self._choose_model)
        self._action(m, "Use &default model", lambda: self.use_model(""))
        m.addSeparator()
        self.accurate_action = self._action(
            m,
            "&Accurate mode for photos and videos",
            lambda: self.use_accurate(self.accurate_action.isChecked()),
        )
        self.accurate_action.setCheckable(True)
        self.accurate_action.setChecked(self.settings.accurate)
        self.accurate_action.setToolTip(
            "Photos and Videos run v3's 3-model ensemble, trained on FER2013's one-person labels: "
            "on FER+ (ten annotators) it is right 69% of the time against the live model's 85%, "
            "and 3x slower. Kept for comparison; off is better. Live always runs the live model."
        )
        m.setToolTipsVisible(True)
        m = bar.addMenu("&Detector")
        self.detector_actions = QActionGroup(self)
        for key, text in ((k, DETECTOR_TEXT[k]) for k in choices.DETECTORS):
            act = self._action(m, text, lambda k=key: self.use_detector(k))
            act.setCheckable(True)
            act.setData(key)
            act.setChecked(key == self.settings.detector)
            self.detector_actions.addAction(act)
        m.addSeparator()
        fetch = self._action(m, "&Fetch YOLOv8 face detector…", self._fetch_detector)
        if not torch_available():  # the default bundle: YOLO needs PyTorch
            m.setToolTipsVisible(True)
            for act in (*self.detector_actions.actions(), fetch):
                if act is fetch or act.data() == "yolo":
                    act.setEnabled(False)
                    act.setToolTip(FULL_BUILD_HINT)
                if act.data() == "yolo":
                    act.setText(
                        "YOLOv8 face: needs the full build (see the Training tab)"
                        if getattr(sys, "frozen", False)
                        else "YOLOv8 face: needs PyTorch (see the Training tab)"
                    )
        m = bar.addMenu("&Help")
        self._action(m, "&About fer-desktop", self._about)

    def _build_status_bar(self) -> None:
        notice = user_folder_notice()  # a read-only user folder: the app runs, saves nothing
        self.home_notice = QLabel(f"\u26a0 {notice}" if notice else "")
        self.home_notice.setWordWrap(True)
        self.home_notice.setVisible(bool(notice))
        self.statusBar().addWidget(self.home_notice, 1)
        self.status_labels = {
            k: QLabel(f"{k.capitalize()}: loading…") for k in ("detector", "model", "device")
        }
        for label in self.status_labels.values():
            self.statusBar().addPermanentWidget(label)

    # -------------------------------------------------------------------------------- actions
    def _open_video(self) -> None:
        self.tabs.setCurrentWidget(self.live_tab)
        self.live_tab.open_video_dialog()

    def _open_photos(self) -> None:
        self.tabs.setCurrentWidget(self.photo_tab)
        self.photo_tab.open_dialog()

    def _choose_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Load an emotion model",
            str(user_data_dir()),
            "fer-desktop models (*.onnx *.pt);;All files (*)",
        )
        if path:
            self.use_model(path)

    def _fetch_detector(self) -> None:
        self.tabs.setCurrentWidget(self.live_tab)
        self.live_tab.fetch_detector()

    def _about(self) -> None:
        """The About box, opened window-modal (never a nested event loop)."""
        box = QMessageBox(
            QMessageBox.Icon.NoIcon,
            "About fer-desktop",
            ABOUT,
            QMessageBox.StandardButton.Ok,
            self,
        )
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.about_box = box
        box.open()

    def use_model(self, path: str) -> None:
        """Switch the Live and Photo tabs to the emotion model at `path` ("" = the shipped one)."""
        self.settings.model = str(path)
        self.statusBar().showMessage(
            f"Loading model {Path(path).name if path else '(default)'}…", 5000
        )
        self.apply_settings()

    def use_accurate(self, on: bool) -> None:
        """Photos and Videos run the teachers' ensemble (on) or the live model; Live never
        changes."""
        self.settings.accurate = on
        self.accurate_action.setChecked(on)
        self.statusBar().showMessage(
            "Accurate mode on: photos and videos use the 3-model ensemble."
            if self.settings.accurate
            else "Accurate mode off: photos and videos use the live model.",
            5000,
        )
        self.apply_settings()

    def use_detector(self, name: str) -> None:
        self.settings.detector = name
        self.apply_settings()

    def apply_settings(self) -> None:
        self._sync_menus()
        self.live_tab.apply_settings()
        self.photo_tab.apply_settings()

    def _sync_menus(self) -> None:
        """The Detector and Model menus tick what the settings name (what runs)."""
        for act in self.detector_actions.actions():
            act.setChecked(act.data() == self.settings.detector)
        self.accurate_action.setChecked(self.settings.accurate)

    def _on_models_loaded(self, models: LoadedModels) -> None:
        if models.key == models_key(self.settings):
            self._worked = _model_fields(self.settings)

    def _fall_back(self, err: UserError) -> tuple[Settings, UserError] | None:
        """ModelService.fallback: put the model settings back to the last ones that loaded, or
        to the defaults; None when they are what failed (then the tabs report the failure)."""
        failed = _model_fields(self.settings)
        for target in (self._worked, _model_fields(Settings())):
            if target is not None and target != failed:
                break
        else:
            return None
        for f, v in target.items():
            setattr(self.settings, f, v)
        self._sync_menus()
        retry = (
            "Detector ▸ Fetch YOLOv8 face detector… downloads its weights (about 6 MB)."
            if failed["detector"] != target["detector"] and failed["detector"] == "yolo"
            else "Model ▸ Load model… chooses another; Model ▸ Use default model "
            "is the shipped one."
        )
        told = UserError(
            err.message, f"The app went back to {_went_back_to(failed, target)}. {retry}"
        )
        return self.settings, told

    def _on_fell_back(self, err: UserError) -> None:
        show_error(self, err)
        self.statusBar().showMessage(err.hint, 15000)

    def _on_pipeline_changed(self, info: dict) -> None:
        for key, label in self.status_labels.items():
            label.setText(f"{key.capitalize()}: {info[key]}")

    # ------------------------------------------------------------------------- window state
    def _restore_window(self) -> None:
        qs = window_settings()
        geometry = qs.value("geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
            keep_on_screen(self)
        else:
            fit_to_screen(self, 1280, 800)
        state = qs.value("state")
        if isinstance(state, QByteArray):
            self.restoreState(state)
        try:
            self.tabs.setCurrentIndex(
                min(max(int(qs.value("tab", 0) or 0), 0), self.tabs.count() - 1)
            )
        except (TypeError, ValueError):
            pass

    def busy_texts(self) -> list[str]:
        """What closing the window now would stop (a recording, an analysis, a training)."""
        texts = []
        if self.live_tab.record.recording:
            texts.append("A recording runs: closing stops it and saves what was recorded.")
        if self.videos_tab.running or self.videos_tab.queue.running:
            texts.append(
                "Videos are being analysed: closing stops them; Analyse all on the same queue "
                "later finishes the rest."
            )
        busy = getattr(self.training_tab, "busy_text", None)
        if busy is not None and (text := busy()):
            texts.append(text)
        return texts

    def _ask_close(self, texts: list[str]) -> None:
        """Close only once the user says so (a window-modal question; never a nested loop)."""
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Close fer-desktop?",
            "\n".join(texts) + "\n\nClose anyway?",
            QMessageBox.StandardButton.Close | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def answered(button) -> None:
            if box.standardButton(button) == QMessageBox.StandardButton.Close:
                self._close_confirmed = True
                self.close()

        box.buttonClicked.connect(answered)
        self.close_question = box
        box.open()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if not getattr(self, "_placed", False):  # the frame's size is known once shown
            self._placed = True
            QTimer.singleShot(0, lambda: keep_on_screen(self))

    def closeEvent(self, event: QCloseEvent) -> None:
        texts = [] if getattr(self, "_close_confirmed", False) else self.busy_texts()
        if texts:
            event.ignore()  # asked first: the answer closes the window again
            self._ask_close(texts)
            return
        self.live_tab.shutdown()
        self.photo_tab.shutdown()
        self.videos_tab.shutdown()
        self.training_tab.shutdown()
        qs = window_settings()
        qs.setValue("geometry", self.saveGeometry())
        qs.setValue("state", self.saveState())
        qs.setValue("tab", self.tabs.currentIndex())
        qs.sync()
        try:
            self.settings.save()
        except OSError:
            log.exception("could not save the settings to %s", Settings.path())
        super().closeEvent(event)
