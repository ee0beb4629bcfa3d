"""A console cut from the hub (issue 16, part 2): a real hub in the "hub" namespace, a
console's client on the county LAN namespace, the LAN link taken down (`ip link set
eth0 down` on the console's side) for CUT_S seconds while events keep coming in and
change. The client reports LOST (what the event queue's lost-hub banner shows:
`tests/unit/console/events/test_event_queue_panel.py` covers the banner for that state)
within its `lost_after_s`; when the link is back it is CONNECTED again and its view
holds every event in its latest version, at the hub's last seq: no change missing.

The issue asks for a 60 s cut; the suite cuts for `HALL_TEST_CUT_S` seconds (default
10, so the test stays well under a minute; `HALL_TEST_CUT_S=60` for the full length)."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from dispatch.client.connection import HubClient
from dispatch.client.state import ConnectionState, ConnectionStatus
from dispatch.domain.model import Action
from dispatch.hub.demo import DEMO_API_KEY
from tests.kit.hub import client_keys
from tests.kit.netns import Netns, NsLoop, call_in
from tests.kit.netns_hub import NsHub

pytestmark = pytest.mark.integration

CUT_S = float(os.environ.get("HALL_TEST_CUT_S", "10"))


def post_in_hub_ns(netns: Netns, hub: NsHub, ref: str) -> str:
    """An intake report made on the hub's own host (the LAN is what is cut)."""
    body = {
        "source": "grid_report",
        "source_ref": ref,
        "category": "neighbours",
        "priority": "routine",
        "title": "断网期间上报",
        "place": {"township": "t01", "village": "v01", "grid": "v01g1"},
    }
    req = urllib.request.Request(
        hub.lan_url("/api/v1/events"),
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "X-Api-Key": DEMO_API_KEY},
        method="POST",
    )

    def send() -> str:
        with urllib.request.urlopen(req, timeout=10, context=hub.ssl_context()) as resp:
            return str(json.loads(resp.read())["id"])

    return call_in(netns.name("hub"), send)


def link(netns: Netns, state: str) -> None:
    subprocess.run(
        ["ip", "-n", netns.name("county"), "link", "set", "eth0", state],
        check=True,
        capture_output=True,
        timeout=30,
    )


def test_a_console_cut_off_sees_lost_then_resyncs_with_nothing_missing(
    netns: Netns, tmp_path: Path
) -> None:
    hub = NsHub(netns, f"sqlite:///{tmp_path / 'hall.db'}", data_dir=tmp_path)
    county = NsLoop(netns, "county")
    states: list[ConnectionState] = []
    client: list[HubClient] = []
    try:
        hub.start(timeout_s=90)
        county.start()

        async def login() -> None:
            c = HubClient(
                hub.req_endpoint,
                hub.pub_endpoint,
                keys=client_keys(hub),
                workstation="test-console",
                on_change=lambda ch: None,
                on_connection=states.append,
            )
            client.append(c)
            await c.start()
            await c.login("duty", "duty123")

        county.run(login())
        c = client[0]
        before = [post_in_hub_ns(netns, hub, f"cut-before-{i}") for i in range(5)]
        deadline = time.monotonic() + 20
        while not set(before) <= set(county.run(_view(c))):
            assert time.monotonic() < deadline, "the console never saw the first events"
            time.sleep(0.1)

        link(netns, "down")
        cut_at = time.monotonic()
        during = [post_in_hub_ns(netns, hub, f"cut-during-{i}") for i in range(10)]
        _act_in_hub(netns, hub, before[0])  # an event the console has changes meanwhile
        while not any(s.status is ConnectionStatus.LOST for s in states):
            assert time.monotonic() - cut_at < c.lost_after_s + 10, states
            time.sleep(0.1)
        lost_after = time.monotonic() - cut_at
        time.sleep(max(0.0, CUT_S - (time.monotonic() - cut_at)))
        link(netns, "up")
        back_at = time.monotonic()
        while states[-1].status is not ConnectionStatus.CONNECTED:
            assert time.monotonic() - back_at < 30, states[-3:]
            time.sleep(0.1)
        view: dict[str, Any] = {}
        while time.monotonic() - back_at < 30:
            view = county.run(_view(c))
            if set(before + during) <= set(view) and view[before[0]].state.value == "registered":
                break
            time.sleep(0.2)
        assert set(before + during) <= set(view), set(before + during) - set(view)
        assert view[before[0]].state.value == "registered"  # its change made while cut
        assert c.last_seq == county.run(_hub_seq(c))
        assert lost_after < c.lost_after_s + 5, lost_after
    finally:
        link(netns, "up")
        if client:
            county.run(client[0].stop())
        county.stop()
        hub.stop()


async def _view(c: HubClient) -> dict[str, Any]:
    return dict(c.events.view())


async def _hub_seq(c: HubClient) -> int:
    return (await c.ping()).seq


def _act_in_hub(netns: Netns, hub: NsHub, event_id: str) -> None:
    """Register `event_id` through a second console on the hub's own host."""
    loop = NsLoop(netns, "hub")
    loop.start()

    async def act() -> None:
        other = HubClient(
            hub.req_endpoint,
            hub.pub_endpoint,
            keys=client_keys(hub),
            workstation="test-console",
            on_change=lambda ch: None,
            on_connection=lambda st: None,
        )
        await other.start()
        try:
            await other.login("leader", "leader123")
            await other.events.act(event_id, Action.REGISTER)
        finally:
            await other.stop()

    try:
        loop.run(act())
    finally:
        loop.stop()
