"""`fer-desktop annotate`: photos in, annotated copies and a line per face out."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from fer_desktop.cli.common import (
    add_accurate_arg,
    add_facial_actions_arg,
    add_pipeline_args,
    facial_actions_note,
    print_error,
    settings_from,
)
from fer_desktop.core.support.errors import UserError


def register(sub) -> None:
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
    add_pipeline_args(a)
    add_accurate_arg(a)
    add_facial_actions_arg(a, default="on: 15 ms a face is nothing next to a photo's decoding")
    a.set_defaults(func=run)


def run(args) -> int:
    from fer_desktop.core.photos.annotate import annotate_image, save_annotated
    from fer_desktop.core.photos.io import collect_images
    from fer_desktop.core.pipeline.pipeline import build_pipeline

    images: list[str] = []
    for given in args.images:  # folders are searched for images, as in the Photos tab
        p = Path(given)
        images += [str(f) for f in collect_images([p])] if p.is_dir() else [given]
    if not images:
        print_error(
            UserError(
                "No images found in " + ", ".join(args.images) + ".",
                "Give image files (jpg, png, bmp, webp, tif) or folders that hold them.",
            ),
            args.json,
        )
        return 1
    settings = settings_from(args)
    if args.facial_actions is None:  # photos: on unless asked not to (cheap per photo)
        settings.facial_actions = True
    if note := facial_actions_note(args, settings):
        print(note, file=sys.stderr)
    pipeline = build_pipeline(settings)
    if not args.json:
        print(
            f"detector: {pipeline.detector.name}; model: {pipeline.classifier.name}",
            file=sys.stderr,
        )
    out = []
    failures = 0
    for image in images:
        entry: dict[str, Any] = {"image": image, "faces": [], "error": None}
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
