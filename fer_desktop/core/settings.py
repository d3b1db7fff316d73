"""User settings: one typed dataclass with defaults, validated on load, persisted per user as JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from fer_desktop.core import choices
from fer_desktop.core.support.errors import UserError
from fer_desktop.core.support.fileio import PRIVATE_FILE, atomic_write_text
from fer_desktop.core.support.redaction import redact
from fer_desktop.core.support.resources import user_data_dir


@dataclass
class Settings:
    detector: str = "auto"  # auto (YOLOv8-face if downloaded, else YuNet) | yunet | yolo
    detector_weights: str = ""  # a local YOLO .pt or YuNet .onnx instead of the default
    yolo_imgsz: int = 640  # YOLO input size; smaller is faster on a CPU
    detector_engine: str = (
        "auto"  # YuNet's runtime: auto (ONNX Runtime if installed) | onnxruntime | opencv
    )
    model: str = ""  # emotion checkpoint; "" = the shipped default
    device: str = "auto"  # auto | cpu | cuda | mps
    precision: str = "auto"  # auto | bf16 | fp16 | fp32 (choices.PRECISIONS)
    backend: str = "auto"  # classifier: auto (ONNX on the CPU, torch on a GPU) | onnx | torch
    tta: bool = False
    # Photos, Videos, annotate, analyze and batch jobs: the teachers' ensemble instead of the
    # live model (resources/models/accurate/, about 3x slower per face); Live never uses it.
    accurate: bool = False
    # Face crop margin around the detector's box; None = calibrated to FER2013's framing for the
    # detector in use (python -m fer_training.calibrate_crop; see the model card).
    crop_margin: float | None = None
    smoothing: float = 0.9  # past's weight per 1/30 s (tau 0.32 s); 0 = off
    threshold: float = 0.5  # below: "uncertain"; chosen on FER+ Valid (MODEL_CARD.md): faces under it are right less than half the time
    # The whole frame is searched for faces every N frames, each known face near its last box
    # in between (and the whole frame when one is lost): same labels, several times faster
    # (docs/benchmarks.md, issue 29). 1 = every frame, the reference path.
    detect_every: int = 10
    mirror: bool = True
    loop_video: str = "auto"  # auto (files under 30 s) | always | never
    last_source: str = "0"
    record_video: bool = False  # Record (Live) and Analyse (Videos) also write annotated.mp4
    # What the face does (issue 31): 52 blendshapes, blink, head pose per face (Model > Facial
    # actions, --facial-actions), where the LiteRT runtime is installed. Off by default for its
    # measured cost (docs/facial-actions.md): 14-19 ms per face on one core, more than detection
    # and emotion together; Live with one 720p face fell from 53 to 31 fps unpaced and dropped 5%
    # of a 29 fps video on a busy 2-core machine, and `analyze` would run 2-3x slower.
    facial_actions: bool = False
    # The names of marker kinds 1-9 (the number keys while recording and in the session window),
    # "|" between them; an empty entry is "Kind N" (issue 30).
    marker_kinds: str = ""
    # 2: confidences are calibrated (issue 17); a file without it was saved by an older version.
    # 3: detect_every 1 was the old default (boxes reused unchanged), not a choice (issue 29).
    settings_version: int = 3

    def validate(self) -> Settings:
        problems = []
        for name, allowed in (
            ("detector", choices.DETECTORS),
            ("loop_video", choices.LOOP_MODES),
            ("backend", choices.BACKENDS),
            ("precision", choices.PRECISIONS),
            ("detector_engine", choices.DETECTOR_ENGINES),
        ):
            problems.append(choices.one_of(name, getattr(self, name), allowed))
        if not choices.valid_device(str(self.device)):
            problems.append("device must be auto, cpu, mps, cuda or cuda:N")
        if not 0 <= self.smoothing < 1:
            problems.append("smoothing must be in [0, 1)")
        if not 0 <= self.threshold <= 1:
            problems.append("threshold must be in [0, 1]")
        if not 64 <= self.yolo_imgsz <= 1920 or self.yolo_imgsz % 32:
            problems.append("yolo_imgsz must be a multiple of 32 between 64 and 1920")
        if self.detect_every < 1:
            problems.append("detect_every must be >= 1")
        if self.crop_margin is not None and not -0.3 <= self.crop_margin <= 1:
            problems.append("crop_margin must be null (calibrated) or in [-0.3, 1]")
        found = [p for p in problems if p]
        if found:
            raise UserError(
                "Invalid settings: " + "; ".join(found) + ".", "Fix or delete the settings file."
            )
        return self

    @classmethod
    def from_dict(cls, d: dict) -> Settings:
        """Settings from a settings.json object: unknown keys, wrong types and values out of range
        are one UserError naming every bad field (types checked before ranges: `"mirror": "no"`
        is not true)."""
        if not isinstance(d, dict):
            raise UserError("The settings file does not hold an object.", "Fix or delete it.")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise UserError(
                f"Unknown setting(s): {', '.join(unknown)}.", f"Known: {', '.join(sorted(known))}."
            )
        wrong = [p for k, v in d.items() if (p := _type_problem(k, v))]
        if wrong:
            raise UserError(
                "Invalid settings: " + "; ".join(wrong) + ".", "Fix or delete the settings file."
            )
        if d.get("detector") == "haar":  # the removed Haar cascade: YuNet is the offline one now
            d = {**d, "detector": "yunet"}
        if "settings_version" not in d and d.get("threshold") == 0.4:
            # The old default on uncalibrated confidences; on calibrated ones it is 0.35.
            d = {**d, "threshold": cls.threshold}
        version = d.get("settings_version")
        if not (isinstance(version, int) and version >= 3) and d.get("detect_every") == 1:
            d = {**d, "detect_every": cls.detect_every}  # the old default: region tracking now
        d = {**d, "settings_version": cls.settings_version}
        return cls(**d).validate()

    @classmethod
    def repair(cls, d: object) -> tuple[Settings, list[str]]:
        """Settings from a settings.json object, keeping every good field: a field that is
        unknown, of the wrong type or out of range takes its default, and is named in the
        returned list (one line each)."""
        if not isinstance(d, dict):
            return cls(), ["the file does not hold an object: all settings are the defaults"]
        good, problems = {}, []
        for k, v in d.items():
            try:
                cls.from_dict({k: v})
            except UserError as err:
                problems.append(
                    f"{err.message.removeprefix('Invalid settings: ').rstrip('.')}: the default is used"
                )
                continue
            good[k] = v
        try:
            return cls.from_dict(good), problems
        except UserError as err:  # fields that are good alone but not together
            return cls(), [*problems, f"{err.message}: all settings are the defaults"]

    @staticmethod
    def path() -> Path:
        return user_data_dir() / "settings.json"

    @classmethod
    def load(cls, path: Path | None = None) -> Settings:
        path = path or cls.path()
        if not path.exists():
            return cls()
        try:
            return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except ValueError as exc:
            raise UserError(
                f"The settings file {path} is not valid JSON ({exc}).", "Fix or delete it."
            ) from exc

    def save(self, path: Path | None = None) -> None:
        data = asdict(self)
        data["last_source"] = redact(self.last_source)  # a stream's password is never stored
        atomic_write_text(path or self.path(), json.dumps(data, indent=1), mode=PRIVATE_FILE)


_KINDS = {bool: "true or false", int: "a whole number", float: "a number", str: "text"}


def _type_problem(name: str, value: object) -> str | None:
    """One line when `value` has the wrong JSON type for the setting `name`, else None."""
    default = getattr(Settings, name, None)
    if name == "crop_margin":
        ok = value is None or (isinstance(value, int | float) and not isinstance(value, bool))
        kind = "null or a number"
    else:
        kind_t = next((t for t in (bool, int, float, str) if isinstance(default, t)), None)
        if kind_t is None:
            return None
        if kind_t is float:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
        elif kind_t is int:
            ok = isinstance(value, int) and not isinstance(value, bool)
        else:
            ok = isinstance(value, kind_t)
        kind = _KINDS[kind_t]
    if ok:
        return None
    try:
        shown = json.dumps(value)[:40]
    except (ValueError, TypeError, RecursionError):
        shown = type(value).__name__
    return f"{name} must be {kind} (it is {shown})"
