"""A batch job on a Dask cluster: the library, and a client that never hangs the job."""

from __future__ import annotations

import threading

from fer_desktop.core.support.errors import UserError
from fer_desktop.core.support.redaction import redact

CONNECT_DEADLINE_S = 30.0  # a Dask scheduler answers in well under a second


def dask_module():
    try:
        import distributed
    except ImportError as exc:
        raise UserError(
            "Running on a Dask cluster needs dask.distributed.",
            'Install it: pip install -e ".[cluster]" (or pip install distributed).',
        ) from exc
    return distributed


def connect(distributed, address: str, deadline_s: float = CONNECT_DEADLINE_S):
    """A Dask client, or one UserError: unreachable, a malformed address, or a server that
    accepts the connection and never answers (its own timeout does not cover the handshake: the
    job hung for ever, issue 28). Made in a daemon thread that is abandoned at the deadline."""
    hint = "Start it (dask scheduler) and its workers, then give its address, e.g. tcp://host:8786."
    box: dict = {}

    def make() -> None:
        try:
            box["client"] = distributed.Client(address, timeout="20s")
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=make, name="fer-dask-connect", daemon=True)
    thread.start()
    thread.join(deadline_s)
    if thread.is_alive():
        raise UserError(
            f"The Dask scheduler at {redact(address)} did not answer within {deadline_s:.0f} s "
            "(something accepts connections there, but not a scheduler that works).",
            hint,
        )
    exc = box.get("error")
    if isinstance(exc, OSError | ValueError | TypeError):  # ValueError: a malformed address
        raise UserError(
            f"Cannot reach the Dask scheduler at {redact(address)}: {redact(str(exc))}.", hint
        ) from exc
    if exc is not None:
        raise exc
    return box["client"]
