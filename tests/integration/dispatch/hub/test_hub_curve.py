"""Enrolled, encrypted consoles against a real hall-hub (issue 12, "What it must do" 3,
and the zmq half of hole 5): real zmq sockets, the real `hall-hub enroll|revoke` CLI.

An unenrolled key and a plain (non-CURVE) socket get nothing from the ROUTER nor the
PUB, and a `HubClient` with an unenrolled key says so (state REFUSED) instead of timing
out; a console revoked while connected is cut off both ways while the enrolled one goes
on; the key files are 0600; a 50 MB frame is never read and the hub stays responsive;
plain zmq only when configured so, on loopback, with a warning.
"""

from __future__ import annotations

import asyncio
import stat
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import zmq
import zmq.asyncio

from dispatch.client.connection import HubClient
from dispatch.client.handshake import NOT_ENROLLED
from dispatch.client.keys import ConsoleKeys, read_console_keys
from dispatch.client.state import ConnectionStatus
from dispatch.domain.wire import ErrorCode, HubError
from dispatch.hub.keys import new_keypair
from dispatch.hub.messages import PongReply
from dispatch.hub.process import HubProcess
from tests.kit.hub import StartHub, client_keys, curve_client

pytestmark = pytest.mark.integration

PING = b'{"v":1,"type":"ping","rid":"p1"}'
QUIET_S = 2.5  # more than two heartbeats (1 s apart)


def stranger(hub: HubProcess) -> ConsoleKeys:
    """Keys that know the hub's public key but were never enrolled."""
    public, secret = new_keypair()
    return client_keys(hub).model_copy(
        update={"name": "stranger", "public_key": public, "secret_key": secret}
    )


async def got_reply(ctx: zmq.asyncio.Context, hub: HubProcess, keys: ConsoleKeys | None) -> bool:
    """Does a raw DEALER with `keys` (None: plain) get any answer to a ping?"""
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    if keys is not None:
        curve_client(sock, keys)
    sock.connect(hub.req_endpoint)
    try:
        await sock.send(PING)
        return bool(await sock.poll(QUIET_S * 1000))
    finally:
        sock.close(linger=0)


def raw_sub(ctx: zmq.asyncio.Context, hub: HubProcess, keys: ConsoleKeys | None) -> zmq.Socket:
    sock = ctx.socket(zmq.SUB)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.SUBSCRIBE, b"")
    if keys is not None:
        curve_client(sock, keys)
    sock.connect(hub.pub_endpoint)
    return sock


async def published(sock: zmq.asyncio.Socket, within_s: float = QUIET_S) -> int:
    """How many frames `sock` receives within `within_s`."""
    n = 0
    end = time.monotonic() + within_s
    while (left := end - time.monotonic()) > 0:
        if await sock.poll(left * 1000):
            await sock.recv()
            n += 1
    return n


@asynccontextmanager
async def hub_client(
    hub: HubProcess, keys: ConsoleKeys | None, workstation: str = ""
) -> AsyncIterator[HubClient]:
    c = HubClient(
        hub.req_endpoint,
        hub.pub_endpoint,
        keys=keys,
        workstation=workstation or (keys.name if keys is not None else "ws"),
        on_change=lambda ch: None,
        on_connection=lambda st: None,
        request_timeout_s=10,
    )
    await c.start()
    try:
        yield c
    finally:
        await c.stop()


async def until(check: object, timeout_s: float = 10.0) -> None:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if callable(check) and check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


async def login_once_enrolled(c: HubClient, timeout_s: float = 10.0) -> None:
    """Log in as soon as the hub lets the workstation in (it rereads its enrolment book
    every 0.5 s; a refused client connects again by itself every second)."""
    end = time.monotonic() + timeout_s
    while True:
        try:
            await c.login("duty", "duty123")
            return
        except HubError as exc:
            if exc.code is not ErrorCode.REFUSED or time.monotonic() > end:
                raise
            await asyncio.sleep(0.2)


