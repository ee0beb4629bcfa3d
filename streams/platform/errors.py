"""Typed errors of a platform source: every failure the caller may act on differently."""

from __future__ import annotations


class PlatformError(Exception):
    """The platform answered with an error (its code and message are kept)."""

    def __init__(self, message: str, *, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class PlatformUnreachable(PlatformError):
    """No answer: connection refused, time-out, or a 5xx from the platform's front."""


class PlatformAuthError(PlatformError):
    """The platform refused the credentials (login failed or the token was refused twice)."""


class PlatformProtocolError(PlatformError):
    """The answer is not the documented shape (not JSON, a missing or mistyped field)."""
