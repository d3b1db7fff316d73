"""`fer-desktop detect-eval`: a face detector's recall and precision on photos with boxes."""

from __future__ import annotations

import json

from fer_desktop.cli.common import (
    DETECTOR_CHOICES,
    settings_from,
)
from fer_desktop.core.choices import DETECTOR_ENGINES
from fer_desktop.core.support.errors import UserError


def register(sub) -> None:
    d = sub.add_parser(
        "detect-eval",
        help="measure a face detector on photos with boxes: recall, precision, ms per image",
    )
    d.add_argument("images", metavar="IMAGES_DIR", help="folder of photos")
    d.add_argument(
        "--boxes", required=True, metavar="CSV", help="true face boxes: image,x1,y1,x2,y2 (pixels)"
    )
    d.add_argument("--detector", choices=DETECTOR_CHOICES, help="default: settings, auto")
    d.add_argument("--detector-weights", metavar="FILE", help="YOLOv8 face .pt or YuNet .onnx")
    d.add_argument("--device", help="for YOLO: auto, cpu, cuda, mps")
    d.add_argument(
        "--detector-engine",
        choices=DETECTOR_ENGINES,
        help="YuNet's runtime: auto (ONNX Runtime where installed), onnxruntime, opencv",
    )
    d.add_argument(
        "--size", type=int, help="input size: YuNet's longest side (640), YOLO's imgsz (640)"
    )
    d.add_argument("--score", type=float, help="minimum face score (YuNet 0.58, YOLO 0.3)")
    d.add_argument(
        "--min-height", type=float, default=40, help="faces counted for recall (px, default 40)"
    )
    d.add_argument("--iou", type=float, default=0.4, help="IoU for a match (default 0.4)")
    d.add_argument("--limit", type=int, help="score only the first N images")
    d.add_argument("--json", action="store_true", help="print one JSON object with the figures")
    d.set_defaults(func=run)


def run(args) -> int:
    from fer_desktop.core.detectors import make_detector
    from fer_desktop.core.evaluation.detector_eval import evaluate_detector

    if args.size is not None and args.size < 32:
        raise UserError(f"--size {args.size} is too small.", "Use 32 or more, e.g. --size 640.")
    if args.score is not None and not 0 < args.score < 1:
        raise UserError(f"--score {args.score} is not between 0 and 1.", "Use e.g. --score 0.5.")
    s = settings_from(args)
    det = make_detector(
        s.detector,
        weights=s.detector_weights or None,
        device=s.device,
        imgsz=args.size or s.yolo_imgsz,
        yunet_side=args.size,
        score=args.score,
        engine=s.detector_engine,
    )
    r = evaluate_detector(
        det, args.images, args.boxes, min_height=args.min_height, iou_min=args.iou, limit=args.limit
    )
    if args.json:
        print(json.dumps(r))
        return 0
    setting = ", ".join(f"{k} {v}" for k, v in r["settings"].items())
    print(f"detector: {r['detector']} ({setting})")
    print(
        f"{r['images']} images, {r['faces']} faces, {r['faces_counted']} at least "
        f"{r['min_height']:g} px tall; a match needs IoU >= {r['iou']:g}"
    )
    tp = r["true_positives"]
    print(
        f"recall {r['recall']} ({tp} of {r['faces_counted']}); precision {r['precision']} "
        f"({r['false_positives']} false detections; {r['small_faces_found']} smaller faces "
        "found, not counted)"
    )
    print(f"{r['ms_per_image']} ms per image (median {r['ms_per_image_p50']})")
    return 0