def hall_hub(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dispatch.hub", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_unenrolled_and_plain_consoles_get_nothing(hub: HubProcess) -> None:
    async def go() -> None:
        ctx = zmq.asyncio.Context()
        try:
            enrolled_sub = raw_sub(ctx, hub, client_keys(hub))
            subs = [raw_sub(ctx, hub, stranger(hub)), raw_sub(ctx, hub, None)]
            assert await got_reply(ctx, hub, client_keys(hub))  # the real thing works
            assert not await got_reply(ctx, hub, stranger(hub))
            assert not await got_reply(ctx, hub, None)
            assert [await published(s) for s in subs] == [0, 0]
            assert await published(enrolled_sub) >= 1  # heartbeats do go out
            for s in (enrolled_sub, *subs):
                s.close(linger=0)
        finally:
            ctx.term()
        async with hub_client(hub, stranger(hub)) as c:
            t0 = time.monotonic()
            with pytest.raises(HubError) as err:
                await c.login("duty", "duty123")
            assert err.value.code is ErrorCode.REFUSED
            assert time.monotonic() - t0 < c.request_timeout_s / 2  # said, not timed out
            assert c.state.status is ConnectionStatus.REFUSED
            assert c.state.detail == NOT_ENROLLED
            assert "本工作站未登记/已吊销" in NOT_ENROLLED

    asyncio.run(go())


def test_revoked_console_is_cut_off_while_connected(hub: HubProcess, tmp_path: Path) -> None:
    keys_dir = str(hub.keys_dir)
    out = tmp_path / "ws7.key"
    done = hall_hub("enroll", "ws7", "--zmq-keys", keys_dir, "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    for f in ("hub.key", "consoles.json"):
        assert stat.S_IMODE((hub.keys_dir / f).stat().st_mode) == 0o600
    assert stat.S_IMODE(hub.keys_dir.stat().st_mode) == 0o700
    keys = read_console_keys(out)
    assert keys.hub_public_key == client_keys(hub).hub_public_key

    async def go() -> None:
        ctx = zmq.asyncio.Context()
        sub: zmq.asyncio.Socket | None = None
        try:
            async with (
                hub_client(hub, keys) as c,
                hub_client(hub, client_keys(hub)) as other,
            ):
                await login_once_enrolled(c)
                await other.login("duty", "duty123")
                sub = raw_sub(ctx, hub, keys)  # now that the hub has the enrolment
                assert await published(sub, 1.5) >= 1
                revoked = hall_hub("revoke", "ws7", "--zmq-keys", keys_dir)
                assert revoked.returncode == 0, revoked.stderr
                await until(lambda: c.state.status is ConnectionStatus.REFUSED)
                assert c.state.detail == NOT_ENROLLED
                with pytest.raises(HubError) as err:
                    await c.ping()
                assert err.value.code is ErrorCode.REFUSED
                await asyncio.sleep(0.5)  # frames already in flight before the cut
                while await sub.poll(0):
                    await sub.recv()
                assert await published(sub) == 0  # the PUB no longer reaches it
                assert not await got_reply(ctx, hub, keys)
                assert isinstance(await other.ping(), PongReply)  # the others go on
                await until(lambda: other.state.status is ConnectionStatus.CONNECTED)
        finally:
            if sub is not None:
                sub.close(linger=0)
            ctx.term()

    asyncio.run(go())
    listing = hall_hub("consoles", "--zmq-keys", keys_dir)
    assert listing.returncode == 0, listing.stderr
    lines = dict(line.split("\t", 1) for line in listing.stdout.splitlines())
    assert "revoked" in lines["ws7"] and "revoked" not in lines["test-console"]
    bad = hall_hub("enroll", "../etc/x", "--zmq-keys", keys_dir)
    assert bad.returncode != 0 and "bad workstation name" in bad.stderr


def peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def test_a_50_mb_frame_is_not_read_and_the_hub_answers_on(hub: HubProcess) -> None:
    assert hub.pid is not None
    before = peak_rss_kib(hub.pid)

    async def go() -> None:
        ctx = zmq.asyncio.Context()
        big = ctx.socket(zmq.DEALER)
        big.setsockopt(zmq.LINGER, 0)
        curve_client(big, client_keys(hub))
        big.connect(hub.req_endpoint)
        try:
            await big.send(b'{"v":1,"type":"ping","rid":"big","x":"' + b"x" * (50 << 20) + b'"}')
            t0 = time.monotonic()
            for _ in range(5):  # the hub answers others at once meanwhile
                assert await got_reply(ctx, hub, client_keys(hub))
            assert time.monotonic() - t0 < 5
            assert not await big.poll(1000)  # and never answers the big frame
        finally:
            big.close(linger=0)
            ctx.term()

    asyncio.run(go())
    grown_mib = (peak_rss_kib(hub.pid) - before) / 1024
    assert grown_mib < 20, f"the hub's peak memory grew {grown_mib:.0f} MiB"


def test_plain_zmq_only_on_loopback_and_loudly(start_hub: StartHub, tmp_path: Path) -> None:
    config = tmp_path / "hub.toml"
    config.write_text("[zmq]\ncurve = false\n", encoding="utf-8")
    hub = start_hub(demo=True, extra_args=["--config", str(config)])
    assert "CURVE is OFF" in hub.stderr_text()

    async def go() -> None:
        ctx = zmq.asyncio.Context()
        try:
            assert await got_reply(ctx, hub, None)  # a plain socket is answered
        finally:
            ctx.term()
        async with hub_client(hub, None, "plain-ws") as c:
            await c.login("duty", "duty123")
            assert c.refusal is None

    asyncio.run(go())
    bad = hall_hub("--config", str(config), "--zmq-req", "tcp://0.0.0.0:0", "--print-config")
    assert bad.returncode == 2 and "curve = false only on loopback" in bad.stderr
