"""Hole 4 of issue 12: per-client limits on PIN guesses across every personal link, and
per-account and per-client limits on operator passwords, at a real hub (HTTP and zmq):
growing delays answered with 429 + Retry-After (pages) or `throttled` (zmq), a block,
its audit row, and no header believed without a trusted proxy."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest

from dispatch.client.connection import HubClient
from dispatch.db.store import Store
from dispatch.domain.security import SECURITY_LOG
from dispatch.domain.wire import AuthError, ErrorCode, HubError
from dispatch.hub.process import TEST_CONSOLE, HubProcess
from tests.kit.hub import client_keys
from tests.kit.tls import hub_session

pytestmark = [pytest.mark.integration]


def guarded_hub(tmp: Path, **guard: object) -> HubProcess:
    """A demo hub whose `[guard]` section has `guard` (written to a config file)."""
    lines = ["[guard]"] + [f"{k} = {v!r}" for k, v in guard.items()]
    cfg = tmp / "hub.toml"
    cfg.write_text("\n".join(lines) + "\n", encoding="utf-8")
    hub = HubProcess(f"sqlite:///{tmp / 'hall.db'}", demo=True, extra_args=["--config", str(cfg)])
    hub.start(timeout_s=60)
    return hub


def client(hub: HubProcess) -> HubClient:
    return HubClient(
        hub.req_endpoint,
        hub.pub_endpoint,
        keys=client_keys(hub),
        workstation="hall-1",
        on_change=lambda ch: None,
        on_connection=lambda st: None,
        request_timeout_s=60,
    )


def security_rows(tmp: Path) -> list[str]:
    store = Store(f"sqlite:///{tmp / 'hall.db'}")
    store.open()
    try:
        return [
            f"{a.action} {a.operator} {a.workstation} {a.note}"
            for a in store.timeline(SECURITY_LOG)
        ]
    finally:
        store.close()


async def _links(hub: HubProcess) -> list[tuple[str, str]]:
    c = client(hub)
    await c.start()
    try:
        await c.login("duty", "duty123")
        out = []
        for person in ("p00", "p01"):
            link = await c.tasks.issue_phone_link(person)
            out.append((hub.http_url + link.path, link.pin))
        st = await c.rollcall.station_link(centre_id="v01")
        out.append((hub.http_url + st.path, st.pin))
        return out
    finally:
        await c.stop()


def _wrong(pin: str) -> str:
    return f"{(int(pin) + 1) % 1_000_000:06d}"


def test_pin_guesses_per_client_wait_then_block_across_links(tmp_path: Path) -> None:
    hub = guarded_hub(
        tmp_path, pin_free_per_client=2, pin_block_per_client=5, max_delay_s=1.0, block_s=3.0
    )

    async def post(
        http: aiohttp.ClientSession, url: str, pin: str, **hdr: str
    ) -> tuple[int, str, str]:
        async with http.post(
            url + "/login", data={"pin": pin}, allow_redirects=False, headers=hdr
        ) as r:
            return r.status, r.headers.get("Retry-After", ""), await r.text()

    async def go() -> None:
        (l1, p1), (l2, p2), (l3, p3) = await _links(hub)
        async with hub_session(hub) as http:
            assert (await post(http, l1, _wrong(p1)))[0] == 401
            assert (await post(http, l2, _wrong(p2)))[0] == 401
            assert (await post(http, l3, _wrong(p3)))[0] == 401  # 3rd: wait 1 s
            status, retry, text = await post(http, l1, _wrong(p1))
            assert (status, retry) == (429, "1") and "尝试次数过多，请 1 秒后再试" in text
            # a client's own X-Forwarded-For is not believed (no trusted proxy configured)
            spoofed = await post(http, l1, p1, **{"X-Forwarded-For": "203.0.113.9"})
            assert spoofed[0] == 429
            await asyncio.sleep(1.1)
            assert (await post(http, l2, _wrong(p2)))[0] == 401
            await asyncio.sleep(1.1)
            assert (await post(http, l3, _wrong(p3)))[0] == 401  # 5th: blocked for 3 s
            status, retry, _ = await post(http, l1, p1)  # even the right PIN waits
            assert (status, retry) == (429, "3")
            await asyncio.sleep(3.1)
            assert (await post(http, l1, p1))[0] == 303

    try:
        asyncio.run(go())
    finally:
        hub.stop()
    rows = security_rows(tmp_path)
    assert len(rows) == 1 and rows[0].startswith("guess_block - 127.0.0.1 PIN 码尝试过多"), rows


def test_operator_passwords_wait_per_account_and_per_client(tmp_path: Path) -> None:
    hub = guarded_hub(
        tmp_path,
        login_free_per_account=2,
        login_block_per_account=4,
        login_free_per_client=5,
        login_block_per_client=8,
        max_delay_s=1.0,
        block_s=2.0,
    )

    async def attempt(c: HubClient, name: str, pw: str) -> str:
        try:
            await c.login(name, pw)
        except AuthError:
            return "auth"
        except HubError as exc:
            assert exc.code is ErrorCode.THROTTLED and exc.retry_after_s > 0, exc
            assert "尝试次数过多" in exc.message
            return f"throttled {max(1, round(exc.retry_after_s))}"
        return "ok"

    async def go() -> None:
        c = client(hub)
        await c.start()
        try:
            got = [await attempt(c, "duty", "nope") for _ in range(3)]
            assert got == ["auth", "auth", "auth"]  # 2 free; after the 3rd: wait 1 s
            assert await attempt(c, "duty", "duty123") == "throttled 1"  # right one too
            assert await attempt(c, "leader", "leader123") == "ok"  # another account
            await asyncio.sleep(1.1)
            assert await attempt(c, "duty", "duty123") == "ok"  # and the count restarts
            got = [await attempt(c, "duty", "nope") for _ in range(2)]
            assert got == ["auth", "auth"]
            # the client: 3 + 2 failures so far (5 free), whatever the account
            got = [await attempt(c, f"nobody{i}", "x") for i in range(2)]
            assert got == ["auth", "throttled 1"]
            await asyncio.sleep(1.1)
            assert await attempt(c, "nobody9", "x") == "auth"  # 7th: wait 1 s
            await asyncio.sleep(1.1)
            assert await attempt(c, "nobody9", "x") == "auth"  # 8th: the client is blocked
            assert await attempt(c, "leader", "leader123") == "throttled 2"
        finally:
            await c.stop()

    try:
        asyncio.run(go())
    finally:
        hub.stop()
    rows = security_rows(tmp_path)
    # the client of an enrolled console is the console (not its address)
    assert any(r.startswith(f"guess_block - console:{TEST_CONSOLE} 操作员密码") for r in rows), rows
