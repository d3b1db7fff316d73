"""YuNet run by ONNX Runtime: the same network, decoding and NMS as `cv2.FaceDetectorYN`, twice
as fast on a CPU.

OpenCV's DNN module runs YuNet at 2.3 ms on a 128 px region and 19 ms on a 640x360 frame (one
thread, a 2-core AVX2 EPYC); ONNX Runtime runs the same file at 0.9 and 9.2 ms (issue 29). This
class does what `FaceDetectorYN.detect` does around the network (OpenCV's
`objdetect/src/face_detect.cpp`), so the two give the same faces to float precision: the image
padded with black to a multiple of 32 on the right and bottom, fed as raw BGR levels (N, 3, H, W);
per stride 8, 16 and 32 and per cell, score = sqrt(cls * obj) (each clamped to [0, 1]), box centre
(c + dx, r + dy) * stride, size exp(dw, dh) * stride, landmarks (c + kx, r + ky) * stride; faces
under the score threshold dropped, then NMS on the boxes truncated to whole pixels.
"""

from __future__ import annotations

import cv2
import numpy as np

from fer_desktop.core.classify.onnx_backend import cpu_session

STRIDES = (8, 16, 32)
DIVISOR = 32


class YuNetOnnx:
    """A stand-in for `cv2.FaceDetectorYN` (the calls fer_desktop makes: `setInputSize`,
    `detect`) on ONNX Runtime. `data`: the model file's bytes. Raises what ONNX Runtime raises
    for a file that is not a network, and ValueError for a network without YuNet's outputs."""

    def __init__(self, data: bytes, score: float, nms: float, top_k: int) -> None:
        # One thread: a region of 96-192 px is faster on one thread than split over two (0.9 ms
        # against 1.2 at 128 px), and the other core decodes the video or classifies.
        self._session = cpu_session(data, threads=1)
        self._input = self._session.get_inputs()[0].name
        names = [o.name for o in self._session.get_outputs()]
        self._outputs = [f"{kind}_{s}" for kind in ("cls", "obj", "bbox", "kps") for s in STRIDES]
        if not set(self._outputs) <= set(names):
            raise ValueError("the network does not have YuNet's outputs (cls_8 ... kps_32)")
        self.score, self.nms, self.top_k = float(score), float(nms), int(top_k)

    def setInputSize(self, size: tuple[int, int]) -> None:  # noqa: N802 (cv2's name)
        """Nothing to do: the session takes any input size (each call reads the image's)."""

    def detect(self, image: np.ndarray) -> tuple[int, np.ndarray | None]:
        """(1, faces) as `FaceDetectorYN.detect`: faces (N, 15) float32 rows of x, y, w, h, five
        landmark (x, y) pairs and the score, or None when there are none."""
        h, w = image.shape[:2]
        pad_h = -(-h // DIVISOR) * DIVISOR
        pad_w = -(-w // DIVISOR) * DIVISOR
        blob = np.zeros((1, 3, pad_h, pad_w), np.float32)
        blob[0, :, :h, :w] = image.transpose(2, 0, 1)
        out = dict(zip(self._outputs, self._session.run(self._outputs, {self._input: blob})))
        faces = np.concatenate([self._decode(out, s, pad_w // s, pad_h // s) for s in STRIDES])
        if len(faces) == 0:
            return 1, None
        if len(faces) > 1:
            boxes = [[int(x), int(y), int(bw), int(bh)] for x, y, bw, bh in faces[:, :4]]
            keep = cv2.dnn.NMSBoxes(
                boxes, faces[:, 14].tolist(), self.score, self.nms, 1.0, self.top_k
            )
            faces = faces[np.asarray(keep, np.int64).reshape(-1)]
        return 1, faces if len(faces) else None

    def _decode(self, out: dict, stride: int, cols: int, rows: int) -> np.ndarray:
        # clamped to [0, 1] as OpenCV does (ufuncs: np.clip's wrapper costs 15 us a call)
        cls = np.minimum(np.maximum(out[f"cls_{stride}"].reshape(-1), 0.0), 1.0)
        obj = np.minimum(np.maximum(out[f"obj_{stride}"].reshape(-1), 0.0), 1.0)
        score = np.sqrt(cls * obj)
        idx = np.flatnonzero(score >= self.score)
        if idx.size == 0:
            return np.zeros((0, 15), np.float32)
        c = (idx % cols).astype(np.float32)
        r = (idx // cols).astype(np.float32)
        bbox = out[f"bbox_{stride}"].reshape(-1, 4)[idx]
        kps = out[f"kps_{stride}"].reshape(-1, 10)[idx]
        faces = np.empty((idx.size, 15), np.float32)
        cx = (c + bbox[:, 0]) * stride
        cy = (r + bbox[:, 1]) * stride
        bw = np.exp(bbox[:, 2]) * stride
        bh = np.exp(bbox[:, 3]) * stride
        faces[:, 0] = cx - bw / 2.0
        faces[:, 1] = cy - bh / 2.0
        faces[:, 2] = bw
        faces[:, 3] = bh
        faces[:, 4:14:2] = (kps[:, 0::2] + c[:, None]) * stride
        faces[:, 5:14:2] = (kps[:, 1::2] + r[:, None]) * stride
        faces[:, 14] = score[idx]
        return faces
