"""How an ingest failure maps to a camera state, and texts scrubbed of credentials. Pure.

PyAV puts the URL, credentials included, into its error messages: `classify_error`
gives the officer a short text without it, `redact` scrubs any text that may hold one.
What happens next in each state (how long to wait) is `streams.ingest.backoff`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlsplit

import av.error

from streams.ingest.types import CameraState


class IngestError(Exception):
    """A camera's stream cannot be used (e.g. it has no video)."""


class NoVideoError(IngestError):
    """The camera answered, but its stream carries no video (audio only, or no track)."""


class OpenTimeoutError(IngestError):
    """The camera accepted the connection but did not answer within the open timeout."""


_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]*@")


def redact(text: str, secrets: Sequence[str] = ()) -> str:
    """`text` without URL user info and without any of `secrets` (passwords, user names)."""
    out = _USERINFO.sub(r"\g<scheme>", text)
    for secret in secrets:
        if secret:
            out = out.replace(secret, "***")
    return out


def url_secrets(url: str) -> tuple[str, ...]:
    """The user name and password in `url`, if any (to scrub them from error texts)."""
    parts = urlsplit(url)
    return tuple(s for s in (parts.password, parts.username) if s)


def classify_error(exc: BaseException) -> tuple[CameraState, str]:
    """The state a failure puts the camera in, and a short text for the officer.

    The text never contains the URL (PyAV puts the URL, with credentials, in its messages).
    """
    if isinstance(exc, av.error.HTTPUnauthorizedError | av.error.HTTPForbiddenError):
        return CameraState.AUTH_FAILED, "authentication failed (wrong user name or password)"
    if isinstance(exc, av.error.HTTPNotFoundError):
        return CameraState.NOT_FOUND, "stream not found on the camera (404)"
    if isinstance(exc, NoVideoError):
        return CameraState.NO_VIDEO, "the camera's stream has no video (audio only or empty)"
    if isinstance(exc, OpenTimeoutError):
        return CameraState.STALLED, str(exc)
    if isinstance(exc, av.error.ExitError | TimeoutError):
        return CameraState.STALLED, "no data from the camera within the timeout"
    if isinstance(exc, ConnectionRefusedError):
        return CameraState.OFFLINE, "connection refused"
    if isinstance(exc, ConnectionError):
        return CameraState.OFFLINE, f"connection lost ({_strerror(exc)})"
    if isinstance(exc, EOFError):
        return CameraState.OFFLINE, "end of stream"
    if isinstance(exc, av.error.HTTPError | av.error.HTTPClientError):
        return CameraState.OFFLINE, f"camera answered with an error ({_strerror(exc)})"
    if isinstance(exc, OSError | av.error.FFmpegError):
        return CameraState.OFFLINE, f"{type(exc).__name__}: {_strerror(exc)}"
    if isinstance(exc, IngestError):
        return CameraState.OFFLINE, str(exc)
    return CameraState.OFFLINE, f"unexpected error {type(exc).__name__}"


def _strerror(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return str(exc.strerror)
    if isinstance(exc, av.error.FFmpegError) and exc.strerror:
        return str(exc.strerror)
    return type(exc).__name__
