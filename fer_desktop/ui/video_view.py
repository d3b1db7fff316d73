"""A widget that paints the newest BGR frame with the face overlay, aspect ratio kept.

The overlay is `core.overlay.draw_faces` on a copy of the frame (the one drawing code path for
live view, photos and saved images). Mirroring flips the frame and the boxes before drawing, so
labels stay readable. Clicking a face selects its track (`face_clicked`).
"""

from __future__ import annotations

import collections
import time
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from fer_desktop.core.render.overlay import draw_banner, draw_faces
from fer_desktop.core.types import FaceResult

BACKGROUND = QColor(24, 24, 28)


def mirror_faces(faces: Sequence[FaceResult], width: int) -> list[FaceResult]:
    """Boxes flipped left-right in a frame `width` pixels wide."""
    return [replace(f, box=(width - f.box[2], f.box[1], width - f.box[0], f.box[3])) for f in faces]


def bgr_to_qimage(img: np.ndarray) -> QImage:
    """A QImage over `img`'s buffer (no copy); the caller keeps `img` alive while it is used."""
    if not img.flags.c_contiguous:
        img = np.ascontiguousarray(img)
    h, w = img.shape[:2]
    return QImage(img.data, w, h, img.strides[0], QImage.Format.Format_BGR888)


def fit_rect(img_w: int, img_h: int, area_w: float, area_h: float) -> QRectF:
    """The largest rectangle of the image's aspect ratio centred in the area."""
    if img_w <= 0 or img_h <= 0 or area_w <= 0 or area_h <= 0:
        return QRectF()
    s = min(area_w / img_w, area_h / img_h)
    w, h = img_w * s, img_h * s
    return QRectF((area_w - w) / 2, (area_h - h) / 2, w, h)


class VideoView(QWidget):
    """Shows one frame (live or a photo) with boxes, labels and emoji; newest frame wins."""

    face_clicked = Signal(int)  # track id of the clicked face, -1 for none

    def __init__(self, parent: QWidget | None = None, *, placeholder: str = "No video") -> None:
        super().__init__(parent)
        self.placeholder = placeholder
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 180)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self._mirror = False
        self.selected_track: int | None = None
        self._frame: np.ndarray | None = None
        self._faces: list[FaceResult] = []
        self._note: str | None = None
        self._shown: list[FaceResult] = []  # faces in displayed (possibly mirrored) coordinates
        self._img: np.ndarray | None = None  # the composed image the QImage points into
        self._qimage: QImage | None = None
        self._serial = 0
        self._painted_serial = 0
        self._paint_times: collections.deque = collections.deque(maxlen=60)

    # ------------------------------------------------------------------------------- content
    @property
    def mirror(self) -> bool:
        return self._mirror

    def set_mirror(self, on: bool) -> None:
        self._mirror = bool(on)
        self._compose()

    def set_frame(
        self, frame: np.ndarray | None, faces: Sequence[FaceResult] = (), note: str | None = None
    ) -> None:
        """Show `frame` (BGR, not modified) with `faces` drawn on it and an optional banner."""
        self._frame = frame
        self._faces = list(faces)
        self._note = note
        self._compose()

    def set_faces(self, faces: Sequence[FaceResult]) -> None:
        self._faces = list(faces)
        self._compose()

    def set_selected(self, track_id: int | None) -> None:
        self.selected_track = track_id
        self._compose()

    def clear(self, placeholder: str | None = None) -> None:
        if placeholder is not None:
            self.placeholder = placeholder
        self.set_frame(None)

    @property
    def frame(self) -> np.ndarray | None:
        return self._frame

    @property
    def displayed_image(self) -> np.ndarray | None:
        """The composed BGR image being painted (mirrored, with overlay)."""
        return self._img

    @property
    def display_fps(self) -> float:
        """New frames actually painted per second over the last ~2 s."""
        t = self._paint_times
        now = time.perf_counter()
        while t and now - t[0] > 2.0:
            t.popleft()
        return (len(t) - 1) / (t[-1] - t[0]) if len(t) > 1 and t[-1] > t[0] else 0.0

    def _compose(self) -> None:
        frame = self._frame
        if frame is None:
            self._img = self._qimage = None
            self._shown = []
        else:
            if frame.ndim == 2:
                frame = np.repeat(frame[:, :, None], 3, axis=2)
            # Both branches make the one copy the overlay is drawn on; the source frame is untouched.
            img = np.ascontiguousarray(frame[:, ::-1]) if self._mirror else frame.copy()
            faces = mirror_faces(self._faces, img.shape[1]) if self._mirror else self._faces
            if faces:
                draw_faces(img, faces, selected_track=self.selected_track)
            if self._note:
                draw_banner(img, self._note)
            self._img, self._shown = img, faces
            self._qimage = bgr_to_qimage(img)
        self._serial += 1
        self.update()

    # ------------------------------------------------------------------------------ painting
    def image_rect(self) -> QRectF:
        if self._img is None:
            return QRectF()
        return fit_rect(self._img.shape[1], self._img.shape[0], self.width(), self.height())

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), BACKGROUND)
        if self._qimage is None:
            p.setPen(QColor(170, 170, 180))
            p.drawText(
                self.rect(),
                Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                self.placeholder,
            )
        else:
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            p.drawImage(self.image_rect(), self._qimage)
            if self._painted_serial != self._serial:
                self._painted_serial = self._serial
                self._paint_times.append(time.perf_counter())
        p.end()

    # ------------------------------------------------------------------------------ clicking
    def widget_to_image(self, pos: QPointF) -> tuple[float, float] | None:
        r = self.image_rect()
        if self._img is None or r.isEmpty() or not r.contains(pos):
            return None
        s = self._img.shape[1] / r.width()
        return (pos.x() - r.x()) * s, (pos.y() - r.y()) * s

    def face_at(self, x: float, y: float) -> FaceResult | None:
        """The smallest displayed face whose box contains image point (x, y)."""
        hits = [f for f in self._shown if f.box[0] <= x <= f.box[2] and f.box[1] <= y <= f.box[3]]
        return min(hits, key=lambda f: f.area) if hits else None

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return super().mousePressEvent(event)
        pt = self.widget_to_image(event.position())
        face = self.face_at(*pt) if pt is not None else None
        track = face.track_id if face is not None else -1
        self.set_selected(track if face is not None else None)
        self.face_clicked.emit(track)
