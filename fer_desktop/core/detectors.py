"""Face detectors: an offline OpenCV Haar cascade and a better YOLOv8 face model.

Both follow `FaceDetector`: `detect(frame_bgr)` returns `[((x1, y1, x2, y2), score), ...]` in the
input frame's pixel coordinates. No Qt here.

Offline guarantees for the YOLO path:
- importing this module sets `YOLO_OFFLINE=1` and `YOLO_AUTOINSTALL=0` (unless already set), so
  ultralytics' `ONLINE` check is False (no DNS probe, no telemetry events, no pip auto-install);
- ultralytics is imported lazily, and only local, existing `.pt` files are passed to `YOLO()` (a
  missing path would make ultralytics try a GitHub download);
- the weights come from the Hugging Face cache (`local_files_only=True`) unless the caller asks
  for a download (`fetch_yolo_weights()`, `YoloFaceDetector(download=True)`);
- nothing draws with ultralytics (its plotting is what downloads fonts).
"""

from __future__ import annotations

import errno
import logging
import os
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from fer_desktop.core.errors import UserError
from fer_desktop.core.resources import resource_path

log = logging.getLogger(__name__)

os.environ.setdefault("YOLO_OFFLINE", "1")  # ultralytics.utils.ONLINE = False: no network probes
os.environ.setdefault("YOLO_AUTOINSTALL", "0")  # never pip-install missing requirements at run time

Box = tuple[int, int, int, int]
Detection = tuple[Box, float]

YOLO_REPO_ID = "arnabdhar/YOLOv8-Face-Detection"
YOLO_FILENAME = "model.pt"
BUNDLED_YOLO_NAME = "yolov8-face.pt"  # optional: resources/detectors/yolov8-face.pt in a bundle

HAAR_FRONTAL = "haarcascade_frontalface_alt2.xml"
HAAR_PROFILE = "haarcascade_profileface.xml"


@runtime_checkable
class FaceDetector(Protocol):
    """Finds faces in a BGR frame."""

    name: str  # human readable, shown in the UI

    def detect(self, frame_bgr: np.ndarray) -> list[Detection]:
        """`[((x1, y1, x2, y2), score), ...]` in `frame_bgr` pixel coordinates."""
        ...


# --------------------------------------------------------------------------------------------
# Box helpers
# --------------------------------------------------------------------------------------------


def _clip_box(x1: float, y1: float, x2: float, y2: float, w: int, h: int) -> Box | None:
    bx1 = int(min(max(x1, 0), w) + 0.5)  # coordinates are >= 0
    by1 = int(min(max(y1, 0), h) + 0.5)  # coordinates are >= 0
    bx2 = int(min(max(x2, 0), w) + 0.5)  # coordinates are >= 0
    by2 = int(min(max(y2, 0), h) + 0.5)  # coordinates are >= 0
    if bx2 - bx1 < 2 or by2 - by1 < 2:
        return None
    return bx1, by1, bx2, by2


def nms(
    detections: list[Detection], iou_threshold: float = 0.3, containment: float = 0.7
) -> list[Detection]:
    """Greedy non-maximum suppression, best score first.

    A box is dropped when its IoU with a kept box exceeds `iou_threshold`, or when more than
    `containment` of the smaller box lies inside the other (Haar cascades often nest boxes).
    """
    kept: list[Detection] = []
    for box, score in sorted(detections, key=lambda d: d[1], reverse=True):
        x1, y1, x2, y2 = box
        area = max(0, x2 - x1) * max(0, y2 - y1)
        ok = True
        for (kx1, ky1, kx2, ky2), _ in kept:
            iw = min(x2, kx2) - max(x1, kx1)
            ih = min(y2, ky2) - max(y1, ky1)
            if iw <= 0 or ih <= 0:
                continue
            inter = iw * ih
            karea = (kx2 - kx1) * (ky2 - ky1)
            union = area + karea - inter
            if inter / union > iou_threshold or inter / max(1, min(area, karea)) > containment:
                ok = False
                break
        if ok:
            kept.append((box, score))
    return kept


# --------------------------------------------------------------------------------------------
# Haar cascade (offline, ships with opencv-python)
# --------------------------------------------------------------------------------------------


