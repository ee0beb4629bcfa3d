"""Where a mediation session's media run (issue 13, item 6): the hub's own star of aiortc
peers (≤ `MAX_PARTICIPANTS`) or a room on Janus, the meetings' SFU.

`MediationConfig` is the `[mediation]` section of the hub's configuration; `place()` is
the pure choice, given how many parties (the console included) and whether the hub has a
Janus engine. A refusal (`PlacementRefused`) is said to the officer as it is, never
turned into a smaller session.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field

from dispatch.domain.strict import FROZEN
from dispatch.mediation.core import MAX_JANUS_PARTIES, MAX_PARTICIPANTS

Engine = Literal["hub", "janus"]


class MediationConfig(BaseModel):
    model_config = FROZEN

    engine: Literal["auto", "hub", "janus"] = Field(
        default="auto",
        description="auto: the hub's star up to janus_above parties, Janus beyond (when "
        "[janus] is configured); hub: always the star (≤ 6 parties); janus: always Janus",
    )
    janus_above: int = Field(
        default=MAX_PARTICIPANTS,
        ge=1,
        le=MAX_PARTICIPANTS,
        description="with auto: sessions of more parties than this (the console included) "
        "go to Janus; at most 6, what the hub's star carries",
    )


@dataclass(frozen=True)
class Placement:
    engine: Engine
    reason: str  # why (logged; English for the log)


class PlacementRefused(ValueError):
    """The session cannot be placed; the message (Chinese / English) is for the officer."""


def _no_janus(parties: int) -> PlacementRefused:
    return PlacementRefused(
        f"{parties} 方的调解需要 Janus 视频会议服务（本中心未配置 [janus]），内置模式最多 "
        f"{MAX_PARTICIPANTS} 方 / a mediation of {parties} parties needs Janus "
        f"([janus] is not configured); the hub's own star carries at most {MAX_PARTICIPANTS}"
    )


def place(cfg: MediationConfig, parties: int, *, janus: bool) -> Placement:
    """Hub or Janus for a session of `parties` (the console included); `janus`: the hub
    has a Janus engine. Raises `PlacementRefused` with the reason."""
    if parties > MAX_JANUS_PARTIES:
        raise PlacementRefused(
            f"调解最多 {MAX_JANUS_PARTIES} 方 / a mediation has at most {MAX_JANUS_PARTIES} parties"
        )
    if cfg.engine == "hub":
        if parties > MAX_PARTICIPANTS:
            raise PlacementRefused(
                f"内置模式最多 {MAX_PARTICIPANTS} 方（mediation.engine = hub）/ the hub's star "
                f"carries at most {MAX_PARTICIPANTS} parties (mediation.engine = hub)"
            )
        return Placement("hub", "mediation.engine = hub")
    if cfg.engine == "janus":
        if not janus:
            raise _no_janus(parties)
        return Placement("janus", "mediation.engine = janus")
    if parties <= cfg.janus_above:
        return Placement("hub", f"{parties} parties ≤ janus_above {cfg.janus_above}")
    if janus:
        return Placement("janus", f"{parties} parties > janus_above {cfg.janus_above}")
    if parties <= MAX_PARTICIPANTS:
        return Placement(
            "hub",
            f"{parties} parties > janus_above {cfg.janus_above} but no Janus is configured: "
            f"the hub's star (≤ {MAX_PARTICIPANTS})",
        )
    raise _no_janus(parties)
