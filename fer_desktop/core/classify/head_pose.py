"""Head pose (yaw, pitch, roll in degrees) from the face landmark model's 478 points.

cv2.solvePnP of MediaPipe's 33 weighted "procrustes" landmarks against its canonical face mesh
(`geometry_pipeline_metadata_landmarks.binarypb`, read here without protobuf), with a pinhole
camera of 63 degrees vertical field of view (MediaPipe's default), principal point at the frame
centre. The rotation is taken relative to the line of sight (camera -> head), so a face looking
into the lens reads about 0 wherever it is in the frame.

Angles come from R = Ry(yaw') Rx(pitch') Rz(roll') in OpenCV camera axes (x right, y down,
z into the scene), with signs chosen so that, in the image as given (not mirrored):
  yaw   > 0: the person turns to their own left (the nose moves toward the image's right);
  pitch > 0: the person looks up;
  roll  > 0: the head tilts counter-clockwise as seen in the image (the person's left eye, at
             the image's right, goes up); rotating the frame by +a degrees with
             cv2.getRotationMatrix2D adds about +a.
Mirroring the frame flips the sign of yaw and roll and leaves pitch unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import cv2
import numpy as np

CAMERA_VFOV_DEG = 63.0  # MediaPipe's default perspective camera


def _varint(b: bytes, i: int) -> tuple[int, int]:
    r = s = 0
    while True:
        c = b[i]
        i += 1
        r |= (c & 0x7F) << s
        s += 7
        if c < 0x80:
            return r, i


def _fields(b: bytes) -> Iterator[tuple[int, int, object]]:
    """Protobuf wire format, flat: (field number, wire type, value) per field."""
    i = 0
    while i < len(b):
        key, i = _varint(b, i)
        f, t = key >> 3, key & 7
        v: object
        if t == 0:
            v, i = _varint(b, i)
        elif t == 1:
            v, i = b[i : i + 8], i + 8
        elif t == 5:
            v, i = b[i : i + 4], i + 4
        elif t == 2:
            n, i = _varint(b, i)
            v, i = b[i : i + n], i + n
        else:
            raise ValueError(f"unsupported protobuf wire type {t}")
        yield f, t, v


def parse_geometry(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """GeometryPipelineMetadata: canonical_mesh = 1 (Mesh3d: vertex_buffer = 3, x y z u v per
    vertex), procrustes_landmark_basis = 2 (landmark_id = 1, weight = 2).
    Returns (the basis landmarks' ids, their canonical positions in OpenCV object axes, cm)."""
    vbuf = bytearray()
    ids: list[int] = []
    for f, t, v in _fields(data):
        if f == 1 and t == 2:
            vbuf += b"".join(vv for ff, _tt, vv in _fields(v) if ff == 3)  # type: ignore[arg-type,misc]
        elif f == 2 and t == 2:
            d = {ff: vv for ff, _tt, vv in _fields(v)}  # type: ignore[arg-type]
            ids.append(int(d.get(1, 0)))  # type: ignore[call-overload]
    verts = np.frombuffer(bytes(vbuf), "<f4").reshape(-1, 5)[:, :3].astype(np.float64)
    basis = np.array(ids, np.int64)
    if len(verts) < 468 or len(basis) < 6 or basis.max() >= len(verts):
        raise ValueError("not MediaPipe's face geometry")
    # mesh axes (y up, z toward the viewer) -> OpenCV object axes (y down, z away)
    return basis, verts[basis] * np.array([1.0, -1.0, -1.0])


def _rotation_z_to(v: np.ndarray) -> np.ndarray:
    """The rotation taking (0, 0, 1) to v/|v| without twist (about y, then about x), so that
    the image's x and y axes stay as aligned as they can."""
    v = v / np.linalg.norm(v)
    a = math.atan2(v[0], v[2])
    b = -math.asin(max(-1.0, min(1.0, v[1])))
    ca, sa, cb, sb = math.cos(a), math.sin(a), math.cos(b), math.sin(b)
    ry = np.array([[ca, 0, sa], [0, 1, 0], [-sa, 0, ca]])
    rx = np.array([[1, 0, 0], [0, cb, -sb], [0, sb, cb]])
    return ry @ rx


def head_pose(
    points: np.ndarray, frame_w: int, frame_h: int, basis: np.ndarray, canonical: np.ndarray
) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees from 478 landmarks in frame pixels (NaN when solvePnP
    finds no pose); `basis`, `canonical`: from `parse_geometry`."""
    f = (frame_h / 2.0) / math.tan(math.radians(CAMERA_VFOV_DEG) / 2.0)
    k = np.array([[f, 0, frame_w / 2.0], [0, f, frame_h / 2.0], [0, 0, 1]], np.float64)
    img = np.ascontiguousarray(points[basis, :2], np.float64)
    ok, rvec, tvec = cv2.solvePnP(canonical, img, k, None, flags=cv2.SOLVEPNP_SQPNP)
    if not ok:
        return math.nan, math.nan, math.nan
    ok, rvec, tvec = cv2.solvePnP(
        canonical, img, k, None, rvec, tvec, True, flags=cv2.SOLVEPNP_ITERATIVE
    )
    r, _ = cv2.Rodrigues(rvec)
    r = _rotation_z_to(tvec.reshape(3)).T @ r  # relative to the line of sight
    a = math.atan2(r[0, 2], r[2, 2])
    b = math.asin(max(-1.0, min(1.0, -r[1, 2])))
    c = math.atan2(r[1, 0], r[1, 1])
    return -math.degrees(a), -math.degrees(b), -math.degrees(c)