def _cascade_file(filename: str) -> Path:
    """The cascade from our resources folder (PyInstaller bundle), else from opencv-python."""
    import cv2

    candidates = [resource_path("detectors", filename)]
    data = getattr(getattr(cv2, "data", None), "haarcascades", None)
    if data:
        candidates.append(Path(data) / filename)
    for path in candidates:
        if path.is_file():
            return path
    raise UserError(
        f"The face detector file {filename} is missing.",
        "Reinstall fer-desktop (or opencv-python>=4.8,<5), which ships it.",
    )


def _load_cascade(path: Path):
    """Load a cascade from its text, so a non-ASCII install path works on Windows too."""
    import cv2

    if not hasattr(cv2, "CascadeClassifier"):
        raise UserError(
            "This OpenCV build has no Haar cascade face detector.",
            "Install opencv-python>=4.8,<5 (5.x wheels drop CascadeClassifier).",
        )
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
        storage = cv2.FileStorage(text, cv2.FILE_STORAGE_READ | cv2.FILE_STORAGE_MEMORY)
        cascade = cv2.CascadeClassifier()
        ok = cascade.read(storage.getFirstTopLevelNode())
    except (OSError, cv2.error) as e:
        raise UserError(
            f"Cannot read the face detector file {path}: {e}.",
            "Reinstall fer-desktop; the file may be damaged.",
        ) from e
    if not ok or cascade.empty():
        raise UserError(
            f"The face detector file {path} is not a valid OpenCV cascade.",
            "Reinstall fer-desktop; the file may be damaged.",
        )
    return cascade


class HaarFaceDetector:
    """OpenCV's frontal face Haar cascade (alt2) on a downscaled, equalised grayscale frame.

    `max_side`: the frame is shrunk so its longest side is at most this (320 keeps a 720p frame
    under ~10 ms); boxes are mapped back to full resolution. `min_face`: smallest face as a
    fraction of the frame's shorter side (never below the cascade's 20 px window at the working
    size). `profile=True` adds the profile cascade (both directions), which is slower and gives
    more false positives. `score` is `n / (n + min_neighbors)` where `n` is the number of raw
    cascade hits merged into the box: a ranking, not a probability.
    """

    name = "OpenCV Haar cascade (offline)"

    def __init__(
        self,
        max_side: int = 320,
        scale_factor: float = 1.15,
        min_neighbors: int = 4,
        min_face: float = 0.06,
        profile: bool = False,
        equalize: bool = True,
        nms_iou: float = 0.3,
    ) -> None:
        if max_side < 64:
            raise ValueError("max_side must be at least 64")
        if scale_factor <= 1.0:
            raise ValueError("scale_factor must be > 1")
        self.max_side = int(max_side)
        self.scale_factor = float(scale_factor)
        self.min_neighbors = int(min_neighbors)
        self.min_face = float(min_face)
        self.profile = bool(profile)
        self.equalize = bool(equalize)
        self.nms_iou = float(nms_iou)
        self.cascade_path = _cascade_file(HAAR_FRONTAL)
        self._frontal = _load_cascade(self.cascade_path)
        self._profile = _load_cascade(_cascade_file(HAAR_PROFILE)) if profile else None

    def _gray(self, frame_bgr: np.ndarray) -> tuple[np.ndarray, float]:
        import cv2

        if frame_bgr is None or frame_bgr.ndim not in (2, 3) or frame_bgr.size == 0:
            raise ValueError("detect() needs a non-empty BGR (or grayscale) image")
        h, w = frame_bgr.shape[:2]
        scale = min(1.0, self.max_side / max(h, w))
        if frame_bgr.ndim == 2:
            gray = frame_bgr
        elif frame_bgr.shape[2] == 4:
            gray = cv2.cvtColor(frame_bgr, cv2.COLOR_BGRA2GRAY)
        else:
            gray = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2GRAY)
        if scale < 1.0:
            size = (max(1, round(w * scale)), max(1, round(h * scale)))
            gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
        if gray.dtype != np.uint8:
            gray = cv2.normalize(gray, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
        if self.equalize:
            gray = cv2.equalizeHist(gray)
        return gray, scale

    def _run(self, cascade, gray: np.ndarray, min_size: int, flipped: bool) -> list[tuple]:
        rects, counts = cascade.detectMultiScale2(
            gray,
            scaleFactor=self.scale_factor,
            minNeighbors=self.min_neighbors,
            minSize=(min_size, min_size),
        )
        gw = gray.shape[1]
        out = []
        for (x, y, w, h), n in zip(
            np.asarray(rects).reshape(-1, 4), np.asarray(counts).reshape(-1), strict=True
        ):
            if flipped:
                x = gw - x - w
            out.append((x, y, x + w, y + h, int(n)))
        return out

    def detect(self, frame_bgr: np.ndarray) -> list[Detection]:
        h, w = frame_bgr.shape[:2]
        gray, scale = self._gray(frame_bgr)
        min_size = max(20, int(self.min_face * min(gray.shape[:2]) + 0.5))
        if min_size > min(gray.shape[:2]):
            return []
        raw = self._run(self._frontal, gray, min_size, flipped=False)
        if self._profile is not None:
            import cv2

            raw += self._run(self._profile, gray, min_size, flipped=False)
            raw += self._run(self._profile, cv2.flip(gray, 1), min_size, flipped=True)
        dets: list[Detection] = []
        for x1, y1, x2, y2, n in raw:
            box = _clip_box(x1 / scale, y1 / scale, x2 / scale, y2 / scale, w, h)
            if box is not None:
                dets.append((box, n / (n + max(1, self.min_neighbors))))
        return nms(dets, self.nms_iou)


# --------------------------------------------------------------------------------------------
# YOLOv8 face (better, needs weights from the Hugging Face Hub)
# --------------------------------------------------------------------------------------------


def _env_true(value: str | None) -> bool:
    return (value or "").strip().upper() in {"1", "ON", "YES", "TRUE", "Y", "T"}


def _hub_offline() -> bool:
    """HF_HUB_OFFLINE as set now (huggingface_hub reads it only once, at import)."""
    value = os.environ.get("HF_HUB_OFFLINE")
    if value is None:
        value = os.environ.get("TRANSFORMERS_OFFLINE")
    if value is not None:
        return _env_true(value)
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)


