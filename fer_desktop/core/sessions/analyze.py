"""Analyse a whole video file, as fast as the machine allows, into a session folder. No Qt.

The same files as a live recording (faces.csv, session.json, optionally annotated.mp4), timed by
the video's own clock (frame / fps), so the tracker and the CSV do not depend on how fast this
machine is. One thread decodes ahead while the caller's thread runs the pipeline.
"""

from __future__ import annotations

import math
import os
import queue
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path

from fer_desktop.core.live.sources import FrameSource, SourceSpec
from fer_desktop.core.sessions.layout import (
    CSV_NAME,
    JSON_NAME,
    MARKERS_NAME,
    VIDEO_NAME,
    new_session_dir,
)
from fer_desktop.core.sessions.recorder import SessionRecorder
from fer_desktop.core.sessions.study import StudyInfo
from fer_desktop.core.support.errors import UserError
from fer_desktop.core.support.fileio import make_private_dir
from fer_desktop.core.support.progress import drain


@dataclass(frozen=True)
class AnalyzeProgress:
    """Frames processed so far out of `total` (0 when the file does not say), wall seconds."""

    done: int
    total: int
    elapsed_s: float


@dataclass
class AnalyzeResult:
    """What an analysis produced; `to_json()` is the object `fer-desktop analyze --json` prints."""

    frames: int
    duration_s: float
    fps_processed: float
    tracks: list[dict]
    csv: Path
    video: Path | None
    folder: Path
    cancelled: bool = False
    session: dict = field(default_factory=dict)
    warning: str | None = None  # e.g. the video ended long before the length its header gives

    def to_json(self) -> dict:
        return {
            "frames": self.frames,
            "duration_s": self.duration_s,
            "fps_processed": self.fps_processed,
            "tracks": self.tracks,
            "outputs": {"csv": str(self.csv), "video": str(self.video) if self.video else None},
            "warning": self.warning,  # e.g. a truncated file; None when all went well
        }


def prepare_output(out_dir: str | Path | None, suffix: str = "") -> Path:
    """The session folder: a new one under the user's sessions folder, or `out_dir` (created),
    which must not already hold a session (an earlier result is never overwritten)."""
    if out_dir is None:
        return new_session_dir(suffix=suffix)
    folder = Path(out_dir).expanduser()
    if folder.exists() and not folder.is_dir():
        raise UserError(f"{folder} is a file, not a folder.", "Choose a folder for the results.")
    # lexists: a link is taken too, dangling or not: the results are never written through a
    # link in the folder to a file outside it (issue 28)
    taken = [
        n for n in (CSV_NAME, JSON_NAME, VIDEO_NAME, MARKERS_NAME) if os.path.lexists(folder / n)
    ]
    if taken:
        raise UserError(
            f"{folder} already holds an analysis ({', '.join(taken)}).",
            "Choose another folder, or leave out -o to get a new folder.",
        )
    try:
        make_private_dir(folder)
    except OSError as exc:
        raise UserError(
            f"Could not create {folder}: {exc.strerror or exc}.", "Choose a writable folder."
        ) from exc
    return folder


