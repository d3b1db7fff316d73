"""One face detector and one emotion classifier, loaded once and shared by every tab.

The Live and Photos tabs each get their own `Pipeline` (own tracker state; photos use
`track=False`) over the same two models. YuNet and YOLO keep per-call state and are not safe to
call from two threads at once, so every pipeline built here takes the models' lock for a frame.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fer_desktop.core.classify.accuracy_names import accuracy_short
from fer_desktop.core.pipeline.pipeline import Pipeline

log = logging.getLogger(__name__)


# The settings the models are built from (smoothing and threshold are per pipeline): what a load
# depends on, and what a failed load puts back (ui/model_fallback.py).
MODEL_FIELDS = ("detector", "detector_weights", "detector_engine", "yolo_imgsz", "model", "device", "precision",
                "backend", "tta", "crop_margin", "accurate", "facial_actions")  # fmt: skip


def models_key(settings) -> tuple:
    """The values of MODEL_FIELDS: two settings with the same key share their models."""
    return tuple(getattr(settings, f) for f in MODEL_FIELDS)


class SharedPipeline(Pipeline):
    """A pipeline whose models other pipelines (other tabs, other threads) use too."""

    def __init__(
        self, *args: Any, models_lock: threading.Lock, classify_lock: threading.Lock, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self._models_lock = models_lock
        self._classify_lock = classify_lock

    # One frame at a time through the shared detector, one through the shared classifier (and
    # facial actions): a video analysis finds the faces of the next frame while this one is
    # classified, another tab waits for the model it needs, not for both.
    def find(self, *args: Any, **kwargs: Any):
        with self._models_lock:
            return super().find(*args, **kwargs)

    def _finish(self, *args: Any, **kwargs: Any):
        with self._classify_lock:
            return super()._finish(*args, **kwargs)


@dataclass(frozen=True)
class LoadedModels:
    """The detector and classifier built from `key`; `pipeline()` makes a tab's own pipeline."""

    detector: Any
    classifier: Any
    key: tuple
    accurate: Any = None  # the teachers' ensemble, loaded when settings.accurate is on
    actions: Any = None  # FacialActions when settings.facial_actions is on (and can run)
    lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)
    # the classifier's (and facial actions'): a frame's faces are classified while the
    # detector looks at the next frame
    classify_lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    def pick(self, accurate: bool) -> Any:
        """The classifier a tab runs: the ensemble where it is wanted and loaded, else the model."""
        return self.accurate if accurate and self.accurate is not None else self.classifier

    def pipeline(self, settings, *, accurate: bool = False) -> SharedPipeline:
        """A new pipeline (own tracker) over these models, tuned by `settings`; `accurate`
        (Photos, Videos; never Live): the ensemble when settings.accurate loaded it."""
        return SharedPipeline(
            self.detector,
            self.pick(accurate),
            smoothing=settings.smoothing,
            threshold=settings.threshold,
            detect_every=settings.detect_every,
            actions=self.actions,
            models_lock=self.lock,
            classify_lock=self.classify_lock,
        )

    def describe(self) -> dict:
        """What the status bar and the Live tab show: detector, model, device (precision)."""
        clf = self.classifier
        return {
            "detector": self.detector.name,
            "model": clf.name,
            # the side panel's narrow line: what the model is and how good, file in the tooltip
            "model_short": ", ".join(t for t in (clf.arch, accuracy_short(clf)) if t),
            "device": clf.runtime,  # e.g. "cpu (fp32, onnxruntime)": what really runs here
            "offline_detector": self.detector.kind != "yolo",
        }


def load_models(settings) -> LoadedModels:
    """Build the detector and classifier from `settings` and run each once (slow first call)."""
    from fer_desktop.core.pipeline.pipeline import build_pipeline

    built = build_pipeline(settings, accurate=False)
    ensemble = None
    if settings.accurate:
        ensemble = build_pipeline(settings, detector=built.detector, accurate=True).classifier
    models = LoadedModels(
        built.detector, built.classifier, models_key(settings), ensemble, built.actions
    )
    warm_up(models)
    return models


def warm_up(models: LoadedModels) -> None:
    """Run each model once on blank input, so the first real frame is not slow (lazy init, JIT)."""
    try:
        models.detector.detect(np.zeros((240, 320, 3), np.uint8))
        for clf in (models.classifier, models.accurate):
            if clf is not None:
                clf.predict_crops(np.zeros((1, clf.data_size, clf.data_size), np.uint8))
    except Exception:  # a model that cannot run fails visibly on the first frame
        log.warning("warm-up failed", exc_info=True)
