"""The `[ptz]` section of `HubConfig` (`dispatch.hub.config`): who may move PTZ
cameras, who may take one over, and how long a hold lasts (`dispatch.ptz`)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, Field

from dispatch.domain.model import Role
from dispatch.domain.strict import FROZEN
from dispatch.ptz.core import Rules


class PtzConfig(BaseModel):
    model_config = FROZEN

    hold_s: float = Field(
        default=60.0,
        gt=0,
        le=3600,
        description="seconds a camera stays held by the operator who last moved it",
    )
    move_roles: list[Role] = Field(
        default_factory=lambda: [Role.DUTY_OFFICER, Role.SUPERVISOR],
        description="roles that may move PTZ cameras (others are refused)",
    )
    takeover_roles: list[Role] = Field(
        default_factory=lambda: [Role.SUPERVISOR],
        description="roles that may take a camera another operator holds",
    )

    def rules(self) -> Rules:
        return Rules(
            hold=timedelta(seconds=self.hold_s),
            move_roles=frozenset(self.move_roles),
            takeover_roles=frozenset(self.takeover_roles),
        )