def _hub_cache_dir() -> str | None:
    """HF_HUB_CACHE as set now; None lets huggingface_hub use its default."""
    value = os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE")
    if value:
        return os.path.expandvars(os.path.expanduser(value))
    home = os.environ.get("HF_HOME")
    if home:
        return os.path.join(os.path.expandvars(os.path.expanduser(home)), "hub")
    return None


def _not_downloaded_error() -> UserError:
    return UserError(
        "YOLOv8 face weights are not downloaded.",
        "Until they are, the app uses the offline detector (OpenCV Haar cascade); "
        "connect to the internet and choose Fetch YOLOv8 face detector… to download them (about 6 MB).",
    )


def yolo_weights_cached() -> Path | None:
    """The YOLOv8 face weights from the Hugging Face cache, or None; never goes online."""
    from huggingface_hub import hf_hub_download

    try:
        path = hf_hub_download(
            repo_id=YOLO_REPO_ID,
            filename=YOLO_FILENAME,
            cache_dir=_hub_cache_dir(),
            local_files_only=True,
        )
    except (OSError, ValueError):  # LocalEntryNotFoundError is a FileNotFoundError
        return None
    p = Path(path)
    return p if p.is_file() else None


def bundled_yolo_weights() -> Path | None:
    """`resources/detectors/yolov8-face.pt` when a bundle ships it."""
    p = resource_path("detectors", BUNDLED_YOLO_NAME)
    return p if p.is_file() else None


