"""The hub keeps each relay's last report and publishes it only when it changed; a relay
the site does not list is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import TypeAdapter

from dispatch.domain.site import parse_site
from dispatch.domain.wire import decode_with
from dispatch.relays.messages import RelayStatesChanged
from dispatch.relays.service import RelaysService, UnknownRelay
from streams.relay.states import RelayReport, Upstream, UpstreamState

T0 = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
SITE = parse_site(
    {
        "name": "县",
        "townships": [{"id": "t1", "name": "甲镇"}],
        "relays": [{"id": "r1", "url": "rtsp://relay1:8554", "townships": ["t1"]}],
    }
)


def report(state: UpstreamState, at: datetime = T0, relay: str = "r1") -> RelayReport:
    up = Upstream(camera="cam1", stream="sub", state=state, since=T0)
    return RelayReport(relay=relay, at=at, upstreams=[up])


def test_publishes_changes_only_with_following_seqs() -> None:
    frames: list[bytes] = []
    svc = RelaysService(SITE, frames.append, lambda: T0)
    assert svc.submit(report(UpstreamState.LIVE))
    assert not svc.submit(report(UpstreamState.LIVE, T0 + timedelta(seconds=10)))
    assert svc.submit(report(UpstreamState.FAILED))
    adapter: TypeAdapter[RelayStatesChanged] = TypeAdapter(RelayStatesChanged)
    msgs = [decode_with(adapter, f) for f in frames]
    assert [m.report.upstreams[0].state for m in msgs] == ["live", "failed"]
    assert msgs[1].seq == msgs[0].seq + 1
    assert svc.reports()[0].at == T0  # the newest report is kept, changed or not
    assert svc.seq == msgs[1].seq


def test_unknown_relay_is_refused() -> None:
    svc = RelaysService(SITE, lambda _f: None, lambda: T0)
    with pytest.raises(UnknownRelay):
        svc.submit(report(UpstreamState.LIVE, relay="r9"))


def test_a_silent_relay_is_published_stale_once_then_fresh_again() -> None:
    frames: list[bytes] = []
    now = [100.0]
    svc = RelaysService(SITE, frames.append, lambda: T0, monotonic=lambda: now[0])
    live = report(UpstreamState.LIVE)  # every_s 10: stale after 30 s of silence
    svc.submit(live)
    now[0] += 29.0
    assert svc.sweep() == [] and svc.stale() == []
    now[0] += 2.0
    assert svc.sweep() == ["r1"] and svc.stale() == ["r1"]
    assert svc.sweep() == []  # told once
    assert svc.submit(live)  # same upstreams, but it was stale: published again
    assert svc.stale() == []
    adapter: TypeAdapter[RelayStatesChanged] = TypeAdapter(RelayStatesChanged)
    assert [decode_with(adapter, f).stale for f in frames] == [False, True, False]
