"""A model choice that cannot load is not kept (issue 32): the settings go back to the last
models that loaded, or to the defaults, and the user is told once what runs now.

`ModelFallback(window)` hooks into the window's `ModelService` (its `fallback`, `loaded`) and
keeps the shared settings object in step; the window's menus are re-ticked by `sync_menus`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject

from fer_desktop.core.pipeline.shared_models import MODEL_FIELDS, LoadedModels, models_key
from fer_desktop.core.settings import Settings
from fer_desktop.core.support.errors import UserError

# The Detector menu's texts (the main window builds the menu from them; "&" marks the shortcut).
DETECTOR_TEXT = {
    "auto": "&Auto (YOLOv8 if downloaded, else YuNet)",
    "yunet": "Offline Yu&Net",
    "yolo": "&YOLOv8 face",
}


def _model_fields(settings: Settings) -> dict:
    return {f: getattr(settings, f) for f in MODEL_FIELDS}


def went_back_to(failed: dict, target: dict) -> str:
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


class ModelFallback(QObject):
    """The window's `ModelService.fallback`: remembers the model settings of the last load that
    worked and, when a load fails, puts the shared `settings` back to them (or the defaults)."""

    def __init__(self, parent: QObject, models, settings: Settings, sync_menus: Callable) -> None:
        super().__init__(parent)
        self.settings, self._sync_menus = settings, sync_menus
        self._worked: dict | None = None  # the model settings of the last load that worked
        models.fallback = self.fall_back
        models.loaded.connect(self._on_loaded)

    def _on_loaded(self, models: LoadedModels) -> None:
        if models.key == models_key(self.settings):
            self._worked = _model_fields(self.settings)

    def fall_back(self, err: UserError) -> tuple[Settings, UserError] | None:
        """Put the model settings back to the last ones that loaded, or to the defaults, and
        return them with the message; None when they are what failed (the tabs report it)."""
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
            "Detector \u25b8 Fetch YOLOv8 face detector\u2026 downloads its weights (about 6 MB)."
            if failed["detector"] != target["detector"] and failed["detector"] == "yolo"
            else "Model \u25b8 Load model\u2026 chooses another; Model \u25b8 Use default model "
            "is the shipped one."
        )
        told = UserError(
            err.message, f"The app went back to {went_back_to(failed, target)}. {retry}"
        )
        return self.settings, told
