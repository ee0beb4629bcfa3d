"""TURN across the namespaces with two aiortc peers: one in the village (behind NAT,
UDP to the hub blocked), one on the hub's host. Without forcing anything the selected
pair is a relay through coturn on the public address, and video flows both ways."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiortc import (
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from streams.webrtc.config import SyntheticCamera, restrict_host_addresses
from tests.kit.netns import HUB_PUBLIC, TURN, Netns, NsLoop, Role
from tests.kit.netns_turn import NsTurn

pytestmark = pytest.mark.integration


@pytest.fixture
def coturn(netns: Netns, tmp_path: Path) -> Iterator[NsTurn]:
    t = NsTurn(netns, tmp_path / "turn")
    t.start()
    try:
        yield t
    finally:
        t.stop()


class Peer:
    """An aiortc peer on an `NsLoop`: sends a synthetic camera, counts received frames."""

    def __init__(self, turn: NsTurn, name: str) -> None:
        user, password = turn.credentials(name)
        self.config = RTCConfiguration(
            iceServers=[RTCIceServer(urls=[turn.url], username=user, credential=password)]
        )
        self.name = name
        self.frames = 0
        self.pc: RTCPeerConnection | None = None
        self._pulls: set[asyncio.Future[None]] = set()

    async def open(self) -> None:
        self.pc = RTCPeerConnection(self.config)
        self.pc.addTransceiver(SyntheticCamera(self.name, 320, 240, 25), direction="sendrecv")
        self.pc.on("track", self._pull)

    def _pull(self, track: MediaStreamTrack) -> None:
        async def pull() -> None:
            while True:
                try:
                    await track.recv()
                except MediaStreamError:
                    return
                self.frames += 1

        self._pulls.add(asyncio.ensure_future(pull()))

    async def offer(self) -> RTCSessionDescription:
        assert self.pc is not None
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return self.pc.localDescription

    async def answer(self, offer: RTCSessionDescription) -> RTCSessionDescription:
        assert self.pc is not None
        await self.pc.setRemoteDescription(offer)
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        return self.pc.localDescription

    async def accept(self, answer: RTCSessionDescription) -> None:
        assert self.pc is not None
        await self.pc.setRemoteDescription(answer)

    async def selected(self) -> tuple[str, str, str]:
        """(local type, remote type, remote address) of the nominated pair."""
        assert self.pc is not None
        ice = self.pc.getTransceivers()[0].sender.transport.transport
        pair = ice._connection._nominated.get(1)  # aioice keeps no public accessor
        if pair is None:
            return ("", "", "")
        return (pair.local_candidate.type, pair.remote_candidate.type, pair.remote_addr[0])

    async def close(self) -> None:
        if self.pc is not None:
            await self.pc.close()
        for t in self._pulls:
            t.cancel()


def test_village_reaches_hub_media_only_through_turn(netns: Netns, coturn: NsTurn) -> None:
    restrict_host_addresses(None)  # gather what the namespace has, not loopback
    loops: dict[Role, NsLoop] = {"village": NsLoop(netns, "village"), "hub": NsLoop(netns, "hub")}
    peers = {"village": Peer(coturn, "village"), "hub": Peer(coturn, "hub")}
    for lp in loops.values():
        lp.start()
    try:
        for role, lp in loops.items():
            lp.run(peers[role].open())
        offer = loops["village"].run(peers["village"].offer())
        assert f" {TURN} " in offer.sdp and " relay " in offer.sdp  # a TURN allocation
        answer = loops["hub"].run(peers["hub"].answer(offer))
        loops["village"].run(peers["village"].accept(answer))

        async def flowing() -> None:
            while peers["village"].frames < 20 or peers["hub"].frames < 20:
                await asyncio.sleep(0.1)

        loops["village"].run(flowing(), timeout=60)
        v_local, _, v_addr = loops["village"].run(peers["village"].selected())
        _, h_remote, h_addr = loops["hub"].run(peers["hub"].selected())
        assert (v_local, v_addr) == ("relay", HUB_PUBLIC)
        assert (h_remote, h_addr) == ("relay", TURN)
    finally:
        for role, lp in loops.items():
            if lp.loop is not None:
                lp.run(peers[role].close())
            lp.stop()
