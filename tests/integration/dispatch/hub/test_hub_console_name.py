"""The session's workstation is the enrolled console's (its CURVE key's name, ZAP
User-Id), whatever the console declares, and the per-client login limit counts per
enrolled console: two consoles on one address (as behind one NAT router) are apart.
Real hub process, real CURVE sockets."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from dispatch.client.connection import HubClient
from dispatch.client.keys import ConsoleKeys
from dispatch.domain.wire import AuthError, ErrorCode, HubError
from dispatch.hub.process import TEST_CONSOLE, HubProcess
from tests.kit.hub import client_keys

pytestmark = [pytest.mark.integration]


def guarded_hub(tmp: Path) -> HubProcess:
    """A demo hub that blocks a client after 2 wrong passwords (accounts: never)."""
    cfg = tmp / "hub.toml"
    cfg.write_text(
        "[guard]\nlogin_free_per_client = 1\nlogin_block_per_client = 2\n"
        "login_free_per_account = 1000\nlogin_block_per_account = 100000\n"
        "max_delay_s = 1.0\nblock_s = 600.0\n",
        encoding="utf-8",
    )
    hub = HubProcess(f"sqlite:///{tmp / 'hall.db'}", demo=True, extra_args=["--config", str(cfg)])
    hub.start(timeout_s=60)
    return hub


def client(hub: HubProcess, keys: ConsoleKeys, workstation: str) -> HubClient:
    return HubClient(
        hub.req_endpoint,
        hub.pub_endpoint,
        keys=keys,
        workstation=workstation,
        on_change=lambda ch: None,
        on_connection=lambda st: None,
        request_timeout_s=30,
    )


async def attempt(c: HubClient, name: str, pw: str) -> str:
    try:
        await c.login(name, pw)
    except AuthError:
        return "auth"
    except HubError as exc:
        assert exc.code is ErrorCode.THROTTLED, exc
        return "throttled"
    return "ok"


def test_session_workstation_is_the_enrolled_name_and_limits_count_per_console(
    tmp_path: Path,
) -> None:
    hub = guarded_hub(tmp_path)
    second = hub.enrol_console("county-2")
    time.sleep(1.5)  # the hub rereads its enrolment book every 0.5 s

    async def go() -> None:
        a = client(hub, client_keys(hub), TEST_CONSOLE)
        b = client(hub, second, TEST_CONSOLE)  # claims the first console's name
        await a.start()
        await b.start()
        try:
            reply = await a.login("duty", "duty123")
            assert reply.workstation == TEST_CONSOLE
            reply = await b.login("leader", "leader123")
            assert reply.workstation == "county-2"  # overridden, not the claimed name
            # the first console guesses until it is blocked ...
            got = [await attempt(a, f"nobody{i}", "x") for i in range(2)]
            assert got == ["auth", "auth"]
            await asyncio.sleep(1.1)
            assert await attempt(a, "nobody", "x") == "throttled"
            assert await attempt(a, "duty", "duty123") == "throttled"
            # ... the second, from the same address, is not
            assert await attempt(b, "duty", "duty123") == "ok"
        finally:
            await a.stop()
            await b.stop()

    try:
        asyncio.run(go())
    finally:
        log = hub.stderr_text()
        hub.stop()
    assert (
        f"console enrolled as 'county-2' declared workstation '{TEST_CONSOLE}': "
        "session opened as 'county-2'" in log
    ), log[-2000:]
