"""A real hall-hub answers a request type no feature registered, a frame that is no
request at all and one nested too deeply (hole 5), with a typed `invalid` error reply
(raw DEALER socket, CURVE with the enrolled test console's keys)."""

from __future__ import annotations

import asyncio

import pytest
import zmq
import zmq.asyncio

from dispatch.client.keys import ConsoleKeys
from dispatch.client.wire import decode_reply
from dispatch.domain.wire import ErrorCode, ErrorReply
from dispatch.hub.messages import PongReply
from dispatch.hub.process import HubProcess
from tests.kit.hub import client_keys, curve_client

pytestmark = pytest.mark.integration


async def ask(endpoint: str, frames: list[bytes], keys: ConsoleKeys) -> list[bytes]:
    ctx = zmq.asyncio.Context()
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    curve_client(sock, keys)
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
    deep = 100_000
    frames = [
        b'{"v":1,"type":"teleport","rid":"r1"}',
        b"\xff not json",
        b'{"v":1,"type":"ping","rid":"r3","x":' + b"[" * deep + b"]" * deep + b"}",
        b'{"v":1,"type":"ping","rid":"r4"}',
    ]
    replies = asyncio.run(ask(hub.req_endpoint, frames, client_keys(hub)))
    unknown, garbage, nested, ping = (decode_reply(f) for f in replies)
    assert isinstance(unknown, ErrorReply)
    assert unknown.rid == "r1" and unknown.code is ErrorCode.INVALID
    assert "teleport" in unknown.message
    assert isinstance(garbage, ErrorReply)
    assert garbage.rid == "" and garbage.code is ErrorCode.INVALID
    # nested too deeply: answered (not a dead handler), and the hub goes on answering
    assert isinstance(nested, ErrorReply) and nested.code is ErrorCode.INVALID
    assert isinstance(ping, PongReply) and ping.rid == "r4"
