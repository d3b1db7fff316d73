"""Photos: annotate an image with the one overlay, save copies and the photos' faces.csv.

Qt-free, shared by the Photos tab and the command line (reading the files is `io.py`). Every
problem a user's file can cause (missing, corrupt, not an image, too large) becomes a `UserError`
naming the file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from fer_desktop.core.classify.action_names import ACTION_COLUMNS, action_cells
from fer_desktop.core.emotions import CLASSES
from fer_desktop.core.geometry import int_box
from fer_desktop.core.photos.io import (
    fit_within,
    load_image,
)
from fer_desktop.core.render.overlay import draw_banner, draw_faces
from fer_desktop.core.support.errors import UserError
from fer_desktop.core.support.fileio import (
    atomic_write_bytes,
    atomic_write_text,
    unique_path,
)
from fer_desktop.core.support.image_files import SAVE_EXTS
from fer_desktop.core.support.logs import log_path
from fer_desktop.core.types import FaceResult, FrameResult

NO_FACE_TEXT = "No face found"
PHOTO_CSV_COLUMNS = (
    "image",
    "face",
    "x1",
    "y1",
    "x2",
    "y2",
    "label",
    "confidence",
    *CLASSES,
    "emoji",
    "detector_score",  # how sure the face detector was of this face (0-1)
    "threshold",  # below it the label is "uncertain" (the threshold these photos were shown with)
    "folder",  # the photo's folder (two photos of one name in two folders stay apart)
    *ACTION_COLUMNS,  # what the face does (issue 31); empty when facial actions were off
)
DISPLAY_MAX_SIDE = 2048  # the GUI keeps a copy this size, not the full 20 MP image


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


def scale_faces(faces: Sequence[FaceResult], scale: float) -> list[FaceResult]:
    """Faces with boxes multiplied by `scale` (to draw them on a resized copy)."""
    if scale == 1.0:
        return list(faces)
    return [replace(f, box=int_box([round(v * scale) for v in f.box])) for f in faces]


def annotated_name(src_path: str | Path, ext: str | None = None) -> str:
    src = Path(src_path)
    ext = (ext or src.suffix).lower()
    if ext not in SAVE_EXTS:
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
        raise _write_error(target, exc) from exc


def _write_error(path: Path, exc: OSError) -> UserError:
    return UserError(
        f"Could not write {path} ({exc.strerror or exc}).",
        "Choose a folder you can write to and check the free disk space.",
    )


def faces_csv_rows(
    image: str | Path,
    result: FrameResult | Sequence[FaceResult],
    threshold: float | None = None,
) -> list[dict]:
    """One CSV row (a dict keyed by PHOTO_CSV_COLUMNS) per face of one image; faces numbered
    from 1. `threshold`: the one the labels were decided with ("" when unknown)."""
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
        row["detector_score"] = round(float(f.detector_score), 4)
        row["threshold"] = "" if threshold is None else round(float(threshold), 4)
        row["folder"] = str(Path(image).parent)
        row.update(zip(ACTION_COLUMNS, action_cells(f.actions)))
        rows.append(row)
    return rows


def write_faces_csv(rows: Iterable[dict], path: str | Path, overwrite: bool = False) -> Path:
    """Write rows as CSV (UTF-8, header PHOTO_CSV_COLUMNS) atomically; a free name unless `overwrite`."""
    path = Path(path)
    if not overwrite:
        path = unique_path(path)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=PHOTO_CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    try:
        return atomic_write_text(path, buf.getvalue())
    except OSError as exc:
        raise _write_error(path, exc) from exc


def save_batch(
    items: Iterable[tuple[Path, FrameResult]], out_dir: str | Path, threshold: float | None = None
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
            rows += faces_csv_rows(path, result, threshold)
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
