"""The detector download calls only network failures a network problem."""

from __future__ import annotations

import errno
import socket

import httpx
import pytest

from fer_desktop.core.detectors.weights import download_error


@pytest.mark.parametrize(
    "exc",
    [
        httpx.ConnectError("[Errno 111] Connection refused"),
        httpx.ReadTimeout("timed out"),
        ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"),
        socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
        TimeoutError("timed out"),
    ],
)
def test_network_failures_are_network_problems(exc):
    err = download_error(exc)
    assert err is not None and "internet connection" in err.hint


def test_a_full_disk_is_not_a_network_problem():
    err = download_error(OSError(errno.ENOSPC, "No space left on device"))
    assert "No space left on device" in err.message and "disk space" in err.hint
    assert "internet" not in err.hint


def test_an_http_error_is_the_hubs_answer():
    from huggingface_hub.errors import HfHubHTTPError

    request = httpx.Request("GET", "https://huggingface.co/x")
    exc = HfHubHTTPError("503 Service Unavailable", response=httpx.Response(503, request=request))
    err = download_error(exc)
    assert "HTTP 503" in err.message and "internet" not in err.hint


@pytest.mark.parametrize("exc", [ValueError("bad"), KeyError("x"), TypeError("nope")])
def test_a_bug_is_not_disguised_as_a_network_problem(exc):
    assert download_error(exc) is None  # re-raised: shown as unexpected, traceback in the log
