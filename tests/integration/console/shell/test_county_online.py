"""The tree's online counts follow the relays' states through a real hub: a relay's report
posted to `hall-hub` reaches a logged-in console's `OnlineSources` (and the tree's
counts), not only what the wall decodes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from console.cameras.feeds import RelayFeed
from console.cameras.online import OnlineSources
from console.cameras.panel import CameraTreePanel
from console.cameras.tree import build_tree
from console.events.controller import LoginOutcome
from console.events.wiring import EventQueue
from dispatch.domain.site import parse_site
from dispatch.domain.sitegen import CountySpec, county_site, site_toml
from dispatch.hub.process import HubProcess
from dispatch.relays.runner import HubReporter
from streams.relay.states import RelayReport, Upstream, UpstreamState
from tests.kit import pump_until
from tests.kit.hub import HUB_API_KEY, StartHub, client_keys

pytestmark = pytest.mark.integration

SPEC = CountySpec(cameras=60, townships=4, villages=8, relays=2)


@pytest.fixture
def county_hub(start_hub: StartHub, tmp_path: Path) -> HubProcess:
    site = tmp_path / "county.toml"
    site.write_text(site_toml(county_site(SPEC)), encoding="utf-8")
    return start_hub(site=site, demo=True)


@pytest.fixture
def queue(qapp: QApplication, county_hub: HubProcess) -> Iterator[EventQueue]:
    q = EventQueue.for_hub(
        county_hub.req_endpoint, county_hub.pub_endpoint, keys=client_keys(county_hub)
    )
    q.start()
    yield q
    q.stop()
    assert not q.bridge.errors


def up(camera: str, state: UpstreamState) -> Upstream:
    return Upstream(camera=camera, stream="sub", state=state, since=datetime.now(UTC))


def test_relay_states_count_in_the_tree(
    qapp: QApplication, county_hub: HubProcess, queue: EventQueue
) -> None:
    site = parse_site(county_site(SPEC))
    relay1 = site.relays[0]
    served = [c.id for c in site.cameras if c.township in relay1.townships]
    live, failed, idle = served[0], served[1], served[2]
    sources = OnlineSources()
    sources.set_patrol({failed: True, idle: True})  # an older patrol sample said online
    feed = RelayFeed(sources, queue.model, lambda: queue.controller.client, queue.net, queue.bridge)
    feed.start()
    out: list[LoginOutcome] = []
    queue.controller.login("duty", "duty123", "席位A", out.append)
    pump_until(lambda: bool(out), 15, what="login answered")
    assert out[0].ok
    report = RelayReport(
        relay=relay1.id,
        at=datetime.now(UTC),
        upstreams=[
            up(live, UpstreamState.LIVE),
            up(failed, UpstreamState.FAILED),
            up(idle, UpstreamState.IDLE),
        ],
    )
    reporter = HubReporter(county_hub.http_url, HUB_API_KEY, ssl_context=county_hub.ssl_context())
    assert reporter.post(report), reporter.last_error
    pump_until(lambda: sources.online({}) == {live, idle}, 10, what="relay states at the console")
    panel = CameraTreePanel(build_tree(site))
    panel.set_online(sources.online({}))
    town = site.camera(live).township
    assert panel.online_total() == (2, 60)
    assert f"（{1 + (site.camera(idle).township == town)}/" in panel.text(f"township:{town}")
    feed.stop()
    feed.stop()
