"""User settings: one typed dataclass with defaults, validated on load, persisted per user as JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from .errors import UserError
from .fileio import atomic_write_text
from .resources import user_data_dir


@dataclass
class Settings:
    detector: str = "auto"  # auto | haar | yolo
    detector_weights: str = ""  # local YOLO .pt instead of the hub download
    yolo_imgsz: int = 640  # YOLO input size; smaller is faster on a CPU
    model: str = ""  # emotion checkpoint; "" = the shipped default
    device: str = "auto"  # auto | cpu | cuda | mps
    precision: str = "auto"  # auto | bf16 | fp32
    tta: bool = False
    crop_margin: float = (
        0.05  # FER2013 crops ~ the Haar box (measured: median box = 0.95-1.0 of the crop)
    )
    smoothing: float = 0.6  # 0 = off
    threshold: float = 0.4  # below: "uncertain"
    detect_every: int = 1
    mirror: bool = True
    last_source: str = "0"

    def validate(self) -> Settings:
        problems = []
        if self.detector not in ("auto", "haar", "yolo"):
            problems.append("detector must be auto, haar or yolo")
        if not 0 <= self.smoothing < 1:
            problems.append("smoothing must be in [0, 1)")
        if not 0 <= self.threshold <= 1:
            problems.append("threshold must be in [0, 1]")
        if not 64 <= self.yolo_imgsz <= 1920 or self.yolo_imgsz % 32:
            problems.append("yolo_imgsz must be a multiple of 32 between 64 and 1920")
        if self.detect_every < 1:
            problems.append("detect_every must be >= 1")
        if not 0 <= self.crop_margin <= 1:
            problems.append("crop_margin must be in [0, 1]")
        if problems:
            raise UserError(
                "Invalid settings: " + "; ".join(problems) + ".", "Fix or delete the settings file."
            )
        return self

    @classmethod
    def from_dict(cls, d: dict) -> Settings:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise UserError(
                f"Unknown setting(s): {', '.join(unknown)}.", f"Known: {', '.join(sorted(known))}."
            )
        return cls(**d).validate()

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
        atomic_write_text(path or self.path(), json.dumps(asdict(self), indent=1))