def fetch_yolo_weights() -> Path:
    """Download the YOLOv8 face weights (or return the cached copy); for the Fetch button."""
    from huggingface_hub import hf_hub_download

    if _hub_offline():
        cached = yolo_weights_cached()
        if cached is not None:
            return cached
        raise UserError(
            "Cannot download the YOLOv8 face weights: Hugging Face offline mode is on.",
            "Unset the HF_HUB_OFFLINE environment variable, connect to the internet and choose "
            "Fetch YOLOv8 face detector… again. Meanwhile the app uses the offline detector.",
        )
    try:
        from huggingface_hub.errors import (
            EntryNotFoundError,
            LocalEntryNotFoundError,
            RepositoryNotFoundError,
            RevisionNotFoundError,
        )
    except ImportError:  # huggingface_hub < 0.24
        from huggingface_hub.utils import (
            EntryNotFoundError,
            LocalEntryNotFoundError,
            RepositoryNotFoundError,
            RevisionNotFoundError,
        )
    try:
        path = hf_hub_download(
            repo_id=YOLO_REPO_ID, filename=YOLO_FILENAME, cache_dir=_hub_cache_dir()
        )
    except LocalEntryNotFoundError as e:  # no connection / Hub down, and nothing cached
        raise _network_error(e) from e
    except (RepositoryNotFoundError, RevisionNotFoundError, EntryNotFoundError) as e:
        raise UserError(
            f"The Hugging Face repository {YOLO_REPO_ID} does not offer {YOLO_FILENAME} "
            f"({type(e).__name__}).",
            "Download a YOLOv8 face model (.pt) yourself and choose it as a local file. "
            "Meanwhile the app uses the offline detector.",
        ) from e
    except OSError as e:
        if e.errno in _DISK_ERRNOS:
            raise UserError(
                f"Cannot save the YOLOv8 face weights: {e.strerror or e}.",
                "Free some disk space or set HF_HUB_CACHE to a writable folder, then try again.",
            ) from e
        raise _network_error(e) from e
    except Exception as e:  # HTTP client errors vary between hub versions
        raise _network_error(e) from e
    return Path(path)


_DISK_ERRNOS = {
    getattr(errno, n) for n in ("ENOSPC", "EACCES", "EPERM", "EROFS", "EDQUOT") if hasattr(errno, n)
}


def _network_error(e: BaseException) -> UserError:
    return UserError(
        f"Could not download the YOLOv8 face weights from Hugging Face ({type(e).__name__}).",
        "Check the internet connection (and proxy settings), then choose Fetch YOLOv8 face "
        "detector… again. Meanwhile the app uses the offline detector.",
    )


def _import_ultralytics():
    """Import ultralytics offline and without changing torch's thread count or the environment."""
    import torch

    had_omp = "OMP_NUM_THREADS" in os.environ
    threads = torch.get_num_threads()  # initialises torch's pool before ultralytics sets OMP=1
    from ultralytics import YOLO
    from ultralytics.nn.tasks import DetectionModel

    if not had_omp:
        os.environ.pop("OMP_NUM_THREADS", None)
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    try:  # in case ultralytics was imported before YOLO_OFFLINE was set: no telemetry
        from ultralytics.utils.events import events

        events.enabled = False
    except (ImportError, AttributeError) as e:  # optional module in other ultralytics versions
        log.debug("ultralytics telemetry switch not found: %s", e)
    return YOLO, DetectionModel


def _ultralytics_device(name: str) -> str:
    """The app's device name ("auto", "cpu", "cuda", "cuda:1", "mps") as ultralytics spells it."""
    from fer_desktop.core.devices import pick_device

    dev = pick_device(str(name))  # UserError when the device is not available
    if dev.type == "cuda":
        return str(dev.index or 0)
    return dev.type


