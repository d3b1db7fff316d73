"""The one model loader of the app: loads detector + classifier in the background, shares them.

Both the Live and the Photos tab ask this object for models; a second request for the same
settings while a load runs (or after it finished) loads nothing again.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from fer_desktop.core.pipeline.shared_models import LoadedModels, load_models, models_key
from fer_desktop.core.support.errors import UserError
from fer_desktop.workers.tasks import LatestTask


class ModelService(QObject):
    """`request(settings)` loads the models those settings name, unless they are loaded/loading;
    `when_ready(settings, callback, owner=...)` runs the callback with them, now or once loaded.

    Signals: `loading()` when a load starts, `loaded(LoadedModels)`, `failed(UserError)`,
    `fell_back(UserError)` when a failed load was replaced by one of settings that worked.

    `fallback`: set by the main window, called with the error of a failed load; it may put the
    shared settings back to models that load (the last ones that did, or the defaults) and return
    those settings (and the message saying so), or None. Then nothing fails: every wait moves to
    the fallback's models, and `fell_back` tells the user once, instead of every tab failing.
    """

    loading = Signal()
    loaded = Signal(object)
    failed = Signal(object)
    fell_back = Signal(object)

    def __init__(self, parent: QObject | None = None, *, loader: Callable = load_models) -> None:
        super().__init__(parent)
        self._loader = loader
        self.models: LoadedModels | None = None
        self.loading_key: tuple | None = None
        self.loads = 0  # how many loads were started (the app must not load twice)
        self.fallback: Callable[[UserError], tuple[object, UserError] | None] | None = None
        self._waiting: dict[object, tuple[tuple, Callable[[LoadedModels], None]]] = {}
        self._task = LatestTask("Loading the face detector and emotion model", self)
        self._task.finished.connect(self._on_loaded)
        self._task.failed.connect(self._on_failed)

    def current(self, settings) -> LoadedModels | None:
        """The loaded models if they match `settings`, else None."""
        m = self.models
        return m if m is not None and m.key == models_key(settings) else None

    def request(self, settings) -> LoadedModels | None:
        """The matching models at once, or None and a load in the background (one at a time)."""
        if (m := self.current(settings)) is not None:
            return m
        key = models_key(settings)
        if key != self.loading_key:
            self.loading_key = key
            self.loads += 1
            self._task.run(self._loader, _snapshot(settings))  # a copy: later edits don't race
            self.loading.emit()
        return None

    def when_ready(
        self, settings, callback: Callable[[LoadedModels], None], *, owner: object
    ) -> bool:
        """Call `callback(models)` with the models `settings` name: at once when they are loaded
        (returns True), else when their load ends (returns False). One wait per owner: a newer
        call replaces the owner's older one; a failed load drops every wait after `failed` (which says why)."""
        if (m := self.current(settings)) is not None:
            self._waiting.pop(owner, None)
            callback(m)
            return True
        self._waiting[owner] = (models_key(settings), callback)
        self.request(settings)
        return False

    def waiting(self, owner: object) -> bool:
        """`owner` is waiting for models (a `when_ready` callback has not run yet)."""
        return owner in self._waiting

    def cancel_wait(self, owner: object) -> None:
        self._waiting.pop(owner, None)

    @property
    def busy(self) -> bool:
        return self._task.busy

    def shutdown(self, timeout: float = 15.0) -> bool:
        """Forget a running load and wait for its thread (it may be inside torch)."""
        self._task.cancel()
        self.loading_key = None
        self._waiting.clear()
        return self._task.wait(timeout)

    def _on_loaded(self, models: LoadedModels) -> None:
        self.models, self.loading_key = models, None
        self.loaded.emit(models)
        for owner, (key, callback) in list(self._waiting.items()):
            if key == models.key and self._waiting.get(owner, (None,))[0] == key:
                del self._waiting[owner]
                callback(models)

    def _on_failed(self, err: UserError) -> None:
        self.loading_key = None
        back = self.fallback(err) if self.fallback is not None else None
        if back is not None:
            settings, told = back
            waits = list(self._waiting.items())
            self._waiting.clear()
            self.fell_back.emit(told)
            for owner, (_key, callback) in waits:  # they wait for what runs now
                self.when_ready(settings, callback, owner=owner)
            if not waits:
                self.request(settings)
            return
        self.failed.emit(err)  # a handler can still ask waiting(owner): was it waiting?
        self._waiting.clear()


def _snapshot(settings):
    from dataclasses import replace

    return replace(settings)
