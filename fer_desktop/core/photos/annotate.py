"""Photos: load an image safely, annotate it with the one overlay, save copies and a faces CSV.

Qt-free, shared by the Photos tab and the command line. Every problem a user's file can cause
(missing, corrupt, not an image, too large) becomes a `UserError` naming the file.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from fer_desktop.core.emotions import CLASSES
from fer_desktop.core.render.overlay import draw_faces
from fer_desktop.core.support.errors import UserError
from fer_desktop.core.support.fileio import (
    atomic_write_bytes,
    atomic_write_text,
    broken_link,
    unique_path,
)
from fer_desktop.core.support.image_files import IMAGE_EXTS, is_image_path  # noqa: F401 - used with the photo code
from fer_desktop.core.support.logs import log_path
from fer_desktop.core.types import FaceResult, FrameResult

MAX_PIXELS = 100_000_000  # 100 MP: beyond that decoding alone needs gigabytes
NO_FACE_TEXT = "No face found"
CSV_COLUMNS = ("image", "face", "x1", "y1", "x2", "y2", "label", "confidence", *CLASSES, "emoji")
DISPLAY_MAX_SIDE = 2048  # the GUI keeps a copy this size, not the full 20 MP image
_SAVE_EXTS = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}
_HINT = "Choose a JPEG, PNG, BMP, TIFF or WebP photo."


_ANNOTATED = re.compile(r"_annotated(-\d+)?$")


def is_annotated_copy(path: Path) -> bool:
    """`x_annotated.jpg` or `x_annotated-2.jpg`: a copy this program wrote (see annotated_name)."""
    return bool(_ANNOTATED.search(path.stem))


def collect_images(paths: Iterable[str | Path], recursive: bool = True) -> list[Path]:
    """Files as given (any extension: they get a clear error later) plus the images in folders."""
    out: list[Path] = []
    seen: set[Path] = set()
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(
                q
                for q in (p.rglob("*") if recursive else p.iterdir())
                if q.is_file()
                and is_image_path(q)
                and not q.name.startswith(".")
                and not is_annotated_copy(q)  # our own earlier outputs are not photos to redo
            )
        else:
            found = [p]
        for q in found:
            if q not in seen:
                seen.add(q)
                out.append(q)
    return out


def _header_size(data: np.ndarray) -> tuple[int, int] | None:
    """(width, height) from the file header without decoding pixels, when Pillow can tell."""
    try:
        from PIL import Image
    except ImportError:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter(
                "ignore", Image.DecompressionBombWarning
            )  # we check the size below
            with Image.open(io.BytesIO(data.tobytes())) as im:
                return im.size
    except Image.DecompressionBombError as exc:  # Pillow's own limit (~179 MP): too large anyway
        m = re.search(r"\((\d+) pixels\)", str(exc))
        return (int(m.group(1)) if m else 2**31, 1)
    except Exception:  # noqa: BLE001 - Pillow knows fewer formats than OpenCV; decode decides
        return None


def load_image(path: str | Path, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """A photo as a BGR uint8 array (EXIF orientation applied); UserError when it cannot be used."""
    path = Path(path)
    why = broken_link(path)
    if why:
        raise UserError(f"{path.name} {why} ({path}).", "Choose the image file itself.")
    if not path.exists():
        raise UserError(
            f"{path.name}: file not found ({path}).", "Check the name or choose another file."
        )
    if path.is_dir():
        raise UserError(f"{path.name} is a folder, not an image.", "Open the images in it instead.")
    try:
        data = np.fromfile(str(path), dtype=np.uint8)  # works with non-ASCII paths, unlike imread
    except OSError as exc:
        raise UserError(
            f"{path.name} could not be read ({exc.strerror or exc}).",
            "Check that the file is readable and not in use.",
        ) from exc
    if data.size == 0:
        raise UserError(f"{path.name} is empty (0 bytes).", _HINT)
    size = _header_size(data)
    if size and size[0] * size[1] > max_pixels:
        raise _too_large(path, *size, max_pixels)
    try:
        img = cv2.imdecode(data, cv2.IMREAD_COLOR)
    except cv2.error as exc:  # OpenCV refuses images past its own pixel limit
        raise UserError(
            f"{path.name} could not be decoded ({str(exc).strip().splitlines()[-1]}).", _HINT
        ) from exc
    if img is None or img.size == 0:
        raise UserError(
            f"{path.name} is not a readable image: it may be damaged, truncated or not a "
            f"picture at all.",
            _HINT,
        )
    h, w = img.shape[:2]
    if h * w > max_pixels:
        raise _too_large(path, w, h, max_pixels)
    return img


def _too_large(path: Path, w: int, h: int, max_pixels: int) -> UserError:
    dims = f"{w}x{h} = " if h > 1 else ""
    return UserError(
        f"{path.name} is too large: {dims}{w * h / 1e6:.0f} MP (limit {max_pixels / 1e6:.0f} MP).",
        "Resize it (e.g. to 20 MP) and open the smaller copy.",
    )


def draw_banner(img: np.ndarray, text: str) -> np.ndarray:
    """A dark bar with white text across the top of `img`, in place (e.g. "No face found")."""
    h, w = img.shape[:2]
    scale = max(0.5, min(h, w) / 600)
    thick = max(1, round(scale * 2))
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
    pad = max(4, th // 2)
    bar_h = min(h, th + base + 2 * pad)
    bar_w = min(w, tw + 2 * pad)
    roi = img[:bar_h, :bar_w]
    roi[...] = (roi.astype(np.uint16) * 3 // 10).astype(np.uint8)
    cv2.putText(
        img,
        text,
        (pad, pad + th),
        cv2.FONT_HERSHEY_SIMPLEX,
        scale,
        (255, 255, 255),
        thick,
        cv2.LINE_AA,
    )
    return img


def render_annotated(
    img: np.ndarray, faces: Sequence[FaceResult], selected_track: int | None = None
) -> np.ndarray:
    """A copy of `img` with the live view's overlay, or a "No face found" banner."""
    out = img.copy()
    if faces:
        draw_faces(out, list(faces), selected_track=selected_track)
    else:
        draw_banner(out, NO_FACE_TEXT)
    return out


