"""Detector -> crops -> classifier (one batch per frame) -> tracker/smoothing -> FaceResults."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np

from fer_desktop.core.classify.classifier import EmotionClassifier
from fer_desktop.core.classify.crops import CropSpec
from fer_desktop.core.detectors import FaceDetector
from fer_desktop.core.emotions import UNCERTAIN, emoji_for
from fer_desktop.core.geometry import int_box
from fer_desktop.core.pipeline.regions import detect_near, drop_duplicates
from fer_desktop.core.pipeline.tracking import FaceTracker, LabelRule, TrackConfirmer
from fer_desktop.core.types import FaceResult, FrameResult


class Pipeline:
    """One frame in, one result per face out. Keeps tracks between calls of `process`.

    `detect_every` N > 1: the whole frame is searched for faces every N frames; in between each
    tracked face is detected again only in a small region around its last box (`regions.py`),
    and the whole frame at once when one of them is not found there (a face lost, or a box that
    was a false detection). New faces appear within N frames. N = 1 searches every frame
    (the reference path: `--detect-every 1`). Only a detector whose cost falls with its input
    (`regions = True`: YuNet) tracks by regions; YOLO letterboxes every input to `imgsz`, so a
    region would cost as much as the frame: it searches every frame.
    """

    def __init__(
        self,
        detector: FaceDetector,
        classifier: EmotionClassifier,
        *,
        smoothing: float = 0.9,
        threshold: float = 0.5,
        detect_every: int = 1,
        actions: Any = None,
    ) -> None:
        self.detector = detector
        self.classifier = classifier
        self.actions = actions  # a FacialActions, measured per face after classification; None: off
        self.detect_every = max(1, detect_every)
        # a face may vanish for up to 2 s (turned away, occluded) and keep its id
        self.tracker = FaceTracker(smoothing=smoothing, max_missed_s=2.0)
        self.confirmer = TrackConfirmer()
        self.labels = LabelRule(threshold=threshold)
        self._last_boxes: list = []
        self._count = 0
        self.full_detections = 0  # frames searched whole (the rest: regions only); never reset

    @property
    def smoothing(self) -> float:
        return self.tracker.smoothing

    @smoothing.setter
    def smoothing(self, value: float) -> None:
        self.tracker.smoothing = value

    @property
    def threshold(self) -> float:
        return self.labels.threshold

    @threshold.setter
    def threshold(self, value: float) -> None:
        self.labels.threshold = float(value)

    def reset(self) -> None:
        self.tracker.reset()
        self.confirmer.reset()
        self.labels.reset()
        self._last_boxes = []
        self._count = 0

    def _face(
        self, track_id: int, box, probs: np.ndarray, score: float, shown: int | None | str = "now"
    ) -> FaceResult:
        """One face; `shown` is the class index the label rule chose (None: uncertain), or
        "now" to decide from these probabilities alone (photos)."""
        classes = self.classifier.classes
        if shown == "now":
            shown = self.labels.proposal(probs)
        i = int(np.argmax(probs)) if shown is None else int(shown)
        conf = float(probs[i])
        label = classes[i] if shown is not None else UNCERTAIN
        return FaceResult(
            box=int_box(box),
            probabilities={c: float(p) for c, p in zip(classes, probs)},
            label=label,
            confidence=conf,
            emoji=emoji_for(label),
            track_id=track_id,
            detector_score=score,
        )

    def find(self, frame: np.ndarray, track: bool = True) -> tuple[list, float]:
        """The faces of one frame and the milliseconds it took: regions around the known faces
        between whole-frame searches (see the class). The first half of `process`; a video
        analysis runs it on its own thread for the next frame while this one is classified
        (it touches only the detector and the boxes of the frame before, which it keeps)."""
        t0 = time.perf_counter()
        dets = None
        regions = getattr(self.detector, "regions", False)  # cheap in a small region (YuNet)
        every = self.detect_every if regions else 1
        if track and every > 1 and self._count % every and self._last_boxes:
            near = [detect_near(self.detector, frame, b) for b in self._last_boxes]
            if all(d is not None for d in near):
                dets = drop_duplicates([d for d in near if d is not None])
        if dets is None:  # the frame's turn, or a face was not where it was: search it whole
            dets = self.detector.detect(frame)
            self.full_detections += 1
            self._count = 0
        self._count += 1
        # the boxes the tracker will return for this frame: the same, rounded, in this order
        self._last_boxes = [int_box(d.box) for d in dets] if track else []
        return dets, (time.perf_counter() - t0) * 1000

    def process(
        self,
        frame: np.ndarray,
        frame_index: int = 0,
        captured_at: float | None = None,
        track: bool = True,
        t: float | None = None,
        found: tuple[list, float] | None = None,
    ) -> FrameResult:
        """Run every stage on one BGR frame. `track=False` treats it as an unrelated photo; `t`
        is the frame's time in seconds for the tracker's smoothing (default: the
        tracker's clock; a video analysis passes the video's own time). `found`: what
        `find(frame, track)` returned for this frame, already (the detection is not repeated)."""
        t0 = time.perf_counter()
        captured_at = t0 if captured_at is None else captured_at
        dets, detect_ms = found if found is not None else self.find(frame, track)
        return self._finish(frame, dets, detect_ms, frame_index, captured_at, track, t)

    def _finish(self, frame, dets, detect_ms, frame_index, captured_at, track, t) -> FrameResult:
        """Classify, track and label the faces `find` gave (the second half of `process`)."""
        boxes = [d.box for d in dets]
        scores = [d.score for d in dets]  # in the order of boxes, as the tracker returns them
        probs, ms = self.classifier.classify(frame, boxes, landmarks=[d.landmarks for d in dets])
        t2 = time.perf_counter()
        if track:
            now = self.tracker.clock() if t is None else float(t)
            tracked = self.tracker.update(boxes, probs, now)
            alive = set(self.tracker.track_ids)
            self.confirmer.forget_except(alive)
            self.labels.forget_except(alive)
            faces = []
            for i, (tid, b, p) in enumerate(tracked):
                public = self.confirmer.public_id(tid, now)
                if public is not None:  # unconfirmed detections are not reported
                    faces.append(
                        self._face(public, b, p, scores[i], self.labels.decide(tid, p, now))
                    )
        else:
            # Numbered from 1, as live tracks are: "Face 1" is the same name everywhere.
            tracked = [(i, b, p) for i, (b, p) in enumerate(zip(boxes, probs), start=1)]
            faces = [self._face(tid, b, p, scores[i]) for i, (tid, b, p) in enumerate(tracked)]
        t3 = time.perf_counter()
        stage = {"detect": detect_ms, **ms, "track": (t3 - t2) * 1000}
        if self.actions is not None:
            for f in faces:
                f.actions = self.actions.measure(frame, f.box)
            t4 = time.perf_counter()
            stage["actions"], t3 = (t4 - t3) * 1000, t4
        return FrameResult(
            frame_index, faces, stage, captured_at=captured_at, finished_at=t3, frame=frame
        )


def crop_for(detector, margin: float | None = None) -> CropSpec:
    """The crop calibrated for this detector's boxes (`detector.crop`), with the user's margin on
    top when they set one (settings `crop_margin`; None = calibrated)."""
    spec = getattr(detector, "crop", None) or CropSpec()
    return spec if margin is None else dataclasses.replace(spec, margin=float(margin))


def build_pipeline(
    settings=None,
    *,
    detector: FaceDetector | None = None,
    classifier: EmotionClassifier | None = None,
    accurate: bool | None = None,
) -> Pipeline:
    """A pipeline from the user's settings (detector, model, device, smoothing, threshold).
    `accurate` (default: `settings.accurate`): the teachers' ensemble instead of the model."""
    from fer_desktop.core.detectors import make_detector
    from fer_desktop.core.settings import Settings

    s = settings or Settings()
    det = detector or make_detector(
        s.detector, weights=s.detector_weights or None, device=s.device, imgsz=s.yolo_imgsz,
        engine=s.detector_engine,
    )  # fmt: skip
    options: dict[str, Any] = dict(
        device=s.device,
        precision=s.precision,
        tta=s.tta,
        crop=crop_for(det, s.crop_margin),
        backend=s.backend,
    )
    if classifier is None and (s.accurate if accurate is None else accurate):
        from fer_desktop.core.classify.ensemble import EnsembleClassifier, accurate_models

        classifier = EnsembleClassifier(accurate_models(), **options)  # type: ignore[assignment]
    clf = classifier or EmotionClassifier(s.model or None, **options)
    return Pipeline(
        det, clf, smoothing=s.smoothing, threshold=s.threshold, detect_every=s.detect_every,
        actions=facial_actions_for(s),
    )  # fmt: skip


def facial_actions_for(settings) -> Any:
    """A FacialActions when `settings.facial_actions` is on and its runtime is installed, else
    None (the runtime's absence changes nothing else: `facial_actions.runtime_problem()`)."""
    from fer_desktop.core.classify import facial_actions

    on = getattr(settings, "facial_actions", False) and facial_actions.available()
    return facial_actions.FacialActions() if on else None
