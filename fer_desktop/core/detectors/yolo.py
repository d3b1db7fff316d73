"""YOLOv8-face through ultralytics: the better detector, when its weights are on this machine.

Offline and safe by construction:
- importing this module sets `YOLO_OFFLINE=1`, `YOLO_AUTOINSTALL=0` and `ULTRALYTICS_SAFE_LOAD=1`
  (unless already set): no DNS probe, telemetry or pip auto-install, and checkpoints are read
  with `torch.load(weights_only=True)` against ultralytics' list of known model classes, so a
  `.pt` file cannot run code;
- ultralytics and torch are imported lazily, only when a YOLO detector is built;
- only local, existing `.pt` files reach `YOLO()` (for a missing path it would try a download);
- nothing draws with ultralytics (its plotting is what downloads fonts).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from pathlib import Path

import numpy as np

from fer_desktop.core.detectors.base import MIN_FACE, as_bgr, clip_box
from fer_desktop.core.support.errors import UserError
from fer_desktop.core.support.threads import keep_torch_threads
from fer_desktop.core.types import Detection

log = logging.getLogger(__name__)

os.environ.setdefault("YOLO_OFFLINE", "1")  # ultralytics.utils.ONLINE = False: no network probes
os.environ.setdefault("YOLO_AUTOINSTALL", "0")  # never pip-install missing requirements at run time
os.environ.setdefault("ULTRALYTICS_SAFE_LOAD", "1")  # weights_only checkpoint loading

# Chosen with `fer-desktop detect-eval` on ../shared/testdata/face-boxes (see README).
YOLO_CONF = 0.3


def _import_ultralytics():
    """Import ultralytics offline and without changing torch's thread count or the environment.

    Returns `(YOLO, DetectionModel, safe_load)`; `safe_load` says whether ultralytics already
    loads every checkpoint with weights_only (False if it was imported before this module, None
    if this ultralytics version cannot).
    """
    had_omp = "OMP_NUM_THREADS" in os.environ  # the app sets it at start-up (core.threads)
    # On a fresh home ultralytics prints a settings banner on stdout at import: to stderr with
    # it, so that a command's stdout (--json, --self-test) stays one JSON document.
    with keep_torch_threads(), contextlib.redirect_stdout(sys.stderr):
        from ultralytics import YOLO
        from ultralytics.nn.tasks import DetectionModel

    if not had_omp:
        os.environ.pop("OMP_NUM_THREADS", None)
    try:  # in case ultralytics was imported before YOLO_OFFLINE was set: no telemetry
        from ultralytics.utils.events import events

        events.enabled = False
    except (ImportError, AttributeError) as e:  # optional module in other ultralytics versions
        log.debug("ultralytics telemetry switch not found: %s", e)
    import ultralytics.utils

    return YOLO, DetectionModel, getattr(ultralytics.utils, "SAFE_LOAD", None)


def _ultralytics_device(name: str) -> str:
    """The app's device name ("auto", "cpu", "cuda", "cuda:1", "mps") as ultralytics spells it."""
    from fer_desktop.core.support.devices import pick_device

    dev = pick_device(str(name))  # UserError when the device is not available
    if dev.type == "cuda":
        return str(dev.index or 0)
    return dev.type


def _foreign_globals(path: Path) -> list[str]:
    """Globals the checkpoint's pickle names beyond torch's own, read without running it."""
    import torch

    scan = getattr(torch.serialization, "get_unsafe_globals_in_checkpoint", None)
    if scan is None:  # torch < 2.5: ultralytics' own loader decides
        return []
    try:
        return list(scan(str(path)))
    except Exception:  # noqa: BLE001 - not a torch zip archive: ultralytics reports it as damaged
        return []


def _not_a_model(path: Path, why: str = "") -> UserError:
    return UserError(
        f"{path} is not a YOLO face detector file{': ' + why if why else ''}.",
        "Choose a YOLOv8 face detection model saved by ultralytics (a .pt file), "
        "or use Fetch YOLOv8 face detector… to download one.",
    )


