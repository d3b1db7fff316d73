"""Which files are images: the one list of extensions photos, folders and datasets accept."""

from __future__ import annotations

from pathlib import Path

# Everything OpenCV's imdecode reads (JPEG, PNG, BMP, TIFF, WebP, JPEG 2000, Netpbm, Sun raster).
IMAGE_EXTS = frozenset(
    {".jpg", ".jpeg", ".jpe", ".png", ".bmp", ".dib", ".tif", ".tiff", ".webp", ".pbm", ".pgm",
     ".ppm", ".pnm", ".jp2", ".sr", ".ras"}
)  # fmt: skip

# What an annotated photo is saved as when its own format is one of these (else PNG): the common
# formats OpenCV writes without surprises, a subset of IMAGE_EXTS.
SAVE_EXTS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"})

# Video files (what Live, Videos and analyze open): one list, so Photos can say "a video".
VIDEO_EXTS = frozenset({".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv"})


def is_video_path(path: str | Path) -> bool:
    """True when the file's extension is one of VIDEO_EXTS (any case)."""
    return Path(path).suffix.lower() in VIDEO_EXTS


def is_image_path(path: str | Path) -> bool:
    """True when the file's extension is one of IMAGE_EXTS (any case)."""
    return Path(path).suffix.lower() in IMAGE_EXTS
