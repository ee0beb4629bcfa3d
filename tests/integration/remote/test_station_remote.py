"""A duty station in a village behind NAT, in real headless Chromium: it opens the
station page by host name (`hub.test`), answers a roll call, and the hall (the console
on the county LAN) joins. The page's selected candidate pair is a TURN relay (the
village has no other way to the hub's media) carrying media both ways, the hall paints
in the page and the station's picture reaches the hall.

The page is served over HTTPS; Chromium trusts the hub's own CA by its SPKI hash."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.integration.remote.test_remote_support import Rig, chromium_in, station_call
from tests.kit.netns import HUB_PUBLIC, TURN, Netns

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def test_village_station_answers_through_turn(netns: Netns, tmp_path: Path) -> None:
    rig = Rig(netns, tmp_path)
    rig.start()

    async def scenario() -> None:
        async with chromium_in(netns, "village", tmp_path / "chromium", rig.page_args()) as browser:
            res = await station_call(rig, browser, "t01")
            assert res.https  # over TLS with the hub's own CA, a secure context
            pair = res.pair
            assert pair["local"] == "relay" and pair["local_address"] == TURN, pair
            assert pair["remote_address"] == HUB_PUBLIC, pair
            assert pair["sent"] > 0 and pair["received"] > 0, pair
            assert res.page_fps > 5 and res.hall_fps > 5, res

    try:
        asyncio.run(asyncio.wait_for(scenario(), 180))
    finally:
        rig.stop()
