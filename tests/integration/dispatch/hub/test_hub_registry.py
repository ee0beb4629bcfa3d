"""A real hall-hub answers a request type no feature registered, and a frame that is no
request at all, with a typed `invalid` error reply (raw DEALER socket)."""

from __future__ import annotations

import asyncio

import pytest
import zmq
import zmq.asyncio

from dispatch.client.wire import decode_reply
from dispatch.domain.wire import ErrorCode, ErrorReply
from dispatch.hub.messages import PongReply
from dispatch.hub.process import HubProcess

pytestmark = pytest.mark.integration


async def ask(endpoint: str, frames: list[bytes]) -> list[bytes]:
    ctx = zmq.asyncio.Context()
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    try:
        sock.connect(endpoint)
        got = []
        for f in frames:
            await sock.send(f)
            got.append(await asyncio.wait_for(sock.recv(), 20))
        return got
    finally:
        sock.close(linger=0)
        ctx.term()


def test_unknown_and_malformed_requests_get_typed_errors(hub: HubProcess) -> None:
    frames = [
        b'{"v":1,"type":"teleport","rid":"r1"}',
        b"\xff not json",
        b'{"v":1,"type":"ping","rid":"r3"}',
    ]
    unknown, garbage, ping = (decode_reply(f) for f in asyncio.run(ask(hub.req_endpoint, frames)))
    assert isinstance(unknown, ErrorReply)
    assert unknown.rid == "r1" and unknown.code is ErrorCode.INVALID
    assert "teleport" in unknown.message
    assert isinstance(garbage, ErrorReply)
    assert garbage.rid == "" and garbage.code is ErrorCode.INVALID
    assert isinstance(ping, PongReply) and ping.rid == "r3"
