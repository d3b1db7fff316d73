"""Calibrate the app's face crop to FER2013's framing for a face detector.

FER2013's 48x48 images are face crops framed in one particular way. The app crops a square around
the detector's box; for the classifier to see faces framed as in training, that square must match.
This runs the detector on FER2013 faces (upscaled, with a replicated border so the face is not at
the image edge) and measures where the detector's box lies inside the 48x48 frame: the crop that
reproduces the frame is the box enlarged by `margin` and moved down by `shift_y` of its height.

    python -m fer_training.calibrate_crop ../shared/datasets/fer2013.zip --detector yunet --limit 600
"""

from __future__ import annotations

import argparse
import json

import cv2
import numpy as np

from fer_desktop.core.training.datasets import load_dataset

SCALE = 4  # 48 px faces are upscaled to 192 px: detectors miss faces that small
PAD = 0.5  # replicated border, as a share of the upscaled side


def measure(detector, images: np.ndarray) -> dict:
    """Median framing of the detector's box inside FER2013's 48x48 frame."""
    sides, cx, cy, found = [], [], [], 0
    for img in images:
        big = cv2.resize(img, None, fx=SCALE, fy=SCALE, interpolation=cv2.INTER_CUBIC)
        p = int(big.shape[0] * PAD)
        framed = cv2.copyMakeBorder(big, p, p, p, p, cv2.BORDER_REPLICATE)
        dets = detector.detect(cv2.cvtColor(framed, cv2.COLOR_GRAY2BGR))
        if not dets:
            continue
        d = max(dets, key=lambda d: d.score)
        x1, y1, x2, y2 = [(v - p) / SCALE for v in d.box]  # back in 48 px frame coordinates
        w, h = x2 - x1, y2 - y1
        if w <= 4 or h <= 4:
            continue
        found += 1
        sides.append(max(w, h))
        cx.append((x1 + x2) / 2)
        cy.append(((y1 + y2) / 2, h))
    if not found:
        raise SystemExit("the detector found no faces")
    side = float(np.median(sides))
    centre_x = float(np.median(cx))
    # the frame centre (24, 24) = box centre + shift_y * box height
    shift = float(np.median([(24.0 - c) / h for c, h in cy]))
    return {
        "images": int(len(images)),
        "found": found,
        "box_side_px": round(side, 2),
        "box_centre_x_px": round(centre_x, 2),
        "margin": round(48.0 / side - 1.0, 3),
        "shift_y": round(shift, 3),
    }


def score_grid(detector, classifier, images: np.ndarray, labels: np.ndarray, grid) -> list[dict]:
    """Accuracy of the whole path (detect on the framed face, crop by each spec, classify) per
    CropSpec in `grid`, on the faces the detector finds."""
    from fer_desktop.core.classify.crops import crop_face

    found = []
    for img, y in zip(images, labels):
        big = cv2.resize(img, None, fx=SCALE, fy=SCALE, interpolation=cv2.INTER_CUBIC)
        p = int(big.shape[0] * PAD)
        framed = cv2.copyMakeBorder(big, p, p, p, p, cv2.BORDER_REPLICATE)
        dets = detector.detect(cv2.cvtColor(framed, cv2.COLOR_GRAY2BGR))
        if dets:
            found.append((framed, max(dets, key=lambda d: d.score), int(y)))
    rows = []
    for spec in grid:
        crops = np.stack([crop_face(f, d.box, 48, spec, d.landmarks) for f, d, _ in found])
        pred = classifier.predict_crops(crops).argmax(1)
        acc = float((pred == np.array([y for _, _, y in found])).mean())
        rows.append(
            {
                "margin": spec.margin,
                "shift_y": spec.shift_y,
                "align": spec.align,
                "accuracy": round(acc, 4),
            }
        )
    return [{"faces_scored": len(found), "of": int(len(images))}] + rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m fer_training.calibrate_crop", description=__doc__.split("\n\n")[0]
    )
    p.add_argument("data", help="FER2013 folder or zip")
    p.add_argument("--detector", default="yunet")
    p.add_argument("--detector-weights", help="a local YOLOv8 face .pt for --detector yolo")
    p.add_argument("--split", default="test")
    p.add_argument("--limit", type=int, default=600)
    p.add_argument("--model", help="also score the whole path with this model over a grid of crops")
    a = p.parse_args(argv)
    from fer_desktop.core.detectors import make_detector

    det = make_detector(a.detector, weights=a.detector_weights)
    ds = load_dataset(a.data, limit=a.limit, seed=0)
    r = measure(det, ds.splits[a.split].images)
    r["detector"] = getattr(det, "name", a.detector)
    if a.model:
        from fer_desktop.core.classify.classifier import EmotionClassifier
        from fer_desktop.core.classify.crops import CropSpec

        clf = EmotionClassifier(a.model)
        m0, s0 = r["margin"], r["shift_y"]
        grid = [CropSpec(0.05, 0.0, False), CropSpec(m0, s0, False), CropSpec(m0, s0, True)]
        grid += [CropSpec(round(m0 + dm, 3), s0, False) for dm in (-0.1, 0.1, 0.2)]
        split = ds.splits[a.split]
        r["grid"] = score_grid(det, clf, split.images, split.labels, grid)
    print(json.dumps(r, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
