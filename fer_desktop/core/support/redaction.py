"""Secrets stay secret: stream passwords redacted from whatever is shown, logged or written.

No imports beyond the standard library: settings, logging and the UI all use it.
"""

from __future__ import annotations

import re

_CREDENTIALS = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^/@\s:]*)(?::[^/\s]*)?@"
)


def redact(text: str) -> str:
    """`text` with the password of every URL in it replaced: rtsp://admin:S3cret@cam/ ->
    rtsp://admin:***@cam/. What is shown, logged or written names a stream this way."""
    return _CREDENTIALS.sub(
        lambda m: f"{m['scheme']}{m['user']}:***@" if m.group(0).count(":") > 1 else m.group(0),
        str(text),
    )
