"""What the Live, Photos and Videos tabs share (issue 33: the three repeated one constructor):
the user's settings and one set of models, as one object the main window hands to each."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject

from fer_desktop.core.pipeline.shared_models import load_models
from fer_desktop.core.settings import Settings
from fer_desktop.workers.model_service import ModelService


@dataclass(frozen=True)
class TabContext:
    settings: Settings
    models: ModelService

    @classmethod
    def of(cls, owner: QObject, context: TabContext | None = None, settings: Settings | None = None,
           models: ModelService | None = None, loader: Callable = load_models) -> TabContext:  # fmt: skip
        """The context given, or one from the parts given (a tab built alone, as in a test,
        gets default settings and its own models)."""
        if context is not None:
            return context
        return cls(settings or Settings(), models or ModelService(owner, loader=loader))
