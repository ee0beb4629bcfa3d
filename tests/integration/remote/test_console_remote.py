"""Console sockets across the networks (CURVE, enrolled workstations): on the county
LAN, a console that is not enrolled gets nothing from either socket (no reply to a
login, no published change while an event is reported), neither without keys nor with
a key pair of its own that pins the right hub key; an enrolled console works until it
is revoked (`hall-hub revoke` on the hub's host), and is then cut off while connected."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import zmq

from dispatch.client.connection import HubClient
from dispatch.client.keys import ConsoleKeys
from dispatch.client.state import ConnectionStatus
from dispatch.domain.wire import ErrorCode, HubError
from tests.integration.remote.test_remote_support import Rig, post_event, unenrolled_probe
from tests.kit import async_wait_until
from tests.kit.netns import Netns
from tests.kit.paths import ROOT

pytestmark = pytest.mark.integration


def stranger(keys: ConsoleKeys) -> ConsoleKeys:
    """A key file made by the workstation itself: right hub key, never enrolled."""
    public, secret = zmq.curve_keypair()
    return keys.model_copy(
        update={"name": "stranger", "public_key": public.decode(), "secret_key": secret.decode()}
    )


def test_unenrolled_and_revoked_consoles_get_nothing(netns: Netns, tmp_path: Path) -> None:
    rig = Rig(netns, tmp_path)
    rig.start()
    hub = rig.hub
    second = hub.enrol_console("county-2")

    async def scenario() -> None:
        changes: list[object] = []
        states: list[ConnectionStatus] = []

        async def client(keys: ConsoleKeys) -> HubClient:
            c = HubClient(
                hub.req_endpoint,
                hub.pub_endpoint,
                keys=keys,
                workstation=keys.name,
                on_change=changes.append,
                on_connection=lambda st: states.append(st.status),
                request_timeout_s=5,
            )
            await c.start()
            return c

        # no keys at all, and a key pair the hub never enrolled, while an event comes in
        probe = asyncio.ensure_future(
            rig.console(unenrolled_probe(hub.req_endpoint, hub.pub_endpoint, wait_s=4))
        )
        strange = await rig.console(client(stranger(hub.console_keys)))
        await asyncio.sleep(1)
        await asyncio.to_thread(post_event, rig, "陌生工作站不应看到", "c-1")
        assert await probe == {"replies": 0, "published": 0}
        with pytest.raises(HubError) as refused:
            await rig.console(strange.login("duty", "duty123"))
        assert refused.value.code is ErrorCode.REFUSED
        assert strange.state.status is ConnectionStatus.REFUSED
        assert not changes  # nothing published reached the stranger
        await rig.console(strange.stop())

        # enrolled: works; revoked on the hub's host: cut off while connected
        c2 = await rig.console(client(second))
        await rig.console(c2.login("duty", "duty123"))
        await asyncio.to_thread(post_event, rig, "登记的工作站看得到", "c-2")
        await async_wait_until(lambda: changes, 10, what="the enrolled console sees a change")
        hall_hub = ["env", f"PYTHONPATH={ROOT}", hub.python, "-m", "dispatch.hub"]
        netns.check("hub", *hall_hub, "revoke", "county-2", "--zmq-keys", str(hub.keys_dir))
        await async_wait_until(
            lambda: c2.state.status is ConnectionStatus.REFUSED, 15, what="revoked: refused"
        )
        seen = len(changes)
        await asyncio.to_thread(post_event, rig, "吊销后不应看到", "c-3")
        with pytest.raises(HubError) as cut:
            await rig.console(c2.rollcall.status())
        assert cut.value.code is ErrorCode.REFUSED
        await asyncio.sleep(2)
        assert len(changes) == seen
        await rig.console(c2.stop())

    try:
        asyncio.run(asyncio.wait_for(scenario(), 120))
    finally:
        rig.stop()
