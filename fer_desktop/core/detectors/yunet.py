"""YuNet (OpenCV Zoo, MIT): the offline default face detector, run by ONNX Runtime
(`yunet_onnx.py`, twice as fast) or, where it is missing, by OpenCV's `cv2.FaceDetectorYN`.

A 230 KB ONNX network shipped in `resources/detectors/`; it needs nothing beyond OpenCV (no torch)
and gives 5 landmarks per face (eyes, nose tip, mouth corners), which the crop uses to level the
eyes. The frame is shrunk so its longest side is at most `max_side` before detection, and boxes
and landmarks are mapped back to the full frame.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from fer_desktop.core.classify.crops import CropSpec
from fer_desktop.core.detectors.base import MIN_FACE, as_bgr, clip_box
from fer_desktop.core.detectors.yunet_onnx import YuNetOnnx
from fer_desktop.core.support.errors import UserError
from fer_desktop.core.support.resources import resource_path
from fer_desktop.core.types import Detection

YUNET_FILE = "face_detection_yunet.onnx"
# Chosen by measurement with `fer-desktop detect-eval` on ../shared/testdata/face-boxes (see README).
YUNET_MAX_SIDE = 640
REGION_NETS = 4  # region input sizes kept planned at once (a few faces of different sizes)
YUNET_SCORE = 0.58


def _reinstall_hint(path: Path, custom: bool) -> str:
    if custom:
        return f"Choose a YuNet face detector .onnx file (OpenCV Zoo), or remove {path.name}."
    return "Reinstall fer-desktop; the detector file that ships with it is missing or damaged."


class YuNetFaceDetector:
    """OpenCV's YuNet face detector with 5 landmarks per face.

    `model`: a YuNet .onnx file (default: the shipped one). `max_side`: longest side of the
    image the network sees (smaller is faster and misses more small faces). `score`: minimum
    face score in [0, 1]. `min_face`: smallest face height reported, in frame pixels. `nms`: IoU
    above which overlapping boxes are merged. `engine`: "onnxruntime", "opencv" or "auto" (ONNX
    Runtime where it is installed: the same faces, half the time). Raises UserError when the
    file is missing or is not a working YuNet model.
    """

    kind = "yunet"
    regions = True  # its cost falls with the input's size: region tracking pays (pipeline.py)
    # FER2013's framing relative to YuNet's box, measured on all 3,589 PublicTest faces with
    # `python -m fer_training.calibrate_crop ../shared/datasets/fer2013.zip --limit 4000 --model
    # resources/models/fer_net.pt`: the box is the frame (side 48.25 px of 48, margin -0.005), and the
    # frame's centre lies 2.2% of the box height below the box's. Whole path on those faces: 67.2%
    # with this crop, 66.3% with the earlier 5% margin; levelling the eyes gave 66.6% (no gain: off).
    crop = CropSpec(margin=0.0, shift_y=0.022, align=False)

    def __init__(
        self,
        model: str | Path | None = None,
        max_side: int = YUNET_MAX_SIDE,
        score: float = YUNET_SCORE,
        min_face: int = MIN_FACE,
        nms: float = 0.3,
        top_k: int = 5000,
        engine: str = "auto",
    ) -> None:
        if max_side < 32:
            raise ValueError("max_side must be at least 32")
        self.max_side = int(max_side)
        self.score = float(score)
        self.min_face = int(min_face)
        custom = model is not None
        self.model_path = (
            Path(model).expanduser()
            if model is not None
            else resource_path("detectors", YUNET_FILE)
        )
        self.name = "YuNet (offline)" if not custom else f"YuNet ({self.model_path.name})"
        if engine == "auto":
            engine = "onnxruntime" if importlib.util.find_spec("onnxruntime") else "opencv"
        if engine not in ("onnxruntime", "opencv"):
            raise ValueError(f"engine must be auto, onnxruntime or opencv, not {engine!r}")
        self.engine = engine
        # Each network remembers the input size it was planned for (id(net) -> size).
        self._sizes: dict[int, tuple[int, int]] = {}
        self._net = self._load(self.model_path, custom, nms, top_k)
        self._nms, self._top_k = float(nms), int(top_k)
        # networks for regions (pipeline region tracking), one per input size, least used first
        self._region_nets: dict[tuple[int, ...], Any] = {}

    def _load(self, path: Path, custom: bool, nms: float, top_k: int):
        if not path.is_file():
            what = "does not exist" if custom and not path.exists() else "is missing"
            raise UserError(f"The face detector file {path} {what}.", _reinstall_hint(path, custom))
        if path.suffix.lower() != ".onnx":
            raise UserError(
                f"{path} is not a YuNet face detector file: expected a .onnx file.",
                _reinstall_hint(path, custom),
            )
        try:
            # Read the bytes ourselves: OpenCV's own file reading fails on non-ASCII paths on Windows.
            net = self._create(path.read_bytes(), nms, top_k)
            # A file that parses as ONNX but is another network fails only when run: run it once.
            net.detect(np.zeros((64, 64, 3), np.uint8))
        except OSError as e:
            raise UserError(
                f"Cannot read the face detector file {path}: {e.strerror or e}.",
                _reinstall_hint(path, custom),
            ) from e
        except Exception as e:  # cv2.error, ONNX Runtime's errors, not YuNet's outputs alike
            raise UserError(
                f"The face detector file {path} is not a working YuNet model (damaged or another "
                "kind of network).",
                _reinstall_hint(path, custom),
            ) from e
        self._sizes[id(net)] = (64, 64)
        return net

    def _create(self, data: bytes, nms: float, top_k: int):
        if self.engine == "onnxruntime":
            return YuNetOnnx(data, self.score, nms, top_k)
        buf = np.frombuffer(data, np.uint8)
        return cv2.FaceDetectorYN.create(
            "onnx", buf, np.empty(0, np.uint8), (64, 64), self.score, float(nms), int(top_k)
        )

    def detect_region(self, region_bgr: np.ndarray) -> list[Detection]:
        """`detect` for the small square regions of region tracking, on networks of their own,
        one per input size: OpenCV re-plans a network whose input size changes, which costs more
        than the region's detection itself (13.7 ms a frame alternating 1280x720 and 160x160 on
        one network, against 11.6 + 1.4 ms on two; a face near the half-scale threshold flips
        its region between 160 and 256 px: 3.7 ms a re-planned call against 2.3, issue 29)."""
        if self.engine == "onnxruntime":  # one session runs every input size unplanned
            return self._detect_on(self._net, region_bgr)
        side = region_bgr.shape[:2]
        net = self._region_nets.pop(side, None)
        if net is None:
            net = self._create(self.model_path.read_bytes(), self._nms, self._top_k)
            if len(self._region_nets) >= REGION_NETS:  # the least recently used goes
                self._region_nets.pop(next(iter(self._region_nets)))
        self._region_nets[side] = net  # most recently used last
        return self._detect_on(net, region_bgr)

    def detect(self, frame_bgr: np.ndarray) -> list[Detection]:
        """Faces best score first; each with its 5 landmarks as a float32 (5, 2) array."""
        return self._detect_on(self._net, frame_bgr)

    def _detect_on(self, net, frame_bgr: np.ndarray) -> list[Detection]:
        frame = as_bgr(frame_bgr)
        if frame is None:
            return []
        h, w = frame.shape[:2]
        scale = min(1.0, self.max_side / max(h, w))
        if scale < 1.0:
            size = (max(1, round(w * scale)), max(1, round(h * scale)))
            frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
        size = (frame.shape[1], frame.shape[0])
        if size != self._sizes.get(id(net)):
            net.setInputSize(size)
            self._sizes[id(net)] = size
        _, faces = net.detect(frame)
        if faces is None:
            return []
        # Map back with the exact per-axis factors (the resized size is rounded).
        sx, sy = w / size[0], h / size[1]
        dets: list[Detection] = []
        for f in faces:
            x, y, bw, bh = (float(v) for v in f[:4])
            box = clip_box(x * sx, y * sy, (x + bw) * sx, (y + bh) * sy, w, h)
            if box is None or box[3] - box[1] < self.min_face:
                continue
            marks = f[4:14].reshape(5, 2).astype(np.float32) * np.array((sx, sy), np.float32)
            dets.append(Detection(box, float(f[14]), marks))
        dets.sort(key=lambda d: d.score, reverse=True)
        return dets
