"""`fer-desktop`: the GUI, plus annotate / evaluate / bench / train subcommands and --self-test."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from fer_desktop.core.support.errors import UserError

DETECTOR_CHOICES = ("auto", "yunet", "yolo")  # as core.detectors.DETECTOR_CHOICES (no cv2 import)
BACKEND_HELP = (
    "emotion classifier backend: auto (the model's ONNX export on ONNX Runtime when on the CPU; "
    "torch for a GPU, bf16/fp16 or a .pt without export), onnx, onnxruntime, opencv, torch"
)
BACKEND_CHOICES = ("auto", "onnx", "onnxruntime", "opencv", "torch")


def _add_pipeline_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--detector",
        choices=DETECTOR_CHOICES,
        help="face detector; auto = YOLOv8-face if downloaded, else YuNet (default: settings)",
    )
    p.add_argument(
        "--detector-weights",
        metavar="FILE",
        help="a local detector file instead of the default: YOLOv8 face .pt or YuNet .onnx",
    )
    p.add_argument(
        "--model",
        metavar="FILE",
        help="emotion model: a .pt checkpoint or its .onnx export (default: the shipped model)",
    )
    p.add_argument("--device", help="auto (CUDA > MPS > CPU), cpu, cuda, mps")
    p.add_argument("--backend", choices=BACKEND_CHOICES, help=BACKEND_HELP)
    p.add_argument(
        "--precision", choices=("auto", "bf16", "fp16", "fp32"), help="classifier precision on CPU"
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
        metavar="SOURCE",
        help="start the GUI live on a camera index, video file or URL",
    )
    _add_pipeline_args(p)  # the GUI's own choices: --model, --detector, --device, ...
    p.add_argument(
        "--self-test",
        action="store_true",
        help="check the installation or bundle headlessly (with --source VIDEO: time the Live "
        "tab on it); JSON summary",
    )
    sub = p.add_subparsers(dest="command")

    g = sub.add_parser("gui", help="start the GUI (the default)")
    g.add_argument("--source", help="start live on a camera index, video file or stream URL")
    _add_pipeline_args(g)

    a = sub.add_parser("annotate", help="annotate photos: boxes, labels, emoji")
    a.add_argument("images", nargs="+", metavar="IMAGE", help="image files or folders of images")
    a.add_argument(
        "-o",
        "--out",
        metavar="DIR",
        help="folder for annotated copies (default: next to each image)",
    )
    a.add_argument("--json", action="store_true", help="print a JSON list, one object per image")
    a.add_argument("--no-save", action="store_true", help="do not write annotated copies")
    _add_pipeline_args(a)

    e = sub.add_parser(
        "evaluate",
        help="score an emotion model on labelled face crops, or on labelled photos (--photos)",
    )
    e.add_argument("data", help="folder or zip with <split>/<class>/*.jpg (or fer2013.csv)")
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
    e.add_argument("--precision", choices=("auto", "bf16", "fp16", "fp32"), default="auto")
    e.add_argument("--tta", action="store_true", help="average with the horizontally flipped face")
    e.add_argument("--limit", type=int, help="score at most this many images")
    e.add_argument("--json", action="store_true", help="print one JSON object with the scores")

    b = sub.add_parser("bench", help="benchmark the live pipeline on a video file or camera")
    b.add_argument("source", help="camera index, video file or stream URL")
    b.add_argument("--frames", type=int, default=300, help="frames to capture (a file loops)")
    b.add_argument("--size", metavar="WxH", help="resize frames to this size first (e.g. 640x480)")
    b.add_argument(
        "--unpaced",
        action="store_true",
        help="read a file as fast as possible instead of at its fps",
    )
    b.add_argument(
        "--record",
        action="store_true",
        help="also record the session (faces.csv, session.json) into a temporary folder",
    )
    b.add_argument(
        "--record-video", action="store_true", help="with --record: also write annotated.mp4"
    )
    b.add_argument(
        "--record-to",
        metavar="DIR",
        help="with --record: keep the recording in DIR (default: a temporary folder, deleted)",
    )
    b.add_argument("--json", action="store_true", help="print one JSON object with the figures")
    _add_pipeline_args(b)

    v = sub.add_parser(
        "analyze", help="analyse a whole video file: faces.csv, session.json (+ annotated.mp4)"
    )
    v.add_argument("video_path", metavar="VIDEO")
    v.add_argument(
        "-o",
        "--out",
        metavar="DIR",
        help="folder for the results (default: a new folder in the sessions folder)",
    )
    v.add_argument("--every", type=int, default=1, help="process every N-th frame (default 1)")
    v.add_argument(
        "--video", dest="save_video", action="store_true", help="also write annotated.mp4"
    )
    v.add_argument("--json", action="store_true", help="print one JSON object with the results")
    _add_pipeline_args(v)

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
        "--size", type=int, help="input size: YuNet's longest side (640), YOLO's imgsz (640)"
    )
    d.add_argument("--score", type=float, help="minimum face score (YuNet 0.58, YOLO 0.3)")
    d.add_argument(
        "--min-height", type=float, default=40, help="faces counted for recall (px, default 40)"
    )
    d.add_argument("--iou", type=float, default=0.4, help="IoU for a match (default 0.4)")
    d.add_argument("--limit", type=int, help="score only the first N images")
    d.add_argument("--json", action="store_true", help="print one JSON object with the figures")

    sub.add_parser(
        "train",
        help="train a model (same as fer-train; see fer-desktop train --help)",
        add_help=False,
    )
    sub.add_parser(
        "export",
        help="export a .pt model to ONNX (python -m fer_training.export; see export --help)",
        add_help=False,
    )
    return p


def _settings(args):
    from fer_desktop.core.settings import Settings

    s = Settings.load()
    for attr in (
        "detector",
        "detector_weights",
        "model",
        "device",
        "precision",
        "backend",
        "detect_every",
        "yolo_imgsz",
    ):
        v = getattr(args, attr, None)
        if v is not None:
            setattr(s, attr, v)
    return s.validate()


def _print_error(exc: UserError, as_json: bool) -> None:
    import logging

    from fer_desktop.core.support.logs import SHOWN

    # Into the log file with its traceback; the user reads the message below, not a log line.
    exc_info = (type(exc), exc, exc.__traceback__) if exc.__traceback__ else None
    logging.getLogger("fer_desktop.cli").error("%s", exc, exc_info=exc_info, extra=SHOWN)
    if as_json:
        print(json.dumps({"error": exc.message, "hint": exc.hint}))
    else:
        print(f"error: {exc.message}\n  {exc.hint}".rstrip(), file=sys.stderr)


def cmd_annotate(args) -> int:
    from fer_desktop.core.photos.annotate import annotate_image, collect_images, save_annotated
    from fer_desktop.core.pipeline.pipeline import build_pipeline

    images: list[str] = []
    for given in args.images:  # folders are searched for images, as in the Photos tab
        p = Path(given)
        images += [str(f) for f in collect_images([p])] if p.is_dir() else [given]
    if not images:
        _print_error(
            UserError(
                "No images found in " + ", ".join(args.images) + ".",
                "Give image files (jpg, png, bmp, webp, tif) or folders that hold them.",
            ),
            args.json,
        )
        return 1
    pipeline = build_pipeline(_settings(args))
    if not args.json:
        print(
            f"detector: {pipeline.detector.name}; model: {pipeline.classifier.name}",
            file=sys.stderr,
        )
    out = []
    failures = 0
    for image in images:
        entry = {"image": image, "faces": [], "error": None}
        try:
            result, annotated = annotate_image(pipeline, image)
            entry["faces"] = [f.to_json() for f in result.faces]
            if not result.faces:
                entry["error"] = "No face found in this image."  # and no annotated copy of it
            elif not args.no_save:
                dest = Path(args.out) if args.out else Path(image).resolve().parent
                entry["annotated"] = str(save_annotated(annotated, image, dest))
        except UserError as exc:
            entry["error"] = str(exc)
            failures += 1
        out.append(entry)
        if not args.json:
            if entry["faces"]:
                faces = ", ".join(_face_text(f) for f in entry["faces"])
                saved = f" -> {entry['annotated']}" if entry.get("annotated") else ""
                print(f"{image}: {len(entry['faces'])} face(s): {faces}{saved}")
                if entry["error"]:  # found faces, but the copy could not be saved: say why
                    print(f"{image}: {entry['error']}", file=sys.stderr)
            else:
                print(f"{image}: {entry['error']}", file=sys.stderr)
    if args.json:
        print(json.dumps(out, indent=1, ensure_ascii=False))
    if failures and not args.json:
        print(
            f"{failures} of {len(images)} file(s) could not be used (see above).", file=sys.stderr
        )
    return 1 if failures else 0


def _face_text(f: dict) -> str:
    """ "happy 87% 😄", or "uncertain (sad 36%) 🤔" with the runner-up it was unsure about."""
    if f["label"] == "uncertain" and f.get("probabilities"):
        top, p = max(f["probabilities"].items(), key=lambda kv: kv[1])
        return f"uncertain ({top} {p:.0%}) {f['emoji']}"
    return f"{f['label']} {f['confidence']:.0%} {f['emoji']}"


def cmd_evaluate(args) -> int:
    from fer_desktop.core.classify.classifier import EmotionClassifier
    from fer_desktop.core.evaluation.classifier_eval import evaluate_classifier, evaluate_photos

    if args.photos:
        from fer_desktop.core.pipeline.pipeline import build_pipeline

        s = _settings(args)
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

        clf = EnsembleClassifier(args.models, **options)
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


def cmd_bench(args) -> int:
    from fer_desktop.core.evaluation.bench import run_bench
    from fer_desktop.core.pipeline.pipeline import build_pipeline

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
        args.source,
        pipeline,
        frames=args.frames,
        paced=False if args.unpaced else None,
        size=size,
        record="video" if args.record_video else bool(args.record),
        record_dir=args.record_to,
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
    if r.get("recording"):
        rec = r["recording"]
        video = f", annotated video ({rec['video_frames_skipped']} frames skipped)"
        print(
            f"recorded {rec['frames_processed']} frames, {rec['rows']} CSV rows"
            + (video if rec["video"] else "")
            + f"; {rec['status']}"
        )
    return 0


def cmd_detect_eval(args) -> int:
    from fer_desktop.core.detectors import make_detector
    from fer_desktop.core.evaluation.detector_eval import evaluate_detector

    if args.size is not None and args.size < 32:
        raise UserError(f"--size {args.size} is too small.", "Use 32 or more, e.g. --size 640.")
    if args.score is not None and not 0 < args.score < 1:
        raise UserError(f"--score {args.score} is not between 0 and 1.", "Use e.g. --score 0.5.")
    s = _settings(args)
    det = make_detector(
        s.detector,
        weights=s.detector_weights or None,
        device=s.device,
        imgsz=args.size or s.yolo_imgsz,
        yunet_side=args.size,
        score=args.score,
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


def cmd_analyze(args) -> int:
    from tqdm import tqdm

    from fer_desktop.core.live.sources import FrameSource, SourceSpec
    from fer_desktop.core.sessions.analyze import iter_analyze

    if args.every < 1:
        raise UserError(f"--every must be 1 or more, not {args.every}.", "Use e.g. --every 2.")
    probe = FrameSource(SourceSpec("file", args.video_path))  # a bad file: say so first
    total = probe.frame_count // args.every if probe.frame_count > 0 else None
    probe.release()
    from fer_desktop.core.pipeline.pipeline import build_pipeline

    settings = _settings(args)
    pipeline = build_pipeline(settings)
    print(f"detector: {pipeline.detector.name}; model: {pipeline.classifier.name}", file=sys.stderr)
    steps = iter_analyze(
        args.video_path,
        pipeline,
        out_dir=args.out,
        every=args.every,
        save_video=args.save_video,
        settings=dataclasses.asdict(settings),
    )
    with tqdm(
        total=total,
        unit="frame",
        file=sys.stderr,
        dynamic_ncols=True,
        mininterval=0.5,
    ) as bar:  # the total is known from the start: "0/22 frames", never "0frame [?frame/s]"
        while True:
            try:
                step = next(steps)
            except StopIteration as stop:
                r = stop.value
                break
            if step.total and bar.total != step.total:
                bar.total = step.total
            bar.update(step.done - bar.n)
    if not r.tracks:
        print(f"No face was found in {args.video_path}.", file=sys.stderr)
    if r.warning:
        print(f"warning: {r.warning}", file=sys.stderr)
    if args.json:
        print(json.dumps(r.to_json(), ensure_ascii=False))
        return 1 if r.warning else 0
    speed = r.fps_processed * args.every / r.session.get("fps", 30.0)
    print(
        f"{r.frames} frames ({r.duration_s:.1f} s of video) at {r.fps_processed} fps "
        f"({speed:.1f}x real time); {len(r.tracks)} face track(s)"
    )
    for t in r.tracks:
        print(
            f"  face {t['id']}: {t['first_s']:.1f}-{t['last_s']:.1f} s, {t['frames']} frames, "
            f"mostly {t['dominant']}; label changes {t['label_changes_per_min']}/min, "
            f"uncertain {t['uncertain_share']:.0%}"
        )
    print(f"results: {r.folder}")
    return 1 if r.warning else 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] in (["train"], ["export"]):
        from fer_desktop.core.support.resources import FULL_BUILD_HINT, torch_available

        if not torch_available():  # the default bundle: no torch, so no training or export
            print(f"error: {argv[0]} needs PyTorch.\n  {FULL_BUILD_HINT}", file=sys.stderr)
            return 2
    if argv[:1] == ["train"]:  # the bundle trains as a subprocess of itself
        # The entry point is the one place above both packages: the app's layers (core, workers,
        # ui) never import the trainer (import-linter contract), so there is no package cycle.
        from fer_training.cli import main as train_main

        return train_main(argv[1:], prog="fer-desktop train")
    if argv[:1] == ["export"]:
        from fer_training.export import main as export_main

        return export_main(argv[1:])
    args = build_parser().parse_args(argv)
    if args.version:
        from fer_desktop import __version__

        print(__version__)
        return 0
    if args.self_test:
        from fer_desktop.selftest import self_test

        return self_test(source=args.top_source)  # --source VIDEO: time the Live tab on it
    from fer_desktop.core.support.logs import install_cli_excepthook, setup_logging
    from fer_desktop.core.support.threads import configure_threads

    setup_logging(stderr=args.command not in (None, "gui"))  # the GUI shows messages in windows
    install_cli_excepthook()
    configure_threads()  # once, before any model is loaded
    as_json = bool(getattr(args, "json", False))
    try:
        if args.command == "annotate":
            return cmd_annotate(args)
        if args.command == "evaluate":
            return cmd_evaluate(args)
        if args.command == "bench":
            return cmd_bench(args)
        if args.command == "analyze":
            return cmd_analyze(args)
        if args.command == "detect-eval":
            return cmd_detect_eval(args)
    except UserError as exc:
        _print_error(exc, as_json)
        return 2
    source = getattr(args, "source", None) or args.top_source
    from fer_desktop.app import run_gui

    try:
        settings = _settings(args)  # the user's settings with --model/--detector/... on top
    except UserError as exc:
        _print_error(exc, False)
        return 2
    return run_gui(source=source, settings=settings)


if __name__ == "__main__":
    raise SystemExit(main())