def annotate_frame(pipeline, img: np.ndarray) -> tuple[FrameResult, np.ndarray]:
    """Run the pipeline on one photo (no tracking between photos) and draw the result."""
    result = pipeline.process(img, track=False)
    return result, render_annotated(img, result.faces)


def annotate_image(pipeline, path: str | Path) -> tuple[FrameResult, np.ndarray]:
    """Load `path`, find and classify its faces, return the result and an annotated copy."""
    return annotate_frame(pipeline, load_image(path))


def fit_within(img: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """`img` shrunk so its longest side is at most `max_side` (for display), and the scale used."""
    h, w = img.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    if scale >= 1.0:
        return img, 1.0
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(img, size, interpolation=cv2.INTER_AREA), scale


def scale_faces(faces: Sequence[FaceResult], scale: float) -> list[FaceResult]:
    """Faces with boxes multiplied by `scale` (to draw them on a resized copy)."""
    if scale == 1.0:
        return list(faces)
    return [replace(f, box=tuple(round(v * scale) for v in f.box)) for f in faces]


def annotated_name(src_path: str | Path, ext: str | None = None) -> str:
    src = Path(src_path)
    ext = (ext or src.suffix).lower()
    if ext not in _SAVE_EXTS:
        ext = ".png"
    return f"{src.stem}_annotated{ext}"


def save_annotated(img: np.ndarray, src_path: str | Path, out_dir: str | Path) -> Path:
    """Write `img` as `<out_dir>/<name>_annotated.<ext>` atomically; never overwrites a file."""
    src = Path(src_path)
    out_dir = Path(out_dir)
    target = unique_path(out_dir / annotated_name(src))
    if (
        target.resolve() == src.resolve()
    ):  # cannot happen with the suffix, but never risk the original
        target = unique_path(target)
    params = [cv2.IMWRITE_JPEG_QUALITY, 95] if target.suffix in (".jpg", ".jpeg") else []
    ok, buf = cv2.imencode(target.suffix, img, params)
    if not ok:
        raise UserError(f"Could not encode {target.name}.", "Try saving as PNG.")
    try:
        return atomic_write_bytes(target, buf.tobytes())
    except OSError as exc:
        raise UserError(
            f"Could not write {target} ({exc.strerror or exc}).",
            "Choose a folder you can write to and check the free disk space.",
        ) from exc


def faces_csv_rows(image: str | Path, result: FrameResult | Sequence[FaceResult]) -> list[dict]:
    """One CSV row (a dict keyed by CSV_COLUMNS) per face of one image; faces numbered from 1."""
    faces = result.faces if isinstance(result, FrameResult) else result
    name = Path(image).name
    rows = []
    for i, f in enumerate(faces):
        x1, y1, x2, y2 = (int(v) for v in f.box)
        row = {
            "image": name,
            "face": i + 1,
            "x1": x1,
            "y1": y1,
            "x2": x2,
            "y2": y2,
            "label": f.label,
            "confidence": round(float(f.confidence), 4),
        }
        row.update({c: round(float(f.probabilities.get(c, 0.0)), 4) for c in CLASSES})
        row["emoji"] = f.emoji
        rows.append(row)
    return rows


def write_faces_csv(rows: Iterable[dict], path: str | Path, overwrite: bool = False) -> Path:
    """Write rows as CSV (UTF-8, header CSV_COLUMNS) atomically; a free name unless `overwrite`."""
    path = Path(path)
    if not overwrite:
        path = unique_path(path)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    try:
        return atomic_write_text(path, buf.getvalue())
    except OSError as exc:
        raise UserError(
            f"Could not write {path} ({exc.strerror or exc}).",
            "Choose a folder you can write to and check the free disk space.",
        ) from exc


def save_batch(
    items: Iterable[tuple[Path, FrameResult]], out_dir: str | Path
) -> tuple[list[Path], list[str]]:
    """Full-resolution annotated copies of already processed photos plus one faces.csv.

    Each photo is re-read from disk (nothing is re-detected); a file that fails is reported in
    the returned problems and the others are still saved. Returns (files written, problems).
    """
    out_dir = Path(out_dir)
    written: list[Path] = []
    problems: list[str] = []
    rows: list[dict] = []
    for path, result in items:
        try:
            img = load_image(path)
            written.append(save_annotated(render_annotated(img, result.faces), path, out_dir))
            rows += faces_csv_rows(path, result)
        except UserError as exc:
            problems.append(str(exc))
    if written:
        written.append(write_faces_csv(rows, out_dir / "faces.csv"))
    return written, problems


@dataclass
class ProcessedPhoto:
    """One photo's faces (original pixels) and a display-sized copy with the faces scaled to it."""

    result: FrameResult
    display: np.ndarray
    display_faces: list[FaceResult]


def process_photo(pipeline, path: Path, max_side: int = DISPLAY_MAX_SIDE) -> ProcessedPhoto:
    """Load, detect and classify one photo; keep only a display-sized copy of the pixels."""
    img = load_image(path)
    result = pipeline.process(img, track=False)
    result.frame = None
    display, scale = fit_within(img, max_side)
    return ProcessedPhoto(result, display, scale_faces(result.faces, scale))


def process_photos(
    pipeline, paths: Sequence[Path]
) -> Iterator[tuple[Path, ProcessedPhoto | UserError]]:
    """Each photo's outcome in turn; a file that fails yields its UserError and the rest go on.

    A generator, so a background worker can stop it between two photos.
    """
    for path in paths:
        try:
            out: ProcessedPhoto | UserError = process_photo(pipeline, path)
        except UserError as exc:
            out = exc
        except Exception as exc:  # noqa: BLE001 - one bad file must not stop the batch
            out = UserError(
                f"{path.name} could not be processed ({type(exc).__name__}: {exc}).",
                f"Try another file; if it repeats, report it with the log file {log_path()}.",
            )
            out.__cause__ = exc  # the log shows the original traceback
        yield path, out
