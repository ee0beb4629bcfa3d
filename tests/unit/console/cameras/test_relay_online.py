"""The relays' reports as online states: live counts, failed counts down, idle says nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from console.cameras.online import relay_online
from streams.relay.states import RelayReport, Upstream, UpstreamState

Stream = Literal["main", "sub", "third"]


def report(relay: str, *ups: tuple[str, Stream, UpstreamState]) -> RelayReport:
    now = datetime.now(UTC)
    return RelayReport(
        relay=relay,
        at=now,
        upstreams=[Upstream(camera=c, stream=s, state=st, since=now) for c, s, st in ups],
    )


def test_relay_online() -> None:
    view = {
        "r1": report(
            "r1",
            ("a", "sub", UpstreamState.LIVE),
            ("b", "sub", UpstreamState.FAILED),
            ("c", "sub", UpstreamState.IDLE),
            ("d", "main", UpstreamState.FAILED),
            ("d", "sub", UpstreamState.LIVE),  # one stream live: the camera is online
        ),
        "r2": report("r2", ("e", "sub", UpstreamState.LIVE)),
    }
    assert relay_online(view) == {"a": True, "b": False, "d": True, "e": True}
    assert relay_online(view, lambda r: r == "r2") == {"a": True, "b": False, "d": True}
