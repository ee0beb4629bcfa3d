"""The interface every platform's API implements (WVP first; others beside it)."""

from __future__ import annotations

from typing import Protocol

from streams.platform.models import Catalogue, StreamUrls


class PlatformSource(Protocol):
    """A video platform's catalogue and stream URLs. Errors: `streams.platform.errors`."""

    name: str

    async def start(self) -> None:
        """Open the HTTP session (safe to call twice)."""

    async def stop(self) -> None:
        """Close the session (safe to call twice)."""

    async def catalogue(self) -> Catalogue:
        """Every device and channel, read afresh."""

    async def play(self, device_id: str, channel_id: str) -> StreamUrls:
        """Ask the platform for a channel's stream URLs (they expire: ask again then)."""
