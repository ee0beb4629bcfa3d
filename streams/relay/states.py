"""Typed states of a relay's upstreams (relay → hub → consoles), plain pydantic values.

A relay reports, for each camera stream it serves, whether it is pulling it (`idle`: nobody
watches; `connecting`; `live`; `failed` with the last error, retried with backoff), and how
many clients watch it. It travels as JSON from the relay to the hub's
`POST /api/v1/relay_states` and from the hub to the consoles.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from streams.patrol.types import ID_PATTERN


class UpstreamState(StrEnum):
    IDLE = "idle"  # nobody watches it: not pulled
    CONNECTING = "connecting"
    LIVE = "live"
    FAILED = "failed"  # the last error says why; retried with backoff while watched


class Upstream(BaseModel):
    """One camera stream as a relay pulls it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    camera: str = Field(min_length=1, max_length=64, pattern=ID_PATTERN)
    stream: Literal["main", "sub", "third"]
    state: UpstreamState
    error: str = Field(default="", max_length=500, description="the last error (failed), no URL")
    clients: int = Field(default=0, ge=0, description="RTSP sessions watching it now")
    since: AwareDatetime = Field(description="when it entered this state")


class RelayReport(BaseModel):
    """Every upstream of one relay, as it is now (the whole list each time)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    relay: str = Field(min_length=1, max_length=64, pattern=ID_PATTERN)
    at: AwareDatetime
    every_s: float = Field(
        default=10.0, gt=0, le=3600, description="the relay reports at least this often"
    )
    upstreams: list[Upstream] = Field(max_length=20000)