class YoloFaceDetector:
    """YOLOv8 fine-tuned for faces (ultralytics); boxes and scores, no landmarks.

    `weights`: a local `.pt` file (`make_detector` finds the hub's or the bundle's; see
    `weights.find_yolo_weights`); `label` names it in the UI. `conf`: minimum score;
    `min_face`: smallest face height reported, in frame pixels. A model with several classes
    reports only those whose name contains "face". Raises `UserError`.
    """

    kind = "yolo"

    def __init__(
        self,
        weights: str | Path,
        imgsz: int = 640,
        conf: float = YOLO_CONF,
        device: str = "cpu",
        min_face: int = MIN_FACE,
        label: str | None = None,
    ) -> None:
        self.imgsz = int(imgsz)
        self.conf = float(conf)
        self.min_face = int(min_face)
        self.device = _ultralytics_device(device)  # "auto" | "cpu" | "cuda[:i]" | "mps"
        path = Path(weights).expanduser()
        self.name = label or f"YOLOv8 face ({path.name})"
        # Absolute but not resolved: in a Hugging Face cache the snapshot's model.pt is a symlink
        # to a blob without the .pt suffix that ultralytics needs.
        self.weights = Path(os.path.abspath(path))
        self._model = self._load(self.weights)
        names = self.class_names
        self._classes = [i for i, n in names.items() if "face" in str(n).lower()]
        if not self._classes:
            shown = ", ".join(str(n) for n in list(names.values())[:4])
            more = ", …" if len(names) > 4 else ""
            raise _not_a_model(self.weights, f"its classes are {shown}{more}; none is a face")
        self._check_device()

    @staticmethod
    def _load(path: Path):
        # Only existing local files reach ultralytics: for a missing path it would try a download.
        if not path.exists():
            raise UserError(
                f"The YOLO model file {path} does not exist.",
                "Choose an existing .pt file, or use Fetch YOLOv8 face detector….",
            )
        if not path.is_file():
            raise _not_a_model(path, "it is a folder")
        if path.suffix.lower() != ".pt":
            raise _not_a_model(path, "expected a .pt file")
        if path.stat().st_size == 0:
            raise _not_a_model(path, "the file is empty")
        YOLO, DetectionModel, safe_load = _import_ultralytics()
        if safe_load is None:
            raise UserError(
                "This version of ultralytics cannot read model files without running their code.",
                "Update it (pip install -U ultralytics-opencv-headless), or use the YuNet detector.",
            )
        foreign = _foreign_globals(path)
        if any(g.startswith("models.") for g in foreign):
            raise _not_a_model(
                path,
                "it is a YOLOv5 model from the yolov5 repository, which ultralytics' YOLOv8 "
                "cannot load",
            )
        try:
            if not safe_load:  # ultralytics came in without ULTRALYTICS_SAFE_LOAD: vet it first
                from ultralytics.nn.tasks import torch_safe_load

                torch_safe_load(str(path), safe_only=True)
            model = YOLO(str(path))
        except MemoryError:
            raise
        except Exception as e:  # torch/pickle/ultralytics raise many types here
            text = str(e)
            if "outside the supported" in text or "Unsupported global" in text:
                why = "it holds types outside an ultralytics checkpoint (not loaded, for safety)"
            elif "TorchScript" in text:
                why = "it is a TorchScript export, not an ultralytics checkpoint"
            else:
                why = f"not a checkpoint saved by ultralytics, or damaged ({type(e).__name__})"
            raise _not_a_model(path, why) from e
        task = getattr(model, "task", None)
        if task not in (None, "detect"):
            raise _not_a_model(path, f"it is a YOLO {task} model, not a detector")
        if not isinstance(getattr(model, "model", None), DetectionModel):
            raise _not_a_model(path, "it holds no ultralytics detection network")
        return model

    def _check_device(self) -> None:
        from ultralytics.utils.torch_utils import select_device

        try:
            with keep_torch_threads():
                select_device(self.device, verbose=False)
        except Exception as e:
            raise UserError(
                f"The device '{self.device}' is not available for face detection.",
                "Choose CPU in the settings.",
            ) from e

    @property
    def class_names(self) -> dict[int, str]:
        return dict(self._model.names)

    def detect(self, frame_bgr: np.ndarray) -> list[Detection]:
        """Faces best score first (landmarks None: a detect model gives boxes only)."""
        frame = as_bgr(frame_bgr)
        if frame is None:
            return []
        h, w = frame.shape[:2]
        with keep_torch_threads():  # predict() sets torch threads to cpu_count - 1
            results = self._model.predict(
                frame,
                imgsz=self.imgsz,
                conf=self.conf,
                classes=self._classes if len(self.class_names) > 1 else None,
                verbose=False,
                device=self.device,
            )
        if not results or results[0].boxes is None:
            return []
        boxes = results[0].boxes
        xyxy = boxes.xyxy.cpu().numpy().reshape(-1, 4)
        scores = boxes.conf.cpu().numpy().reshape(-1)
        dets: list[Detection] = []
        for (x1, y1, x2, y2), s in zip(xyxy, scores, strict=True):
            box = clip_box(x1, y1, x2, y2, w, h)
            if box is not None and box[3] - box[1] >= self.min_face:
                dets.append(Detection(box, float(s)))
        dets.sort(key=lambda d: d.score, reverse=True)
        return dets
