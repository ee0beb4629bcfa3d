"""A client that went LOST while the hub only stalled (its token still valid) catches up
without logging in again: each login costs the hub a scrypt (~50 ms of CPU and 16 MB)
and a new session it keeps, and the soak's clients, lost at every stall of the hub
(heartbeat later than `lost_after_s`), logged in again at every one, which stalled
the hub further. Real hall-hub; `lost_after_s` below the hub's heartbeat period (1 s)
makes the client go LOST between every two heartbeats."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from dispatch.client.connection import HubClient
from dispatch.client.state import ConnectionState, ConnectionStatus
from dispatch.hub.messages import LoginReply
from dispatch.hub.process import HubProcess
from tests.kit.hub import client_keys

pytestmark = pytest.mark.integration


def test_lost_and_back_without_a_new_login(hub: HubProcess) -> None:
    async def go() -> tuple[int, list[ConnectionState]]:
        states: list[ConnectionState] = []
        c = HubClient(hub.req_endpoint, hub.pub_endpoint, keys=client_keys(hub),
                      workstation="ws-lost", on_change=lambda ch: None,
                      on_connection=states.append, lost_after_s=0.6)  # fmt: skip
        await c.start()
        logins = [0]
        real = c._login

        async def counted(*a: Any) -> LoginReply:
            logins[0] += 1
            return await real(*a)

        c._login = counted  # type: ignore[method-assign]
        try:
            await c.login("duty", "duty123")
            await asyncio.sleep(6.0)
            await c.ping()
        finally:
            await c.stop()
        return logins[0], states

    logins, states = asyncio.run(asyncio.wait_for(go(), 90))
    lost = [s for s in states if s.status is ConnectionStatus.LOST]
    back = [s for s in states if s.status is ConnectionStatus.CONNECTED]
    assert len(lost) >= 2 and len(back) >= 3, states  # it did go lost and come back
    assert logins == 1, logins
