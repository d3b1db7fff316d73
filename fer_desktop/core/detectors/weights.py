"""Where the YOLOv8 face weights are: the Hugging Face cache, the bundle, or a download on request.

The factory (`factory.py`) asks here and hands the path to the detector. Nothing here goes online
unless the user asks for the download (`fetch_yolo_weights`), and nothing imports torch.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from fer_desktop.core.support.errors import UserError
from fer_desktop.core.support.resources import resource_path

YOLO_REPO_ID = "arnabdhar/YOLOv8-Face-Detection"
YOLO_FILENAME = "model.pt"
BUNDLED_YOLO_NAME = "yolov8-face.pt"  # optional: resources/detectors/yolov8-face.pt in a bundle


def _env_true(value: str | None) -> bool:
    return (value or "").strip().upper() in {"1", "ON", "YES", "TRUE", "Y", "T"}


def _hub_offline() -> bool:
    """HF_HUB_OFFLINE as set now (huggingface_hub reads it only once, at import)."""
    value = os.environ.get("HF_HUB_OFFLINE")
    if value is None:
        value = os.environ.get("TRANSFORMERS_OFFLINE")
    if value is not None:
        return _env_true(value)
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)


def _hub_cache_dir() -> str | None:
    """HF_HUB_CACHE as set now; None lets huggingface_hub use its default."""
    value = os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE")
    if value:
        return os.path.expandvars(os.path.expanduser(value))
    home = os.environ.get("HF_HOME")
    if home:
        return os.path.join(os.path.expandvars(os.path.expanduser(home)), "hub")
    return None


def not_downloaded_error() -> UserError:
    return UserError(
        "YOLOv8 face weights are not downloaded.",
        "Until they are, the app uses the offline detector (YuNet); connect to the internet and "
        "choose Fetch YOLOv8 face detector… to download them (about 6 MB).",
    )


def yolo_weights_cached() -> Path | None:
    """The YOLOv8 face weights from the Hugging Face cache, or None; never goes online.

    `try_to_load_from_cache` only reads the cache folder: `hf_hub_download(local_files_only=True)`
    still opens a connection in huggingface_hub 2.x."""
    from huggingface_hub import try_to_load_from_cache

    try:
        path = try_to_load_from_cache(
            repo_id=YOLO_REPO_ID, filename=YOLO_FILENAME, cache_dir=_hub_cache_dir()
        )
    except (OSError, ValueError):
        return None
    if not isinstance(path, str):  # None (not cached) or the "known missing" marker
        return None
    p = Path(path)
    return p if p.is_file() else None


def _reachable(host: str = "huggingface.co", port: int = 443, timeout: float = 5.0) -> None:
    """Fail fast, with the usual message, when the Hub cannot be reached (offline, no DNS):
    the download library's own retries take half a minute to say the same."""
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as e:
        raise _network_error(e) from e


def bundled_yolo_weights() -> Path | None:
    """`resources/detectors/yolov8-face.pt` when a bundle ships it."""
    p = resource_path("detectors", BUNDLED_YOLO_NAME)
    return p if p.is_file() else None


def yolo_available() -> bool:
    """True when YOLO weights are usable without a download (cached or bundled)."""
    return yolo_weights_cached() is not None or bundled_yolo_weights() is not None


def _network_error(e: BaseException) -> UserError:
    return UserError(
        f"Could not download the YOLOv8 face weights from Hugging Face ({type(e).__name__}).",
        "Check the internet connection (and proxy settings), then choose Fetch YOLOv8 face "
        "detector… again. Meanwhile the app uses the offline detector.",
    )


def _network_exceptions() -> tuple[type[BaseException], ...]:
    """Exceptions that mean "the network failed": sockets, and the HTTP clients' transport errors."""
    kinds: list[type[BaseException]] = [ConnectionError, TimeoutError, socket.gaierror]
    try:
        import httpx  # huggingface_hub >= 1.0

        kinds.append(httpx.TransportError)
    except ImportError:
        pass
    try:
        import requests  # huggingface_hub < 1.0

        kinds += [requests.exceptions.ConnectionError, requests.exceptions.Timeout]
    except ImportError:
        pass
    return tuple(kinds)


def download_error(e: BaseException) -> UserError | None:
    """What to tell the user about a failed download, or None for a bug (it stays unexpected).

    Only network failures are called a network problem; a full or read-only disk says so; an
    HTTP error is the Hub's answer, not the user's connection.
    """
    if isinstance(e, _network_exceptions()):
        return _network_error(e)
    status = getattr(getattr(e, "response", None), "status_code", None)
    if status is not None:
        return UserError(
            f"Hugging Face answered HTTP {status} for the YOLOv8 face weights.",
            "Try again later, or download a YOLOv8 face model (.pt) yourself and choose it as a "
            "local file. Meanwhile the app uses the offline detector.",
        )
    if isinstance(e, OSError):
        return UserError(
            f"Cannot save the YOLOv8 face weights: {e.strerror or e}.",
            "Free some disk space or set HF_HUB_CACHE to a writable folder, then try again.",
        )
    return None


def fetch_yolo_weights() -> Path:
    """Download the YOLOv8 face weights (or return the cached copy); for the Fetch button."""
    from huggingface_hub import hf_hub_download

    if _hub_offline():
        cached = yolo_weights_cached()
        if cached is not None:
            return cached
        raise UserError(
            "Cannot download the YOLOv8 face weights: Hugging Face offline mode is on.",
            "Unset the HF_HUB_OFFLINE environment variable, connect to the internet and choose "
            "Fetch YOLOv8 face detector… again. Meanwhile the app uses the offline detector.",
        )
    try:
        from huggingface_hub.errors import (
            EntryNotFoundError,
            LocalEntryNotFoundError,
            RepositoryNotFoundError,
            RevisionNotFoundError,
        )
    except ImportError:  # huggingface_hub < 0.24
        from huggingface_hub.utils import (
            EntryNotFoundError,
            LocalEntryNotFoundError,
            RepositoryNotFoundError,
            RevisionNotFoundError,
        )

    _reachable()
    try:
        path = hf_hub_download(
            repo_id=YOLO_REPO_ID, filename=YOLO_FILENAME, cache_dir=_hub_cache_dir()
        )
    except LocalEntryNotFoundError as e:  # no connection / Hub down, and nothing cached
        raise _network_error(e) from e
    except (RepositoryNotFoundError, RevisionNotFoundError, EntryNotFoundError) as e:
        raise UserError(
            f"The Hugging Face repository {YOLO_REPO_ID} does not offer {YOLO_FILENAME} "
            f"({type(e).__name__}).",
            "Download a YOLOv8 face model (.pt) yourself and choose it as a local file. "
            "Meanwhile the app uses the offline detector.",
        ) from e
    except Exception as e:
        err = download_error(e)
        if err is None:
            raise  # not the network, not the disk: a bug, reported with its traceback
        raise err from e
    return Path(path)


def find_yolo_weights(download: bool = False) -> Path:
    """The YOLOv8 face weights: Hugging Face cache, else bundled, else (if allowed) a download."""
    path = yolo_weights_cached() or bundled_yolo_weights()
    if path is not None:
        return path
    if not download:
        raise not_downloaded_error()
    return fetch_yolo_weights()
