"""`fer-desktop bench`: the live pipeline's speed on a video file or camera."""

from __future__ import annotations

import json
import sys

from fer_desktop.cli.common import (
    add_facial_actions_arg,
    add_pipeline_args,
    facial_actions_note,
    settings_from,
)
from fer_desktop.core.support.errors import UserError


def register(sub) -> None:
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
    add_pipeline_args(b)
    add_facial_actions_arg(b)
    b.set_defaults(func=run)


def run(args) -> int:
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
    settings = settings_from(args)
    if note := facial_actions_note(args, settings):
        print(note, file=sys.stderr)
    pipeline = build_pipeline(settings, accurate=False)  # live: never the ensemble
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
