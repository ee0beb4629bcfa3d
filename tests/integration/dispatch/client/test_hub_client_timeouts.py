"""Many requests that time out together renew the client's DEALER once, not once each:
every renewal made a socket (and its monitor), and the ones renewed again before the
reply loop saw them were never closed (the soak's workflow client, hundreds of
requests in flight when the hub restarted: "Too many open files"). A real zmq ROUTER
on loopback that never answers stands in for a hub that does not answer."""

from __future__ import annotations

import asyncio
import os

import pytest
import zmq

from dispatch.client.connection import HubClient
from dispatch.domain.wire import ErrorCode, HubError

pytestmark = pytest.mark.integration


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_requests_timing_out_together_renew_the_socket_once() -> None:
    ctx = zmq.Context()
    silent = ctx.socket(zmq.ROUTER)
    silent.setsockopt(zmq.LINGER, 0)
    port = silent.bind_to_random_port("tcp://127.0.0.1")
    ep = f"tcp://127.0.0.1:{port}"
    # the client's SUB needs a PUB: a SUB connected to the ROUTER fails its handshake
    # (socket types that do not match), which the client reports as a refusal, and the
    # requests then fail as refused instead of timing out (CI, stop 28)
    pub = ctx.socket(zmq.PUB)
    pub.setsockopt(zmq.LINGER, 0)
    pub_ep = f"tcp://127.0.0.1:{pub.bind_to_random_port('tcp://127.0.0.1')}"

    async def go() -> tuple[int, int, list[BaseException | object]]:
        c = HubClient(ep, pub_ep, keys=None, workstation="ws1", on_change=lambda ch: None,
                      on_connection=lambda st: None, request_timeout_s=0.5)  # fmt: skip
        await c.start()
        try:
            await asyncio.sleep(0.3)
            before = open_fds()
            for _ in range(3):  # three waves of 60 requests, each timing out together
                got = await asyncio.gather(*(c.ping() for _ in range(60)), return_exceptions=True)
            await asyncio.sleep(0.5)  # the reply loop closes the socket it saw replaced
            return before, open_fds(), got
        finally:
            await c.stop()

    try:
        before, after, got = asyncio.run(asyncio.wait_for(go(), 60))
    finally:
        silent.close(linger=0)
        pub.close(linger=0)
        ctx.term()
    assert all(isinstance(g, HubError) and g.code is ErrorCode.TIMEOUT for g in got), got
    assert after - before <= 6, (before, after)
