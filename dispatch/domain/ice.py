"""The ICE servers a console is handed on the wire (issue 12: TURN through NAT).

`IceInfo` travels in the LoginReply, the mediation and roll-call replies and the
`IceReply` of a refresh: the STUN/TURN servers (TURN with credentials minted for this
console, `dispatch.hub.turn`), whether only relay candidates may be used, and when the
credentials expire (the console asks again before that). Pure data: the hub turns its
ICE plan into it and the console turns it back (`dispatch.hub.turn.ice_info/plan_of`).
"""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, Field

from dispatch.domain.strict import FROZEN


class IceServerInfo(BaseModel):
    model_config = FROZEN

    urls: list[str] = Field(min_length=1, max_length=8)
    username: str | None = Field(default=None, max_length=513)
    credential: str | None = Field(default=None, max_length=256)


class IceInfo(BaseModel):
    model_config = FROZEN

    servers: list[IceServerInfo] = Field(default_factory=list, max_length=16)
    relay_only: bool = False
    expires_at: AwareDatetime | None = None  # of the minted TURN credentials
