"""TURN through a real coturn (the `turn_server` fixture): two aiortc peers restricted to
relay candidates (iceTransportPolicy "relay") connect through it with media both ways,
and credentials that are wrong or expired are refused by coturn with 401."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import pytest
from aioice import stun
from aioice.turn import create_turn_endpoint
from aiortc import RTCPeerConnection
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from streams.webrtc.config import IcePlan, SyntheticCamera
from streams.webrtc.stats import relayed, selected_pairs
from tests.kit.turn import TurnServer

pytestmark = pytest.mark.integration


async def _count(track: MediaStreamTrack, frames: list[int]) -> None:
    try:
        while True:
            await track.recv()
            frames[0] += 1
    except MediaStreamError:
        return


async def _until(ok: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not ok():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.05)


def _peer(
    plan: IcePlan, label: str, got: list[int], tasks: list[asyncio.Task[None]]
) -> RTCPeerConnection:
    pc = RTCPeerConnection(plan.configuration())
    pc.addTransceiver(SyntheticCamera(label, 320, 240, 15), direction="sendrecv")

    @pc.on("track")
    def on_track(track: MediaStreamTrack) -> None:
        tasks.append(asyncio.ensure_future(_count(track, got)))

    return pc


async def _call(a: RTCPeerConnection, b: RTCPeerConnection) -> float:
    t0 = time.monotonic()
    await a.setLocalDescription(await a.createOffer())
    await b.setRemoteDescription(a.localDescription)
    await b.setLocalDescription(await b.createAnswer())
    await a.setRemoteDescription(b.localDescription)
    return t0


def test_relay_only_peers_connect_through_coturn(turn_server: TurnServer) -> None:
    asyncio.run(asyncio.wait_for(_relay_call(turn_server), 60))


async def _relay_call(turn_server: TurnServer) -> None:
    got_a, got_b = [0], [0]
    tasks: list[asyncio.Task[None]] = []
    a = _peer(IcePlan((turn_server.ice_server("peer-a"),), True), "A", got_a, tasks)
    b = _peer(IcePlan((turn_server.ice_server("peer-b"),), True), "B", got_b, tasks)
    try:
        await _call(a, b)
        for sdp in (a.localDescription.sdp, b.localDescription.sdp):
            cands = [x for x in sdp.splitlines() if x.startswith("a=candidate:")]
            assert cands and all(" typ relay" in x for x in cands), cands
        await _until(lambda: got_a[0] >= 15 and got_b[0] >= 15, 20)
        assert a.connectionState == b.connectionState == "connected"
        assert selected_pairs(a) == [("relay", "relay")] == selected_pairs(b)
        assert relayed(a) and relayed(b)
    finally:
        await a.close()
        await b.close()
        for t in tasks:
            t.cancel()


async def _allocate(turn: TurnServer, username: str, password: str) -> None:
    transport, _ = await create_turn_endpoint(
        asyncio.DatagramProtocol,
        server_addr=(turn.host, turn.port),
        username=username,
        password=password,
    )
    transport.close()


@pytest.mark.parametrize("case", ["wrong_secret", "expired", "good"])
def test_coturn_refuses_wrong_and_expired_credentials(turn_server: TurnServer, case: str) -> None:
    asyncio.run(asyncio.wait_for(_refused(turn_server, case), 30))


async def _refused(turn_server: TurnServer, case: str) -> None:
    if case == "wrong_secret":
        cred = turn_server.mint("x", secret="not-the-shared-secret-at-all")
    elif case == "expired":
        cred = turn_server.mint("x", ttl_s=-60)
    else:
        cred = turn_server.mint("x")
    attempt: Awaitable[None] = _allocate(turn_server, cred.username, cred.password)
    if case == "good":
        await attempt
        return
    with pytest.raises(stun.TransactionFailed) as err:
        await attempt
    assert err.value.response.attributes["ERROR-CODE"][0] == 401


def test_an_allocation_outlives_its_credentials(turn_server: TurnServer) -> None:
    """coturn checks the expiry when an allocation is made; the allocation's refreshes and
    channel binds later go on (no stale-nonce in our turnserver.conf), so a call that
    lasts longer than its credentials is not cut. New connections take fresh ones."""
    asyncio.run(asyncio.wait_for(_outlives(turn_server), 30))


async def _outlives(turn_server: TurnServer) -> None:
    cred = turn_server.mint("long-call", ttl_s=2)
    transport, _ = await create_turn_endpoint(
        asyncio.DatagramProtocol,
        server_addr=(turn_server.host, turn_server.port),
        username=cred.username,
        password=cred.password,
    )
    try:
        await asyncio.sleep(3)  # the credentials have expired
        inner = transport._TurnTransport__inner_protocol  # type: ignore[attr-defined]
        req = stun.Message(message_method=stun.Method.REFRESH, message_class=stun.Class.REQUEST)
        req.attributes["LIFETIME"] = 600
        response, _ = await inner.request_with_retry(req)
        assert response.attributes["LIFETIME"] == 600
        await inner.channel_bind(0x4001, ("127.0.0.1", 5000))
        with pytest.raises(stun.TransactionFailed):  # a new allocation is refused
            await _allocate(turn_server, cred.username, cred.password)
    finally:
        transport.close()
