"""A platform's cameras through a real hub: the tree a console reads, a tile's stream URLs
leased by the hub and asked again when the tile says its stream failed."""

from __future__ import annotations

import asyncio
from functools import partial
from pathlib import Path

import pytest

from dispatch.client.connection import HubClient
from dispatch.client.platform import PlatformFacade
from dispatch.domain.wire import ErrorCode, HubError
from dispatch.hub.process import HubProcess
from dispatch.platform.messages import (
    PlatformStreamReply,
    PlatformStreamRequest,
    PlatformTreeInfo,
)
from streams.simulator import CamSim
from tests.kit.hub import client_keys
from tests.kit.platform import PlatformServer, ThreadedPlatform, county_channels
from tests.kit.platform_site import demo_with_platform
from tests.kit.wait import async_wait_until

pytestmark = pytest.mark.integration


def test_hub_serves_the_platform_tree_and_stream_urls(tmp_path: Path, camsim: CamSim) -> None:
    urls = [camsim.url(c) for c in camsim.camera_ids]
    server = PlatformServer(county_channels(300, 3, 3), urls, expire_s=600.0)
    with ThreadedPlatform(server):
        site = demo_with_platform(tmp_path, server.url)
        hub = HubProcess(
            f"sqlite:///{tmp_path / 'hall.db'}", site=site, demo=True, data_dir=tmp_path
        )
        hub.start(timeout_s=60)
        try:
            asyncio.run(_console(hub, server, urls))
        finally:
            hub.stop()


async def _console(hub: HubProcess, server: PlatformServer, urls: list[str]) -> None:
    c = HubClient(
        hub.req_endpoint,
        hub.pub_endpoint,
        keys=client_keys(hub),
        workstation="ws-p",
        on_change=lambda ch: None,
        on_connection=lambda st: None,
    )
    await c.start()
    await c.login("duty", "duty123")
    platform = PlatformFacade(c)  # built by the console beside the client (it is a Caller)
    try:
        trees: list[list[PlatformTreeInfo]] = []

        async def read() -> bool:
            trees.append(await platform.trees())
            return bool(trees[-1] and trees[-1][0].cameras)

        await async_wait_until(read, timeout=60, interval=0.5)
        tree = trees[-1][0]
        assert tree.platform == "gaw" and tree.note is None and tree.unplaced == 0
        assert len(tree.cameras) == 300
        assert {cam.township for cam in tree.cameras} == {"t01", "t02", "t03"}
        assert sum(cam.village == "v01" for cam in tree.cameras) == 34  # i % 3 == 0, v == 0
        cam = tree.cameras[2]
        rep = await platform.stream(cam.id)
        assert rep.rtsp == urls[2] and 500 < rep.expires_in_s <= 600
        again = await c.call(PlatformStreamReply, partial(PlatformStreamRequest, camera_id=cam.id))
        assert again.rtsp == rep.rtsp and len(server.plays) == 1  # the hub's lease
        assert await platform.stream(cam.id) is rep  # the console's copy while it lives
        await platform.stream(cam.id, renew=True)
        assert len(server.plays) == 2  # the tile's stream failed: asked again
        with pytest.raises(HubError) as unknown:
            await c.call(PlatformStreamReply, partial(PlatformStreamRequest, camera_id="nope"))
        assert unknown.value.code is ErrorCode.NOT_FOUND
    finally:
        await c.stop()
