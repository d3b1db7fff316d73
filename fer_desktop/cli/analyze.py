"""`fer-desktop analyze`: a video file into a session folder (faces.csv, session.json, annotated.mp4)."""

from __future__ import annotations

import dataclasses
import json
import sys

from fer_desktop.cli.common import (
    add_pipeline_args,
    settings_from,
)


def register(sub) -> None:
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
    add_pipeline_args(v)
    v.set_defaults(func=run)


def run(args) -> int:
    from tqdm import tqdm

    from fer_desktop.core.live.sources import FrameSource, SourceSpec
    from fer_desktop.core.sessions.analyze import analyze_video, check_every

    check_every(args.every)
    probe = FrameSource(SourceSpec("file", args.video_path))  # a bad file: say so first
    total = probe.frame_count // max(args.every, 1) if probe.frame_count > 0 else None
    probe.release()
    from fer_desktop.core.pipeline.pipeline import build_pipeline

    settings = settings_from(args)
    pipeline = build_pipeline(settings)
    print(f"detector: {pipeline.detector.name}; model: {pipeline.classifier.name}", file=sys.stderr)
    with tqdm(
        total=total,
        unit="frame",
        file=sys.stderr,
        dynamic_ncols=True,
        mininterval=0.5,
    ) as bar:  # the total is known from the start: "0/22 frames", never "0frame [?frame/s]"

        def progress(step) -> None:
            if step.total and bar.total != step.total:
                bar.total = step.total
            bar.update(step.done - bar.n)

        r = analyze_video(
            args.video_path,
            pipeline,
            progress=progress,
            out_dir=args.out,
            every=args.every,
            save_video=args.save_video,
            settings=dataclasses.asdict(settings),
        )
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
