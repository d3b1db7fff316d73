"""Region tracking against full detection on every frame, side by side on one video (issue 29).

    python -m fer_desktop.core.evaluation.compare_detect VIDEO [--detect-every 10] [--json]
    python -m fer_desktop.core.evaluation.compare_detect VIDEO --loop-to 60      # a minute
    python -m fer_desktop.core.evaluation.compare_detect PHOTO --pan 20          # several faces
    ... --detector-engine opencv --precision fp32      # both paths on the runtimes of round 4

Analyses VIDEO twice with the same models: `--detect-every 1` (the whole frame searched on every
frame: the reference) and `--detect-every N` (region tracking), each into a temporary session
folder, and compares them frame by frame from their `faces.csv`: speed (x real time), faces
per frame, tracks, the label shown (matched face by face by box overlap) and the largest
probability difference. docs/benchmarks.md has the figures.
"""

from __future__ import annotations

import argparse
import csv
import json
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from fer_desktop.core.choices import DETECTOR_ENGINES, PRECISIONS
from fer_desktop.core.emotions import CLASSES
from fer_desktop.core.geometry import iou


def _rows_by_frame(csv_path: Path) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = defaultdict(list)
    with open(csv_path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            out[int(row["frame"])].append(row)
    return out


def _box(row: dict) -> tuple[float, ...]:
    return tuple(float(row[k]) for k in ("x1", "y1", "x2", "y2"))


def compare(reference: Path, tracked: Path, frames: int) -> dict:
    """Per-frame agreement of two analyses of one video (their faces.csv files)."""
    a, b = _rows_by_frame(reference), _rows_by_frame(tracked)
    same_count = 0
    pairs = same_label = 0
    prob_diffs: list[float] = []
    for i in range(frames):
        ra, rb = a.get(i, []), b.get(i, [])
        same_count += len(ra) == len(rb)
        for x in ra:
            best = max(rb, key=lambda y: iou(_box(x), _box(y)), default=None)
            if best is None or iou(_box(x), _box(best)) < 0.5:
                continue
            pairs += 1
            same_label += x["label"] == best["label"]
            prob_diffs.append(max(abs(float(x[c]) - float(best[c])) for c in CLASSES))
    faces_a = sum(len(v) for v in a.values())
    faces_b = sum(len(v) for v in b.values())
    prob_diffs.sort()
    return {
        "frames": frames,
        "same_face_count_share": round(same_count / max(frames, 1), 4),
        "faces_reference": faces_a,
        "faces_tracked": faces_b,
        "faces_ratio": round(faces_b / max(faces_a, 1), 4),
        "matched_faces": pairs,
        "same_label_share": round(same_label / max(pairs, 1), 4),
        "prob_diff_median": round(prob_diffs[len(prob_diffs) // 2], 4) if prob_diffs else None,
        "prob_diff_p95": round(prob_diffs[int(len(prob_diffs) * 0.95)], 4) if prob_diffs else None,
        "tracks_reference": len({r["track_id"] for v in a.values() for r in v}),
        "tracks_tracked": len({r["track_id"] for v in b.values() for r in v}),
        # the frame each track is first reported at: a face entering, found later or not
        "first_frames_reference": _first_frames(a),
        "first_frames_tracked": _first_frames(b),
    }


def _first_frames(rows: dict[int, list[dict]]) -> list[int]:
    first: dict[str, int] = {}
    for frame in sorted(rows):
        for r in rows[frame]:
            first.setdefault(r["track_id"], frame)
    return sorted(first.values())


def make_pan(photo: str | Path, out: Path, seconds: float = 20.0, fps: float = 30.0) -> Path:
    """A 1280x720 clip of a slow pan across `photo` scaled to 2.2x the frame's width: faces
    enter on one side and leave on the other (a several-face test clip)."""
    import cv2

    img = cv2.imread(str(photo))
    if img is None:
        raise SystemExit(f"cannot read {photo}")
    w, h = 1280, 720
    scale = max(2.2 * w / img.shape[1], h / img.shape[0])
    big = cv2.resize(img, (round(img.shape[1] * scale), round(img.shape[0] * scale)))
    y0 = (big.shape[0] - h) // 2
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    n = round(seconds * fps)
    for i in range(n):
        x0 = round((big.shape[1] - w) * i / max(n - 1, 1))
        writer.write(big[y0 : y0 + h, x0 : x0 + w])
    writer.release()
    return out


def loop_to(video: str | Path, out: Path, seconds: float) -> Path:
    """`video` played again and again until `seconds` long (MJPG, its own size and fps)."""
    import cv2

    src = cv2.VideoCapture(str(video))
    fps = src.get(cv2.CAP_PROP_FPS) or 30.0
    frames = []
    while True:
        ok, frame = src.read()
        if not ok:
            break
        frames.append(frame)
    src.release()
    if not frames:
        raise SystemExit(f"cannot read {video}")
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    for i in range(round(seconds * fps)):
        k = i % (2 * len(frames) - 2) if len(frames) > 1 else 0  # forth and back: no jump cut
        writer.write(frames[k if k < len(frames) else 2 * len(frames) - 2 - k])
    writer.release()
    return out


def run(video: str, every: int, settings=None) -> dict:
    from fer_desktop.core.pipeline.pipeline import build_pipeline
    from fer_desktop.core.sessions.analyze import analyze_video
    from fer_desktop.core.settings import Settings

    base = settings or Settings()
    out: dict = {"video": str(video), "detect_every": every}
    with tempfile.TemporaryDirectory(prefix="fer-compare-") as tmp:
        folders = {}
        for n in (1, every):
            base.detect_every = n
            pipeline = build_pipeline(base, accurate=False)
            t0 = time.perf_counter()
            r = analyze_video(video, pipeline, out_dir=Path(tmp) / f"every{n}")
            wall = time.perf_counter() - t0
            folders[n] = r.csv
            out[f"every_{n}"] = {
                "frames": r.frames,
                "video_s": r.duration_s,
                "wall_s": round(wall, 2),
                "x_real_time": round(r.duration_s / wall, 2) if wall > 0 else None,
                "full_detections": pipeline.full_detections,
                "tracks": len(r.tracks),
            }
        out["agreement"] = compare(folders[1], folders[every], out["every_1"]["frames"])
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("video")
    p.add_argument("--detect-every", type=int, default=10)
    p.add_argument("--json", action="store_true")
    p.add_argument("--loop-to", type=float, metavar="S", help="loop VIDEO to S seconds first")
    p.add_argument("--pan", type=float, metavar="S", help="VIDEO is a photo: pan over it for S s")
    p.add_argument(
        "--detector-engine",
        default="auto",
        choices=DETECTOR_ENGINES,
        help="YuNet's runtime (opencv: the old)",
    )
    p.add_argument("--precision", default="auto", choices=PRECISIONS,
                   help="the classifier's (fp32: the old)")  # fmt: skip
    args = p.parse_args(argv)
    from fer_desktop.core.settings import Settings

    settings = Settings(detector_engine=args.detector_engine, precision=args.precision).validate()
    from fer_desktop.core.support.threads import configure_threads

    configure_threads()
    with tempfile.TemporaryDirectory(prefix="fer-clip-") as tmp:
        video = args.video
        if args.pan:
            video = str(make_pan(video, Path(tmp) / "pan.avi", args.pan))
        elif args.loop_to:
            video = str(loop_to(video, Path(tmp) / "looped.avi", args.loop_to))
        r = run(video, args.detect_every, settings)
        r["input"] = args.video
    if args.json:
        print(json.dumps(r))
        return 0
    for n in (1, args.detect_every):
        e = r[f"every_{n}"]
        print(
            f"detect every {n:>2}: {e['frames']} frames in {e['wall_s']} s = {e['x_real_time']}x "
            f"real time; {e['full_detections']} whole-frame searches; {e['tracks']} track(s)"
        )
    g = r["agreement"]
    print(
        f"same label on {g['same_label_share']:.1%} of {g['matched_faces']} matched faces; "
        f"same face count on {g['same_face_count_share']:.1%} of frames; faces "
        f"{g['faces_tracked']} vs {g['faces_reference']}; prob diff median {g['prob_diff_median']}, "
        f"p95 {g['prob_diff_p95']}; tracks first reported at frames {g['first_frames_reference']} "
        f"vs {g['first_frames_tracked']}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
