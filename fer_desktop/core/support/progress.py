"""Long jobs as generators: they yield progress and return their result; `drain` runs one to the
end for callers that want a plain call with a progress callback (the CLI)."""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import TypeVar

P = TypeVar("P")
R = TypeVar("R")


def drain(gen: Generator[P, None, R], progress: Callable[[P], None] | None = None) -> R:
    """Run `gen` to its end, calling `progress` with each value it yields; returns its result."""
    while True:
        try:
            step = next(gen)
        except StopIteration as stop:
            return stop.value
        if progress is not None:
            progress(step)
