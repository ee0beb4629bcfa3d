"""The `[positions]` section of `HubConfig` (`dispatch.hub.config`): grid leaders'
positions shared from the phone page (`dispatch.positions`)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, Field

from dispatch.domain.strict import FROZEN


class PositionsConfig(BaseModel):
    model_config = FROZEN

    max_age_min: float = Field(
        default=120.0,
        gt=0,
        le=7 * 24 * 60,
        description="minutes after which a shared position is no longer shown on the "
        "consoles' maps (faded from half that age)",
    )
    min_interval_s: float = Field(
        default=10.0,
        ge=0,
        le=3600,
        description="a fix sooner than this after a person's last stored one is not "
        "stored again (the page sends at most one a minute, plus one per task action)",
    )

    def max_age(self) -> timedelta:
        return timedelta(minutes=self.max_age_min)
