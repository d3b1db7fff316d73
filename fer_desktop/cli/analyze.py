"""`fer-desktop analyze`: a video file into a session folder (faces.csv, session.json,
annotated.mp4); several videos, folders or a list of paths into a job folder (core/jobs)."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

from fer_desktop.cli.common import (
    add_accurate_arg,
    add_facial_actions_arg,
    add_pipeline_args,
    facial_actions_note,
    settings_from,
)
from fer_desktop.core.support.errors import UserError


def register(sub) -> None:
    v = sub.add_parser(
        "analyze",
        help="analyse whole video files: faces.csv, session.json (+ annotated.mp4) per video",
        description="One video: a session folder. Several videos, a folder (searched "
        "recursively) or a text file listing paths: a job folder with one session folder per "
        "video, summary.csv and job.json; run it again to finish what a stop left undone.",
    )
    v.add_argument("videos", nargs="+", metavar="VIDEO", help="video files, folders or .txt lists")
    v.add_argument(
        "-o",
        "--out",
        metavar="DIR",
        help="folder for the results (default: a new folder in the sessions or jobs folder)",
    )
    v.add_argument(
        "--workers", type=int, help="videos analysed at once, each in its own process "
        "(default: one per core)",
    )  # fmt: skip
    v.add_argument(
        "--scheduler", metavar="ADDRESS", help="run the job on a Dask cluster (tcp://host:8786); "
        "its workers must see the job folder at the same path",
    )  # fmt: skip
    v.add_argument("--every", type=int, default=1, help="process every N-th frame (default 1)")
    v.add_argument(
        "--video", dest="save_video", action="store_true", help="also write annotated.mp4"
    )
    v.add_argument(
        "--markers", metavar="FILE", help="markers for one video: a CSV with time_s,name (seconds "
        "into the video), stored with the session",
    )  # fmt: skip
    v.add_argument(
        "--participant", default="", help="participant id (session.json, folder name, tables)"
    )
    v.add_argument("--condition", default="", help="the study condition of this session")
    v.add_argument("--note", default="", help="a free note kept with the session")
    v.add_argument("--json", action="store_true", help="print one JSON object with the results")
    add_pipeline_args(v)
    add_accurate_arg(v)
    add_facial_actions_arg(v)
    v.set_defaults(func=run)


def run(args) -> int:
    from fer_desktop.core.jobs.inputs import LIST_EXTS, expand_inputs

    expand_inputs([v for v in args.videos if "://" in v])  # a stream: one message, redacted
    first = Path(args.videos[0]).expanduser()
    if (len(args.videos) > 1 or first.is_dir() or first.suffix.lower() in LIST_EXTS
            or args.workers is not None or args.scheduler):  # fmt: skip
        return run_job_cli(args)
    args.video_path = args.videos[0]
    from tqdm import tqdm

    from fer_desktop.core.live.sources import FrameSource, SourceSpec
    from fer_desktop.core.sessions.analyze import analyze_video, check_every
    from fer_desktop.core.sessions.annotations import read_markers_csv
    from fer_desktop.core.sessions.study import StudyInfo

    check_every(args.every)
    study = StudyInfo(args.participant, args.condition, args.note).checked()  # say so first
    markers = read_markers_csv(args.markers) if args.markers else None  # a bad file: say so first
    probe = FrameSource(SourceSpec("file", args.video_path))  # a bad file: say so first
    total = probe.frame_count // max(args.every, 1) if probe.frame_count > 0 else None
    probe.release()
    from fer_desktop.core.pipeline.pipeline import build_pipeline
    from fer_desktop.core.support.threads import limit_threads

    # One thread per operation: decoding, finding faces and classifying run on threads of their
    # own (sessions/analyze.py), so splitting each small operation over the cores as well only
    # adds wake-ups (measured: 7.1x against 6.8x real time, a third less system time; issue 29).
    limit_threads(1)
    settings = settings_from(args)
    if note := facial_actions_note(args, settings):
        print(note, file=sys.stderr)
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
            markers=markers,
            study=study,
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


def run_job_cli(args) -> int:
    from tqdm import tqdm

    from fer_desktop.core.jobs.runner import new_job_dir, run_job
    from fer_desktop.core.sessions.analyze import check_every

    check_every(args.every)
    if args.markers or args.participant or args.condition or args.note:
        raise UserError(
            "--markers, --participant, --condition and --note are for one video.",
            "Analyse that video alone with them.",
        )
    from fer_desktop.core.jobs.runner import default_workers

    most = 2 * default_workers()  # each worker loads the models: more only slows all (issue 28)
    if args.workers is not None and not 1 <= args.workers <= most and not args.scheduler:
        raise UserError(
            f"--workers must be between 1 and {most} on this machine ({default_workers()} "
            f"cores), not {args.workers}.",
            f"Use e.g. --workers {default_workers()} (the default: one per core).",
        )
    settings = settings_from(args)
    if note := facial_actions_note(args, settings):
        print(note, file=sys.stderr)
    job_dir = Path(args.out).expanduser() if args.out else new_job_dir()
    print(f"job folder: {job_dir}", file=sys.stderr)
    bar = tqdm(total=None, unit="s", unit_scale=True, file=sys.stderr, dynamic_ncols=True,
               desc="video analysed", disable=args.json and not sys.stderr.isatty())  # fmt: skip

    def progress(p) -> None:
        if bar.total != round(p.video_s_total, 1):
            bar.total = round(p.video_s_total, 1)
        bar.set_postfix_str(f"videos {p.done}/{p.total}")
        bar.update(round(p.video_s_done, 1) - bar.n)
        e = p.last or {}
        what = e.get("status", "?")
        detail = e.get("error") or e.get("warning") or f"{e.get('tracks', 0)} face track(s)"
        bar.write(f"{what:9} {Path(e.get('input', '?')).name}: {detail}", file=sys.stderr)

    with bar:
        info = run_job(
            args.videos, job_dir, settings, every=args.every, save_video=args.save_video,
            workers=args.workers, scheduler=args.scheduler, progress=progress,
        )  # fmt: skip
    t = info["totals"]
    if args.json:
        print(
            json.dumps(
                {"job": str(job_dir), "totals": t, "videos": info["videos"]}, ensure_ascii=False
            )
        )
    else:
        print(
            f"{t['videos']} videos: {t['done']} done, {t['truncated']} truncated, {t['failed']} "
            f"failed, {t['skipped']} already done; {t['video_s_analysed']:.0f} s of video in "
            f"{t['wall_s']:.0f} s ({t['throughput']:.2f}x real time)"
        )
        print(f"results: {job_dir / 'summary.csv'}")
    return 0 if not (t["failed"] or t["truncated"] or t["cancelled"]) else 1
