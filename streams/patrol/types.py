"""Typed results of the camera health patrol (shared by the patrol, the hub and the console).

A `CameraCheck` is one sample of one camera: online or offline with the reason, and
the diagnosis findings (fault -> score, 1.0 or more meaning the fault is present), or
not checked (未巡检: no verdict, reason `not_checked`, for causes not the camera's).
It travels as JSON (pydantic) from the patrol to the hub's `POST /api/v1/camera_checks`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"  # the hub's id rule (dispatch.domain.model)


class OfflineReason(StrEnum):
    NONE = ""  # online
    REFUSED = "refused"  # connection refused: nothing listens
    TIMEOUT = "timeout"  # no answer or no data in time
    AUTH = "auth"  # credentials refused
    NOT_FOUND = "not_found"  # no such stream path
    NO_KEYFRAME = "no_keyframe"  # connected, but no key frame came
    NO_VIDEO = "no_video"  # connected, but the stream has no video (audio only)
    ERROR = "error"  # anything else (the detail says what)
    NOT_CHECKED = "not_checked"  # no verdict: the relay or the patrol could not get a
    # picture in time for reasons not the camera's (overloaded, relay down); the detail says


REASON_LABELS_ZH: dict[OfflineReason, str] = {
    OfflineReason.NONE: "在线",
    OfflineReason.REFUSED: "连接被拒绝",
    OfflineReason.TIMEOUT: "连接超时",
    OfflineReason.AUTH: "认证失败",
    OfflineReason.NOT_FOUND: "码流不存在",
    OfflineReason.NO_KEYFRAME: "无关键帧",
    OfflineReason.NO_VIDEO: "无视频流",
    OfflineReason.ERROR: "其他错误",
    OfflineReason.NOT_CHECKED: "未巡检",
}


class CameraCheck(BaseModel):
    """One patrol sample of one camera."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    camera: str = Field(min_length=1, max_length=64, pattern=ID_PATTERN)
    at: AwareDatetime
    online: bool
    reason: OfflineReason = OfflineReason.NONE
    detail: str = Field(default="", max_length=500)
    faults: dict[str, float] = Field(
        default_factory=dict, description="detected faults (quality.Fault value) -> score"
    )
    scores: dict[str, float] = Field(
        default_factory=dict, description="every judged fault -> score (for the history)"
    )
    snapshot: str = Field(default="", max_length=1000, description="path of this sample's picture")
    seconds: float = Field(default=0.0, ge=0.0, description="time the sample took")

    @property
    def healthy(self) -> bool:
        return self.online and not self.faults

    @property
    def checked(self) -> bool:
        """A verdict on the camera (online or offline); False: 未巡检, no verdict at all,
        neither healthy nor in trouble (`reason` NOT_CHECKED, the detail says why)."""
        return self.online or self.reason is not OfflineReason.NOT_CHECKED


class CheckBatch(BaseModel):
    """The body of `POST /api/v1/camera_checks`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    checks: list[CameraCheck] = Field(max_length=5000)


def check_at(check: CameraCheck) -> datetime:
    return check.at
