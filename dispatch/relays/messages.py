"""Wire types of the camera relays' states.

A relay posts its `RelayReport` (`streams.relay.states`: every upstream's state, error and
clients) to `POST /api/v1/relay_states` whenever one changes and every few seconds. The
hub keeps the last report of each relay in memory and publishes `RelayStatesChanged` when
a relay's upstreams changed, with the relays' own `seq` (monotonic over the hub's life,
from the wall clock in milliseconds): a console that sees a gap asks again with
`RelayStatesRequest` → `RelayStatesReply` (every relay's last report, any logged-in
operator). A relay that sent nothing for three of its report intervals (`every_s`, at
least `STALE_MIN_S`) is `stale`: its last report is published again with `stale = True`
(its states are then unknown, not live), and again with `stale = False` when it reports.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from dispatch.domain.strict import FROZEN
from dispatch.domain.wire import WireMessage
from streams.relay.states import RelayReport


class AcceptedReply(BaseModel):
    """The hub's answer to a relay's report."""

    model_config = FROZEN

    accepted: int = Field(description="upstreams in the report")
    changed: bool = Field(description="whether consoles were told")


class RelayStatesRequest(WireMessage):
    type: Literal["relay_states"] = "relay_states"
    rid: str = Field(min_length=1, max_length=64)
    token: str


class RelayStatesReply(WireMessage):
    type: Literal["relay_states_ok"] = "relay_states_ok"
    rid: str
    seq: int
    relays: list[RelayReport]
    stale: list[str] = Field(default_factory=list, description="relays that stopped reporting")


class RelayStatesChanged(WireMessage):
    type: Literal["relay_states_changed"] = "relay_states_changed"
    seq: int
    report: RelayReport
    stale: bool = Field(default=False, description="the relay stopped reporting")