class _Stage:
    """A thread that fills a small queue, and stops putting (and returns) once asked to stop."""

    def __init__(self, name: str, depth: int) -> None:
        self.queue: queue.Queue = queue.Queue(depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        raise NotImplementedError

    def _put(self, item) -> bool:
        while not self._stop.is_set():
            try:
                self.queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False


class _Reader(_Stage):
    """Decodes every `every`-th frame into a small queue on its own thread (skipped frames are
    only grabbed, not decoded to pixels)."""

    def __init__(self, source: FrameSource, every: int, depth: int = 8) -> None:
        super().__init__("fer-analyze-read", depth)
        self.source = source
        self.every = every
        self._thread.start()

    def _run(self) -> None:
        index = 0
        try:
            while not self._stop.is_set():
                item: tuple[int, object] | None
                if index % self.every:
                    item = (index, None) if self.source.grab() else None
                else:
                    frame = self.source.read()
                    item = (index, frame) if frame is not None else None
                if item is None:
                    break
                if item[1] is not None and not self._put(item):
                    return
                index += 1
        finally:
            self._put(None)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(10)
        self.source.release()


class _Finder(_Stage):
    """Finds the faces of each decoded frame on its own thread (`pipeline.find`), one frame
    ahead of the caller, who classifies, tracks and records them: on two cores the detector
    and the classifier run at once (issue 29). Items: (index, frame, found); an error in the
    detector is handed on and raised by the caller."""

    def __init__(self, reader: _Reader, pipeline, depth: int = 4) -> None:
        super().__init__("fer-analyze-find", depth)
        self.reader, self.pipeline = reader, pipeline
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    item = self.reader.queue.get(timeout=0.1)  # a close() is seen at once
                except queue.Empty:
                    continue
                if item is None:
                    break
                index, frame = item
                if not self._put((index, frame, self.pipeline.find(frame))):
                    return
        except BaseException as exc:  # noqa: BLE001 (handed to the caller, who raises it)
            self._put(exc)
            return
        self._put(None)

    def get(self):
        item = self.queue.get()
        if isinstance(item, BaseException):
            raise item
        return item

    def close(self) -> None:
        self._stop.set()
        self.reader.close()  # its thread ends; a put of ours waiting on a full queue gives up
        self._thread.join(10)


def check_every(every: int) -> None:
    if every < 1:
        raise UserError(f"--every must be 1 or more, not {every}.", "Use e.g. --every 2.")


def iter_analyze(
    video: str | Path,
    pipeline,
    *,
    out_dir: str | Path | None = None,
    every: int = 1,
    save_video: bool = False,
    settings: dict | None = None,
    should_stop: Callable[[], bool] | None = None,
    progress_every_s: float = 0.0,
    markers: list | None = None,
    study: StudyInfo | None = None,
) -> Generator[AnalyzeProgress, None, AnalyzeResult]:
    """Analyse `video` frame by frame; yields progress after each processed frame (at most every
    `progress_every_s` seconds: a GUI needs no more, and stops at a yield) and returns the
    AnalyzeResult. `every` > 1 processes every N-th frame. `should_stop()` returning True ends the
    analysis early with what was done so far (`cancelled`). A missing or unreadable file raises
    UserError before anything is written."""
    check_every(every)
    source = FrameSource(SourceSpec("file", str(video)))
    fps = source.fps
    total = math.ceil(source.frame_count / every) if source.frame_count > 0 else 0
    try:
        study = (study or StudyInfo()).checked()
        folder = prepare_output(out_dir, study.folder_suffix())
        recorder = SessionRecorder(
            folder,
            source=str(Path(str(video)).expanduser().resolve()),
            detector=pipeline.detector.name,
            model=pipeline.classifier.name,
            settings={**(settings or {}), "every": every},
            fps=fps,
            video=save_video,
            video_fps=fps / every,
            video_wait=True,
            again="run the analysis again",
            study=study,
        )
    except BaseException:
        source.release()
        raise
    for m in markers or []:  # analyze --markers FILE: the study's moments, in video time
        recorder.add_marker(m.time_s, m.name, m.kind, m.end_s)
    pipeline.reset()
    reader = _Finder(_Reader(source, every), pipeline)
    t_start = time.perf_counter()
    done = last_index = 0
    last_yield = -progress_every_s
    cancelled = False
    try:
        while (item := reader.get()) is not None:
            if should_stop is not None and should_stop():
                cancelled = True
                break
            index, frame, found = item
            t = index / fps  # track by the video's time, not this machine's
            result = pipeline.process(frame, index, t=t, found=found)
            recorder.add(result, t)
            done, last_index = done + 1, index
            elapsed = time.perf_counter() - t_start
            if elapsed - last_yield >= progress_every_s:
                last_yield = elapsed
                yield AnalyzeProgress(done, max(total, done), elapsed)
    except GeneratorExit:  # the consumer dropped the generator: a cancel
        cancelled = True
        raise
    finally:
        reader.close()
        pipeline.reset()
        warning = None
        expected = source.frame_count
        missing = expected - (last_index + 1 if done else 0)
        # Headers round their frame count: only a gap of seconds is a truncated file.
        if not cancelled and expected > 0 and missing > max(2 * fps, 0.05 * expected):
            warning = (
                f"The video ends at frame {last_index + 1 if done else 0} of the {expected} its "
                "header announces: it is truncated or damaged; the rest was not analysed."
            )
        status = "cancelled" if cancelled else ("truncated" if warning else "finished")
        info = recorder.finish(frames_dropped=0, status=status)
    if recorder.error is not None:
        raise recorder.error
    wall = time.perf_counter() - t_start
    return AnalyzeResult(
        frames=done,
        duration_s=round((last_index + 1) / fps if done else 0.0, 3),
        fps_processed=round(done / wall, 2) if wall > 0 else 0.0,
        tracks=info["tracks"],
        csv=recorder.csv_path,
        video=recorder.video_path if info["outputs"]["video"] else None,
        folder=folder,
        cancelled=cancelled,
        session=info,
        warning=warning,
    )


def analyze_video(
    video: str | Path,
    pipeline,
    *,
    progress: Callable[[AnalyzeProgress], None] | None = None,
    **kwargs,
) -> AnalyzeResult:
    """Run `iter_analyze` to the end, calling `progress` after each frame."""
    return drain(iter_analyze(video, pipeline, **kwargs), progress)
