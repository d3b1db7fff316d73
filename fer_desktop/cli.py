"""`fer-desktop`: the GUI, plus annotate / evaluate / bench / train subcommands and --self-test."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .core.errors import UserError


def _add_pipeline_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--detector",
        choices=("auto", "haar", "yolo"),
        help="face detector (default: settings, auto)",
    )
    p.add_argument(
        "--detector-weights",
        metavar="PT",
        help="local YOLOv8 face weights instead of the hub download",
    )
    p.add_argument(
        "--model", metavar="PT", help="emotion model checkpoint (default: the shipped model)"
    )
    p.add_argument("--device", help="auto (CUDA > MPS > CPU), cpu, cuda, mps")
    p.add_argument(
        "--precision", choices=("auto", "bf16", "fp32"), help="classifier precision on CPU"
    )
    p.add_argument(
        "--detect-every", type=int, help="run the detector every N frames, track in between"
    )
    p.add_argument("--yolo-imgsz", type=int, help="YOLO input size (multiple of 32; default 640)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="fer-desktop", description="Facial emotion recognition: live, photos, training."
    )
    p.add_argument("--version", action="store_true", help="print the version and exit")
    p.add_argument(
        "--source",
        dest="top_source",
        help="start the GUI live on a camera index, video file or URL",
    )
    p.add_argument(
        "--self-test",
        action="store_true",
        help="check the installation or bundle headlessly; JSON summary",
    )
    sub = p.add_subparsers(dest="command")

    g = sub.add_parser("gui", help="start the GUI (the default)")
    g.add_argument("--source", help="start live on a camera index, video file or stream URL")

    a = sub.add_parser("annotate", help="annotate photos: boxes, labels, emoji")
    a.add_argument("images", nargs="+", metavar="IMAGE")
    a.add_argument(
        "-o",
        "--out",
        metavar="DIR",
        help="folder for annotated copies (default: next to each image)",
    )
    a.add_argument("--json", action="store_true", help="print a JSON list, one object per image")
    a.add_argument("--no-save", action="store_true", help="do not write annotated copies")
    _add_pipeline_args(a)

    e = sub.add_parser("evaluate", help="score an emotion model on labelled face crops")
    e.add_argument("data", help="folder or zip with <split>/<class>/*.jpg (or fer2013.csv)")
    e.add_argument("--split", help="split to score (default: test/validation)")
    e.add_argument("--model", metavar="PT", help="checkpoint (default: the shipped model)")
    e.add_argument("--device", default="auto")
    e.add_argument("--precision", choices=("auto", "bf16", "fp32"), default="auto")
    e.add_argument("--tta", action="store_true", help="average with the horizontally flipped face")
    e.add_argument("--limit", type=int, help="score at most this many images")
    e.add_argument("--json", action="store_true")

    b = sub.add_parser("bench", help="benchmark the live pipeline on a video file or camera")
    b.add_argument("source", help="camera index, video file or stream URL")
    b.add_argument("--frames", type=int, default=300, help="frames to capture (a file loops)")
    b.add_argument("--size", metavar="WxH", help="resize frames to this size first (e.g. 640x480)")
    b.add_argument(
        "--unpaced",
        action="store_true",
        help="read a file as fast as possible instead of at its fps",
    )
    b.add_argument("--json", action="store_true")
    _add_pipeline_args(b)

    sub.add_parser(
        "train",
        help="train a model (same as fer-train; see fer-desktop train --help)",
        add_help=False,
    )
    return p


def _settings(args):
    from .core.settings import Settings

    s = Settings.load()
    for attr in (
        "detector",
        "detector_weights",
        "model",
        "device",
        "precision",
        "detect_every",
        "yolo_imgsz",
    ):
        v = getattr(args, attr, None)
        if v is not None:
            setattr(s, attr, v)
    return s.validate()


def _print_error(exc: UserError, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"error": exc.message, "hint": exc.hint}))
    else:
        print(f"error: {exc.message}\n  {exc.hint}".rstrip(), file=sys.stderr)


def cmd_annotate(args) -> int:
    from .core.photos import annotate_image, save_annotated
    from .core.pipeline import build_pipeline

    pipeline = build_pipeline(_settings(args))
    if not args.json:
        print(
            f"detector: {pipeline.detector.name}; model: {pipeline.classifier.name}",
            file=sys.stderr,
        )
    out = []
    failures = 0
    for image in args.images:
        entry = {"image": image, "faces": [], "error": None}
        try:
            result, annotated = annotate_image(pipeline, image)
            entry["faces"] = [f.to_json() for f in result.faces]
            if not args.no_save:
                dest = Path(args.out) if args.out else Path(image).resolve().parent
                entry["annotated"] = str(save_annotated(annotated, image, dest))
            if not result.faces:
                entry["error"] = "No face found in this image."
        except UserError as exc:
            entry["error"] = str(exc)
            failures += 1
        out.append(entry)
        if not args.json:
            if entry["faces"]:
                faces = ", ".join(
                    f"{f['label']} {f['confidence']:.0%} {f['emoji']}" for f in entry["faces"]
                )
                print(
                    f"{image}: {len(entry['faces'])} face(s): {faces}"
                    + (f" -> {entry.get('annotated')}" if entry.get("annotated") else "")
                )
            else:
                print(f"{image}: {entry['error']}")
    if args.json:
        print(json.dumps(out, indent=1, ensure_ascii=False))
    return 1 if failures == len(args.images) else 0


def cmd_evaluate(args) -> int:
    from .core.classifier import EmotionClassifier
    from .core.evaluate import evaluate_classifier

    clf = EmotionClassifier(args.model, device=args.device, precision=args.precision, tta=args.tta)
    r = evaluate_classifier(clf, args.data, args.split, limit=args.limit)
    if args.json:
        print(json.dumps(r))
        return 0
    print(f"model {r['model']} on {args.data} [{r['split']}], {r['n']} faces")
    print(
        f"accuracy {r['accuracy']:.4f}; {r['ms_per_face']:.3f} ms per face (live, 1 face/frame), "
        f"{r['ms_per_face_batched']:.3f} ms per face batched"
    )
    print(
        "per-class recall: " + ", ".join(f"{c} {v:.3f}" for c, v in r["per_class_recall"].items())
    )
    print("confusion matrix (rows true, columns predicted):")
    w = max(len(c) for c in r["classes"])
    print(" " * (w + 1) + " ".join(f"{c[:7]:>7}" for c in r["classes"]))
    for c, row in zip(r["classes"], r["confusion_matrix"]):
        print(f"{c:>{w}} " + " ".join(f"{v:>7}" for v in row))
    return 0


def cmd_bench(args) -> int:
    from .core.bench import run_bench
    from .core.pipeline import build_pipeline

    size = None
    if args.size:
        try:
            w, h = (int(v) for v in args.size.lower().split("x"))
            size = (w, h)
        except ValueError as exc:
            raise UserError(
                f"--size {args.size} is not WIDTHxHEIGHT.", "Use e.g. --size 640x480."
            ) from exc
    pipeline = build_pipeline(_settings(args))
    r = run_bench(
        args.source, pipeline, frames=args.frames, paced=False if args.unpaced else None, size=size
    )
    if args.json:
        print(json.dumps(r))
        return 0
    print(
        f"{r['frames']} frames {r['frame_size'][0]}x{r['frame_size'][1]} from {args.source} "
        f"(source {r['source_fps']} fps) in {r['seconds']} s"
    )
    print(
        f"detector: {r['detector']}; model: {r['model']}; device {r['device']} ({r['precision']})"
    )
    print(
        f"inference {r['inference_fps']} fps; latency p50 {r['latency_ms']['p50']} ms, p95 {r['latency_ms']['p95']} ms; "
        f"dropped {r['dropped']}; faces/frame {r['faces_per_frame']}"
    )
    print("stage ms: " + ", ".join(f"{k} {v}" for k, v in r["stage_ms"].items()))
    print(f"peak RSS {r['peak_rss_mb']} MB (growth {r['rss_growth_pct']}%)")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["train"]:  # the bundle trains as a subprocess of itself
        from fer_training.cli import main as train_main

        return train_main(argv[1:])
    args = build_parser().parse_args(argv)
    if args.version:
        from . import __version__

        print(__version__)
        return 0
    if args.self_test:
        from .selftest import self_test

        return self_test()
    as_json = bool(getattr(args, "json", False))
    try:
        if args.command == "annotate":
            return cmd_annotate(args)
        if args.command == "evaluate":
            return cmd_evaluate(args)
        if args.command == "bench":
            return cmd_bench(args)
    except UserError as exc:
        _print_error(exc, as_json)
        return 2
    source = getattr(args, "source", None) or args.top_source
    from .app import run_gui

    return run_gui(source=source)


if __name__ == "__main__":
    raise SystemExit(main())
