"""Typed messages of the camera health patrol.

HTTP bodies: `SubmitReply` (to `POST /api/v1/camera_checks`), `HealthReply` and
`HistoryReply` (of `GET /api/v1/camera_health` and `GET /api/v1/camera_checks`).
zmq, for the console's health panel (any logged-in operator): `CameraHealthRequest` →
`CameraHealthReply` (the newest sample of every camera, its last good picture, its open
fault event) and `CameraHistoryRequest(camera, limit)` → `CameraHistoryReply`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from dispatch.domain.strict import FROZEN
from dispatch.domain.wire import WireMessage
from streams.patrol.types import CameraCheck


class _Body(BaseModel):
    model_config = FROZEN


class SubmitReply(_Body):
    stored: int
    raised: list[str] = Field(description="ids of camera-fault events raised by this batch")
    recovered: list[str] = Field(description="ids of camera-fault events marked recovered")


class CameraHealth(_Body):
    check: CameraCheck
    last_good: str
    open_event: str | None


class HealthReply(_Body):
    cameras: list[CameraHealth]


class HistoryReply(_Body):
    camera: str
    checks: list[CameraHealth]


class CameraHealthRequest(WireMessage):
    type: Literal["camera_health"] = "camera_health"
    rid: str = Field(min_length=1, max_length=64)
    token: str


class CameraHealthReply(WireMessage):
    type: Literal["camera_health_ok"] = "camera_health_ok"
    rid: str
    cameras: list[CameraHealth]


class CameraHistoryRequest(WireMessage):
    type: Literal["camera_history"] = "camera_history"
    rid: str = Field(min_length=1, max_length=64)
    token: str
    camera: str = Field(min_length=1, max_length=64)
    limit: int = Field(default=200, ge=1, le=5000)


class CameraHistoryReply(WireMessage):
    type: Literal["camera_history_ok"] = "camera_history_ok"
    rid: str
    camera: str
    checks: list[CameraHealth]