class YoloFaceDetector:
    """YOLOv8 fine-tuned for faces (ultralytics).

    `weights`: a local `.pt` file; None takes `arnabdhar/YOLOv8-Face-Detection/model.pt` from the
    Hugging Face cache, else `resources/detectors/yolov8-face.pt`; `download=True` allows a
    download when neither exists (and HF_HUB_OFFLINE is not set). Raises `UserError`.
    """

    def __init__(
        self,
        weights: str | Path | None = None,
        imgsz: int = 640,
        conf: float = 0.4,
        device: str = "cpu",
        download: bool = False,
    ) -> None:
        self.imgsz = int(imgsz)
        self.conf = float(conf)
        self.device = _ultralytics_device(device)  # "auto" | "cpu" | "cuda[:i]" | "mps"
        if weights is None:
            path = yolo_weights_cached() or bundled_yolo_weights()
            if path is None:
                if not download:
                    raise _not_downloaded_error()
                path = fetch_yolo_weights()
            self.name = f"YOLOv8 face ({YOLO_REPO_ID})"
        else:
            path = Path(weights).expanduser()
            self.name = f"YOLOv8 face ({path.name})"
        self.weights = Path(path).resolve()
        self._model = self._load(self.weights)
        self._check_device()

    @staticmethod
    def _not_a_model(path: Path, why: str = "") -> UserError:
        return UserError(
            f"{path} is not a YOLO model file{': ' + why if why else ''}.",
            "Choose a YOLOv8 face detection model saved by ultralytics (a .pt file), "
            "or use Fetch YOLOv8 face detector… to download one.",
        )

    def _load(self, path: Path):
        # Only existing local files reach ultralytics: for a missing path it would try a download.
        if not path.exists():
            raise UserError(
                f"The YOLO model file {path} does not exist.",
                "Choose an existing .pt file, or use Fetch YOLOv8 face detector….",
            )
        if not path.is_file():
            raise self._not_a_model(path, "it is a folder")
        if path.suffix.lower() != ".pt":
            raise self._not_a_model(path, "expected a .pt file")
        if path.stat().st_size == 0:
            raise self._not_a_model(path, "the file is empty")
        YOLO, DetectionModel = _import_ultralytics()
        try:
            model = YOLO(str(path), task="detect")
        except MemoryError:
            raise
        except Exception as e:  # torch/pickle/ultralytics raise many types here
            raise self._not_a_model(
                path, f"not a checkpoint saved by ultralytics, or damaged ({type(e).__name__})"
            ) from e
        if not isinstance(getattr(model, "model", None), DetectionModel):
            raise self._not_a_model(path, "it holds no ultralytics detection network")
        task = getattr(model.model, "task", None) or getattr(model, "task", "detect")
        if task not in (None, "detect"):
            raise self._not_a_model(path, f"it is a YOLO {task} model, not a detector")
        return model

    def _check_device(self) -> None:
        import torch
        from ultralytics.utils.torch_utils import select_device

        threads = torch.get_num_threads()
        try:
            select_device(self.device, verbose=False)
        except Exception as e:
            raise UserError(
                f"The device '{self.device}' is not available for face detection.",
                "Choose CPU in the settings.",
            ) from e
        finally:
            if torch.get_num_threads() != threads:
                torch.set_num_threads(threads)

    @property
    def class_names(self) -> dict[int, str]:
        return dict(self._model.names)

    def detect(self, frame_bgr: np.ndarray) -> list[Detection]:
        import torch

        if frame_bgr is None or frame_bgr.ndim != 3 or frame_bgr.size == 0:
            raise ValueError("detect() needs a non-empty BGR image")
        h, w = frame_bgr.shape[:2]
        threads = torch.get_num_threads()
        try:
            results = self._model.predict(
                frame_bgr, imgsz=self.imgsz, conf=self.conf, verbose=False, device=self.device
            )
        finally:
            # ultralytics' select_device() sets torch threads to cpu_count-1; keep the app's choice
            if torch.get_num_threads() != threads:
                torch.set_num_threads(threads)
        if not results or results[0].boxes is None:
            return []
        boxes = results[0].boxes
        xyxy = boxes.xyxy.cpu().numpy().reshape(-1, 4)
        scores = boxes.conf.cpu().numpy().reshape(-1)
        dets: list[Detection] = []
        for (x1, y1, x2, y2), s in zip(xyxy, scores, strict=True):
            box = _clip_box(x1, y1, x2, y2, w, h)
            if box is not None:
                dets.append((box, float(s)))
        dets.sort(key=lambda d: d[1], reverse=True)
        return dets


# --------------------------------------------------------------------------------------------
# Choice
# --------------------------------------------------------------------------------------------


def yolo_available() -> bool:
    """True when YOLO weights are usable without a download (cached or bundled)."""
    return yolo_weights_cached() is not None or bundled_yolo_weights() is not None


def make_detector(
    name: str = "auto", weights: str | Path | None = None, device: str = "cpu", imgsz: int = 640
) -> FaceDetector:
    """A detector by name: "haar", "yolo" or "auto".

    "auto" is YOLO when `weights` is given or the YOLO weights are cached or bundled, else Haar.
    "yolo" raises `UserError` when the weights are missing. A broken weights file raises
    `UserError` in both cases (the caller shows it and may fall back to `HaarFaceDetector()`).
    """
    key = (name or "auto").strip().lower()
    if key in {"haar", "opencv", "offline"}:
        return HaarFaceDetector()
    if key == "yolo":
        return YoloFaceDetector(weights=weights, device=device, imgsz=imgsz)
    if key == "auto":
        if weights is not None or yolo_available():
            return YoloFaceDetector(weights=weights, device=device, imgsz=imgsz)
        return HaarFaceDetector()
    raise UserError(f"Unknown face detector '{name}'.", 'Use "auto", "haar" or "yolo".')
