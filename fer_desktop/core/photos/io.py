"""Reading photos safely: which files are photos, their size from the header before decoding
(a decompression bomb is refused), decoding (Unicode paths too), and a display-size copy."""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np

from fer_desktop.core.support.errors import UserError
from fer_desktop.core.support.fileio import broken_link
from fer_desktop.core.support.image_files import is_image_path, is_video_path

MAX_PIXELS = 100_000_000  # 100 MP: beyond that decoding alone needs gigabytes


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
    if is_video_path(path):  # never read a video whole as if it were a photo
        raise UserError(
            f"{path.name} is a video, not a photo.",
            "Open it with File \u25b8 Open video\u2026 (Live) or analyse it in the Videos tab.",
        )
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


def fit_within(img: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """`img` shrunk so its longest side is at most `max_side` (for display), and the scale used."""
    h, w = img.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    if scale >= 1.0:
        return img, 1.0
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(img, size, interpolation=cv2.INTER_AREA), scale
