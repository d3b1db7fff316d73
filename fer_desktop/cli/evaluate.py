"""`fer-desktop evaluate`: a model on a dataset's test split, or labelled photos through the whole pipeline."""

from __future__ import annotations

import json
import sys

from fer_desktop.cli.common import (
    BACKEND_CHOICES,
    BACKEND_HELP,
    DETECTOR_CHOICES,
    PRECISIONS,
    settings_from,
)


def register(sub) -> None:
    e = sub.add_parser(
        "evaluate",
        help="score an emotion model on labelled face crops, or on labelled photos (--photos)",
    )
    e.add_argument(
        "data",
        help="folder or zip with <split>/<class>/*.jpg, fer2013.csv, or FER+ "
        "(FER2013Train/FER2013Valid with label.csv: scored on the ten annotators' majority)",
    )
    e.add_argument(
        "--photos",
        action="store_true",
        help="DATA is a folder of labelled photos (<class>/*.jpg, any size): each goes through "
        "the whole path (detector, crop, classifier; its largest face); no face counts as wrong",
    )
    e.add_argument("--detector", choices=DETECTOR_CHOICES, help="with --photos: face detector")
    e.add_argument("--split", help="split to score (default: test/validation)")
    e.add_argument(
        "--model", metavar="FILE", help=".pt checkpoint or .onnx export (default: shipped model)"
    )
    e.add_argument(
        "--models",
        nargs="+",
        metavar="FILE",
        help="score the ensemble of these models (their calibrated probabilities averaged)",
    )
    e.add_argument("--backend", choices=BACKEND_CHOICES, default="auto", help=BACKEND_HELP)
    e.add_argument("--device", default="auto", help="auto (CUDA > MPS > CPU), cpu, cuda, mps")
    e.add_argument("--precision", choices=PRECISIONS, default="auto")
    e.add_argument("--tta", action="store_true", help="average with the horizontally flipped face")
    e.add_argument("--limit", type=int, help="score at most this many images")
    e.add_argument("--json", action="store_true", help="print one JSON object with the scores")
    e.set_defaults(func=run)


def run(args) -> int:
    from fer_desktop.core.classify.classifier import EmotionClassifier
    from fer_desktop.core.evaluation.classifier_eval import evaluate_classifier, evaluate_photos

    if args.photos:
        from fer_desktop.core.pipeline.pipeline import build_pipeline

        s = settings_from(args)
        r = evaluate_photos(build_pipeline(s), args.data, limit=args.limit)
        if args.json:
            print(json.dumps(r))
            return 0
        print(f"model {r['model']}, detector {r['detector']}, on {r['n']} photos in {args.data}")
        print(
            f"accuracy {r['accuracy']:.4f}; mean class recall {r['mean_recall']:.4f}; "
            f"faces found in {r['faces_found']} of {r['n']} photos; {r['ms_per_photo']} ms per photo"
        )
        _print_recall_and_matrix(r)
        for path in r["no_face"]:
            print(f"no face found: {path}", file=sys.stderr)
        return 0
    options = dict(device=args.device, precision=args.precision, tta=args.tta, backend=args.backend)
    if args.models:
        from fer_desktop.core.classify.ensemble import EnsembleClassifier

        clf: EmotionClassifier | EnsembleClassifier = EnsembleClassifier(args.models, **options)
    else:
        clf = EmotionClassifier(args.model, **options)
    r = evaluate_classifier(clf, args.data, args.split, limit=args.limit)
    if args.json:
        print(json.dumps(r))
        return 0
    print(f"model {r['model']} on {args.data} [{r['split']}], {r['n']} faces")
    print(
        f"accuracy {r['accuracy']:.4f}; mean class recall {r['mean_recall']:.4f}; "
        f"calibration error (ECE) {r.get('ece', 0):.4f}"
    )
    if "votes_kl" in r:
        print(
            f"labels: {r['label_source']}; against the votes: cross-entropy "
            f"{r['votes_cross_entropy']:.4f}, KL {r['votes_kl']:.4f} nats; probability on the "
            f"majority {r['prob_on_majority']:.3f}; top class voted by someone {r['top_class_voted']:.3f}"
        )
    print(
        f"{r['ms_per_face']:.3f} ms per face (live, 1 face/frame), "
        f"{r['ms_per_face_batched']:.3f} ms per face batched"
    )
    _print_recall_and_matrix(r)
    return 0


def _print_recall_and_matrix(r: dict) -> None:
    print(
        "per-class recall: "
        + ", ".join(
            f"{c} {v:.3f}" if v is not None else f"{c} -" for c, v in r["per_class_recall"].items()
        )
    )
    print("confusion matrix (rows true, columns predicted):")
    w = max(len(c) for c in r["classes"])
    cw = max(w, 5)  # every class name whole ("surprise" is 8 letters)
    print(" " * (w + 1) + " ".join(f"{c:>{cw}}" for c in r["classes"]))
    for c, row in zip(r["classes"], r["confusion_matrix"]):
        print(f"{c:>{w}} " + " ".join(f"{v:>{cw}}" for v in row))
