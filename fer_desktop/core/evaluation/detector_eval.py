"""`fer-desktop detect-eval`: a face detector's recall, precision and speed on photos with boxes.

Ground truth is a CSV with `image,x1,y1,x2,y2` rows (pixels; `image` relative to the images
folder or to the CSV's folder). Every image in the folder is scored; one without rows has no
faces. Matching is greedy, best detection score first: a detection takes the unmatched
ground-truth face it overlaps most, if IoU >= `iou`.

- recall: matched faces at least `min_height` px tall / all such faces;
- precision: matched faces at least `min_height` tall / (detections - those that matched a
  smaller face). A detection of a face below `min_height` is neither right nor wrong (like COCO's
  "ignore" regions): datasets such as WIDER FACE label faces down to a few pixels that no
  detector here is meant to find, and finding one anyway is no false positive;
- ms per image: `detect()` alone (no decoding), after one warm-up call.
"""

from __future__ import annotations

import csv
import statistics
import time
from pathlib import Path

import cv2

from fer_desktop.core.geometry import iou
from fer_desktop.core.support.errors import UserError
from fer_desktop.core.support.image_files import is_image_path

SETTINGS = ("max_side", "imgsz", "score", "conf", "min_face")  # reported when a detector has them
Box = tuple[float, float, float, float]


def load_boxes(images_dir: str | Path, boxes_csv: str | Path) -> dict[Path, list[Box]]:
    """Ground-truth boxes per image file: every image in `images_dir`, plus any the CSV names."""
    images_dir, boxes_csv = Path(images_dir), Path(boxes_csv)
    if not images_dir.is_dir():
        raise UserError(f"{images_dir} is not a folder.", "Give the folder that holds the images.")
    try:
        with boxes_csv.open(newline="", encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
    except OSError as e:
        raise UserError(
            f"Cannot read the boxes file {boxes_csv}: {e.strerror or e}.",
            "Give a CSV file with the columns image,x1,y1,x2,y2.",
        ) from e
    except (UnicodeDecodeError, csv.Error) as e:
        raise UserError(
            f"The boxes file {boxes_csv} is not a readable CSV ({e}).",
            "Give a CSV file with the columns image,x1,y1,x2,y2.",
        ) from e
    truth: dict[Path, list[Box]] = {
        p: [] for p in sorted(images_dir.iterdir()) if is_image_path(p) and p.is_file()
    }
    found: dict[str, Path] = {}
    for n, row in enumerate(rows, start=2):
        try:
            name = row["image"]
            box = tuple(float(row[k]) for k in ("x1", "y1", "x2", "y2"))
        except (KeyError, TypeError, ValueError) as e:
            raise UserError(
                f"{boxes_csv}, line {n}: expected image,x1,y1,x2,y2 ({type(e).__name__}: {e}).",
                "Fix the line; coordinates are pixels.",
            ) from e
        if name not in found:
            candidates = (images_dir / name, boxes_csv.parent / name, images_dir / Path(name).name)
            path = next((c for c in candidates if c.is_file()), None)
            if path is None:
                raise UserError(
                    f"{boxes_csv}, line {n}: the image {name} is not in {images_dir}.",
                    "Give the images folder the CSV was made for.",
                )
            found[name] = path
        truth.setdefault(found[name], []).append(box)  # type: ignore[arg-type]
    if not truth:
        raise UserError(f"No images in {images_dir}.", "Give a folder with .jpg or .png photos.")
    return truth


def match_image(dets, truth: list[Box], iou_min: float, min_height: float) -> dict[str, int]:
    """Counts for one image: tp (big faces found), fp, ignored (small faces found)."""
    used = [False] * len(truth)
    tp = fp = ignored = 0
    for d in sorted(dets, key=lambda d: d.score, reverse=True):
        best, best_iou = -1, iou_min
        for i, t in enumerate(truth):
            if not used[i]:
                v = iou(d.box, t)
                if v >= best_iou:
                    best, best_iou = i, v
        if best < 0:
            fp += 1
            continue
        used[best] = True
        if truth[best][3] - truth[best][1] >= min_height:
            tp += 1
        else:
            ignored += 1
    return {"tp": tp, "fp": fp, "ignored": ignored}


def evaluate_detector(
    detector,
    images_dir: str | Path,
    boxes_csv: str | Path,
    *,
    min_height: float = 40,
    iou_min: float = 0.4,
    limit: int | None = None,
) -> dict:
    """Recall, precision and ms per image of `detector` on the images and boxes given."""
    truth = load_boxes(images_dir, boxes_csv)
    items = list(truth.items())[:limit] if limit else list(truth.items())
    tp = fp = ignored = big = 0
    n_truth = 0
    ms: list[float] = []
    warmed = False
    for path, boxes in items:
        img = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if img is None:
            raise UserError(f"Cannot read the image {path}.", "Remove or replace the file.")
        if not warmed:
            detector.detect(img)  # first call allocates; time the steady state
            warmed = True
        t0 = time.perf_counter()
        dets = detector.detect(img)
        ms.append((time.perf_counter() - t0) * 1000)
        c = match_image(dets, boxes, iou_min, min_height)
        tp, fp, ignored = tp + c["tp"], fp + c["fp"], ignored + c["ignored"]
        big += sum(1 for b in boxes if b[3] - b[1] >= min_height)
        n_truth += len(boxes)
    counted = tp + fp
    return {
        "detector": getattr(detector, "name", type(detector).__name__),
        "settings": {k: getattr(detector, k) for k in SETTINGS if hasattr(detector, k)},
        "images": len(items),
        "faces": n_truth,
        "faces_counted": big,
        "min_height": min_height,
        "iou": iou_min,
        "recall": round(tp / big, 4) if big else None,
        "precision": round(tp / counted, 4) if counted else None,
        "recall_all_sizes": round((tp + ignored) / n_truth, 4) if n_truth else None,
        "true_positives": tp,
        "false_positives": fp,
        "missed": big - tp,
        "small_faces_found": ignored,
        "ms_per_image": round(statistics.fmean(ms), 2) if ms else None,
        "ms_per_image_p50": round(statistics.median(ms), 2) if ms else None,
    }
