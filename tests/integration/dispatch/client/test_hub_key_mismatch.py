"""The "hub key mismatch" is said only when it is true (issue 16: the soak's workflow client
saw it after the hub's restart).

A hub with another key closes the connection at the client's first handshake message;
libzmq reports a handshake failure with no detail, which is also what a hub stopping in
the middle of a handshake causes. Real zmq sockets: a CURVE ROUTER with another key
pair (the wrong hub), and a TCP listener that accepts and closes every connection for a
second (a hub going down), then a real CURVE ROUTER at the same port (the hub back).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import pytest
import zmq

from dispatch.client.connection import HubClient
from dispatch.client.handshake import WRONG_HUB, PersistentFailure
from dispatch.client.keys import ConsoleKeys
from dispatch.client.state import ConnectionState, ConnectionStatus
from dispatch.domain.wire import ErrorCode, HubError

pytestmark = pytest.mark.integration


def keys(hub_public: bytes) -> ConsoleKeys:
    public, secret = zmq.curve_keypair()
    return ConsoleKeys(name="ws1", public_key=public.decode(), secret_key=secret.decode(),
                       hub_public_key=hub_public.decode())  # fmt: skip


@contextlib.contextmanager
def curve_router(port: int = 0) -> Iterator[tuple[int, bytes]]:
    """A CURVE server (no ZAP handler: any client key) on loopback: (port, public key)."""
    ctx = zmq.Context()
    public, secret = zmq.curve_keypair()
    sock = ctx.socket(zmq.ROUTER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.CURVE_SERVER, 1)
    sock.setsockopt(zmq.CURVE_SECRETKEY, secret)
    if port:
        sock.bind(f"tcp://127.0.0.1:{port}")
    else:
        port = sock.bind_to_random_port("tcp://127.0.0.1")
    try:
        yield port, public
    finally:
        sock.close(linger=0)
        ctx.term()


@contextlib.contextmanager
def closing_listener(seconds: float) -> Iterator[int]:
    """Accepts and closes every connection (mid-handshake) for `seconds`; its port."""
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)
    ls.settimeout(0.05)
    end = time.monotonic() + seconds

    def serve() -> None:
        while time.monotonic() < end:
            with contextlib.suppress(TimeoutError):
                conn, _ = ls.accept()
                time.sleep(0.02)
                conn.close()
        ls.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        yield ls.getsockname()[1]
    finally:
        t.join(seconds + 5)


def client(port: int, k: ConsoleKeys, states: list[ConnectionState]) -> HubClient:
    ep = f"tcp://127.0.0.1:{port}"
    return HubClient(ep, ep, keys=k, workstation="ws1", on_change=lambda ch: None,
                     on_connection=states.append, request_timeout_s=1.0)  # fmt: skip


def test_a_hub_with_another_key_is_reported_once_it_persists() -> None:
    async def go() -> tuple[list[ConnectionState], float, HubError]:
        states: list[ConnectionState] = []
        _, other_key = zmq.curve_keypair()
        with curve_router() as (port, _):
            c = client(port, keys(other_key), states)
            t0 = time.monotonic()
            await c.start()
            try:
                while c.refusal is None and time.monotonic() - t0 < 20:
                    await asyncio.sleep(0.05)
                took = time.monotonic() - t0
                with pytest.raises(HubError) as err:
                    await c.ping()
            finally:
                await c.stop()
        return states, took, err.value

    states, took, err = asyncio.run(go())
    assert err.code is ErrorCode.REFUSED and err.message == WRONG_HUB
    assert states[-1].status is ConnectionStatus.REFUSED and states[-1].detail == WRONG_HUB
    assert 2.5 <= took < 20, took


def test_a_hub_going_down_mid_handshake_is_no_key_mismatch() -> None:
    async def go() -> list[ConnectionState]:
        states: list[ConnectionState] = []
        with closing_listener(1.0) as port:
            with curve_router(port=0) as (_, hub_key):
                pass  # only its key: the hub that comes back has it
            c = client(port, keys(hub_key), states)
            await c.start()
            try:
                await asyncio.sleep(1.5)  # connections closed mid-handshake, then refused
            finally:
                await c.stop()
        return states

    states = asyncio.run(go())
    assert all(s.status is not ConnectionStatus.REFUSED for s in states), states


def test_no_detail_failures_are_believed_only_when_they_persist() -> None:
    f = PersistentFailure(after_s=3.0, after_n=3)
    assert not f.failed("req", 0.0)
    assert not f.failed("req", 0.2)
    assert not f.failed("req", 2.9)  # three, but not for long enough
    assert f.failed("req", 3.0)
    f.succeeded("req")
    assert not f.failed("req", 3.1)  # a success starts it again
    assert not f.failed("pub", 10.0) and not f.failed("pub", 20.0)  # two: a restart
    assert f.failed("pub", 20.1)
