"""The main window: assembles the tabs (Live, Photos, Videos, Training), menus and status bar."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import cast

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QTabWidget,
    QWidget,
)

from fer_desktop.core import choices
from fer_desktop.core.classify import facial_actions
from fer_desktop.core.classify.ensemble import NO_ACCURATE_MODE, accurate_available
from fer_desktop.core.pipeline.shared_models import load_models
from fer_desktop.core.settings import Settings
from fer_desktop.core.support.errors import UserError
from fer_desktop.core.support.resources import (
    FULL_BUILD_HINT,
    torch_available,
    user_data_dir,
    user_folder_notice,
)
from fer_desktop.ui.about_texts import ABOUT, FACIAL_ACTIONS_TIP, KEYS_HTML, files_html
from fer_desktop.ui.errors import show_error
from fer_desktop.ui.live.tab import LiveTab
from fer_desktop.ui.model_fallback import DETECTOR_TEXT, ModelFallback
from fer_desktop.ui.photos.tab import PhotoTab
from fer_desktop.ui.sessions.session_view import open_session_dialog
from fer_desktop.ui.sessions.study_window import open_study_dialog
from fer_desktop.ui.sessions.videos_tab import VideosTab
from fer_desktop.ui.tab_context import TabContext
from fer_desktop.ui.training_page import TrainingPage, training_page
from fer_desktop.ui.widgets import keep_on_screen
from fer_desktop.ui.window_lifecycle import (
    ask_close,
    load_settings,
    restore_window,
    window_settings,
)
from fer_desktop.workers import gui_gc
from fer_desktop.workers.model_service import ModelService

log = logging.getLogger(__name__)


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
        self.models.fell_back.connect(self._on_fell_back)
        context = TabContext(settings, self.models)  # what the three tabs share, one object
        self.live_tab = LiveTab(context=context, preload=preload)
        self.photo_tab = PhotoTab(context=context)
        self.videos_tab = VideosTab(context=context)
        page = training_tab or training_page()
        self.training_tab = cast(TrainingPage, page)  # a QWidget that is also a TrainingPage
        self.tabs = QTabWidget()
        self.tabs.addTab(self.live_tab, "Live")
        self.tabs.addTab(self.photo_tab, "Photos")
        self.tabs.addTab(self.videos_tab, "Videos")
        self.tabs.addTab(page, "Training")
        self.setCentralWidget(self.tabs)
        self._save_failed = False
        self._save_timer = QTimer(self, singleShot=True, interval=1000)
        self._save_timer.timeout.connect(self.save_settings)
        self._build_menus()
        self.fallback = ModelFallback(self, self.models, settings, self._sync_menus)
        self._build_status_bar()
        self.live_tab.pipeline_changed.connect(self._on_pipeline_changed)
        self.live_tab.settings_changed.connect(self.apply_settings)
        for slider in (self.live_tab.panel.smoothing, self.live_tab.panel.threshold):
            slider.valueChanged.connect(lambda _v: self._save_timer.start())
        self.training_tab.model_chosen.connect(self.use_model)
        restore_window(self)
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
        self._action(m, "Open s&tudy…", lambda: open_study_dialog(self))
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
        shipped = accurate_available()
        self.accurate_action.setEnabled(shipped or self.settings.accurate)  # can be turned off
        self.accurate_action.setToolTip(
            "Photos and Videos run the shipped ensemble; Live always runs the live model."
            if shipped
            else NO_ACCURATE_MODE
        )
        self.actions_action = self._action(
            m, "&Facial actions (blendshapes, blinks, head pose)", self._toggle_facial_actions
        )
        self.actions_action.setCheckable(True)
        problem = facial_actions.runtime_problem()
        self.actions_action.setEnabled(problem is None)
        self.actions_action.setToolTip(problem or FACIAL_ACTIONS_TIP)
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
        self._action(
            m, "&Where your files are…", lambda: self._info("Where your files are", files_html())
        )
        self._action(m, "&Keyboard and mouse…", lambda: self._info("Keyboard and mouse", KEYS_HTML))
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
        self._info("About fer-desktop", ABOUT)

    def _info(self, title: str, html: str) -> None:
        """An information box (About, Help), opened window-modal (never a nested event loop)."""
        box = QMessageBox(QMessageBox.Icon.NoIcon, title, html, QMessageBox.StandardButton.Ok, self)
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
        self.accurate_action.setEnabled(accurate_available() or on)
        self.statusBar().showMessage(
            "Accurate mode on: photos and videos use the shipped ensemble."
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
        self._save_timer.start()  # saved a second after the last change, not only at quit

    def save_settings(self) -> bool:
        """Write settings.json now; a failure (full or read-only disk) is said once, in the
        status bar and a dialog, not only logged at quit (issue 32). False when not saved."""
        if user_folder_notice():
            return False  # the status bar says so already
        try:
            self.settings.save()
        except OSError as exc:
            log.exception("could not save the settings to %s", Settings.path())
            if not self._save_failed:
                self._save_failed = True
                show_error(self, UserError(
                    f"Your settings could not be saved ({exc.strerror or exc}).",
                    f"Free some space on the disk of {Settings.path().parent}; they are kept "
                    "while the app runs and saved again at the next change.",
                ))  # fmt: skip
            return False
        self._save_failed = False
        return True

    def _sync_menus(self) -> None:
        """The Detector and Model menus tick what the settings name (what runs)."""
        for act in self.detector_actions.actions():
            act.setChecked(act.data() == self.settings.detector)
        self.accurate_action.setChecked(self.settings.accurate)
        self.accurate_action.setEnabled(accurate_available() or self.settings.accurate)
        self.actions_action.setChecked(self.settings.facial_actions)

    def _toggle_facial_actions(self) -> None:
        self.settings.facial_actions = self.actions_action.isChecked()
        on = self.settings.facial_actions
        self.statusBar().showMessage(f"Facial actions {'on' if on else 'off'}.", 8000)
        self.apply_settings()

    def _on_fell_back(self, err: UserError) -> None:
        show_error(self, err)
        self.statusBar().showMessage(err.hint, 15000)

    def _on_pipeline_changed(self, info: dict) -> None:
        for key, label in self.status_labels.items():
            label.setText(f"{key.capitalize()}: {info[key]}")

    # ------------------------------------------------------------------------- window state
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

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not getattr(self, "_placed", False):  # the frame's size is known once shown
            self._placed = True
            QTimer.singleShot(0, lambda: keep_on_screen(self))

    def closeEvent(self, event: QCloseEvent) -> None:
        texts = [] if getattr(self, "_close_confirmed", False) else self.busy_texts()
        if texts:
            event.ignore()  # asked first: the answer closes the window again
            ask_close(self, texts)
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
        self._save_timer.stop()
        self.save_settings()
        super().closeEvent(event)
