"""Worker processes of `tests.bench.meeting`: townships (aiortc peers sending a
pre-encoded VP8 loop in three simulcast layers, receiving without decoding) and the
county console's peer, each process on its own asyncio loop inside a network namespace.

A worker talks to the bench over a `multiprocessing` pipe: it answers `ready` after its
pictures are encoded, then obeys `(command, args)` tuples and answers each with one
result. Times are wall clock (`time.time()`): bench and workers share the machine.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from streams.webrtc.janus_peer import JanusPeer, Subscription
from streams.webrtc.simulcast import BITRATES, LAYERS, SimulcastVideo, encode_layers
from tests.kit.netns import Netns, NsLoop, Role

FRAMES = 10  # the loop: a key frame every 0.4 s at 25 fps


@dataclass(frozen=True)
class Seat:
    name: str
    token: str
    tag: int  # marks the height of its high layer (LAYERS[2] + 2 * tag)


@dataclass(frozen=True)
class RoomInfo:
    url: str
    room: int
    pin: str


def high_size(tag: int) -> tuple[int, int]:
    return LAYERS[2][0], LAYERS[2][1] + 2 * tag


def layers_for(tag: int, shared: list[list[bytes]]) -> list[list[bytes]]:
    """Low and mid layers shared by a worker's peers; the high layer marked per peer."""
    high = encode_layers(tag=tag, frames=FRAMES, sizes=(LAYERS[2],), bitrates=(BITRATES[2],))
    return [*shared, high[0]]


def shared_layers() -> list[list[bytes]]:
    return encode_layers(frames=FRAMES, sizes=LAYERS[:2], bitrates=BITRATES[:2])


class Town:
    def __init__(self, room: RoomInfo, seat: Seat, shared: list[list[bytes]]) -> None:
        self.seat = seat
        self.video = SimulcastVideo(layers_for(seat.tag, shared))
        self.peer = JanusPeer(
            room.url, room=room.room, pin=room.pin, token=seat.token, display=seat.name,
            count_only=True,
        )  # fmt: skip
        self.join_ms: float | None = None
        self.convenor: Subscription | None = None
        self.floor: Subscription | None = None
        self.floor_wait: tuple[tuple[int, int], float] | None = None
        self.floor_ms: list[float] = []
        self.stages: dict[str, float] = {}  # this floor's steps, ms after it was given
        self._old_key: tuple[int, int] | None = None
        self.peer.on_packet = self._packet

    def _packet(self, sub: Subscription, _packet: object) -> None:
        if sub is not self.floor or self.floor_wait is None:
            return
        size, t0 = self.floor_wait
        ms = (time.time() - t0) * 1000
        # the floor's subscription carried the old speaker's top layer only: a key frame of
        # another size is the new speaker's (Janus starts on whichever layer's key comes first)
        key = sub.key_size
        if "first_key" not in self.stages and key is not None and key != self._old_key:
            self.stages["first_key"] = ms
        if key == size:
            self.stages["key"] = ms
            self.floor_ms.append(ms)
            self.floor_wait = None

    async def join(self, convenor_feed: int, clicked: float) -> None:
        await self.peer.join()
        await self.peer.publish(video=self.video)
        self.convenor = await self.peer.subscribe(convenor_feed, 2)
        while self.peer.frames.get(convenor_feed, 0) == 0:
            await asyncio.sleep(0.01)
        self.join_ms = (time.time() - clicked) * 1000

    async def give_floor(self, feed: int, size: tuple[int, int], t0: float) -> None:
        self.stages = {"asked": (time.time() - t0) * 1000}
        self._old_key = self.floor.key_size if self.floor is not None else None
        self.floor_wait = (size, t0)
        if self.floor is None:
            self.floor = await self.peer.subscribe(feed, 2)
        else:
            self.floor = await self.peer.switch(self.floor.feed, feed)
        self.stages["switched"] = (time.time() - t0) * 1000


async def _towns(room: RoomInfo, seats: list[Seat], conn: Connection) -> None:
    shared = shared_layers()
    towns = [Town(room, s, shared) for s in seats]
    conn.send(("ready", len(towns)))
    while True:
        cmd, args = await asyncio.to_thread(conn.recv)
        if cmd == "join":
            feed, clicked = args
            res = await asyncio.gather(
                *(t.join(feed, clicked) for t in towns), return_exceptions=True
            )
            errors = [repr(r) for r in res if isinstance(r, BaseException)]
            conn.send(({t.seat.name: (t.peer.feed, t.join_ms) for t in towns}, errors))
        elif cmd == "count":
            conn.send({t.seat.name: _convenor_frames(t) for t in towns})
        elif cmd == "sent":
            conn.send((sum(t.video.sent for t in towns), sum(t.video.send_errors for t in towns)))
        elif cmd == "floor":
            feed, size, t0 = args
            got_ms = (time.time() - t0) * 1000
            given = [t for t in towns if t.peer.feed != feed]
            for t in given:
                t.floor_ms.clear()
            await asyncio.gather(*(t.give_floor(feed, size, t0) for t in given))
            deadline = time.monotonic() + 5.0
            while any(t.floor_wait for t in given) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            stages = [{"got": got_ms, **t.stages} for t in given]
            conn.send(([t.floor_ms[0] for t in given if t.floor_ms], stages))
            for t in towns:
                t.floor_wait = None
        elif cmd == "keyframes":  # when this worker's speaker sent key frames asked for
            feed, since = args
            conn.send([(k - since) * 1000 for t in towns if t.peer.feed == feed
                       for k in t.video.keyframes_at if k >= since])  # fmt: skip
        elif cmd == "stop":
            await asyncio.gather(*(t.peer.leave() for t in towns), return_exceptions=True)
            conn.send("stopped")
            return


def _convenor_frames(t: Town) -> int:
    return t.peer.frames.get(t.convenor.feed, 0) if t.convenor is not None else 0


async def _console(room: RoomInfo, seat: Seat, conn: Connection) -> None:
    peer = JanusPeer(
        room.url, room=room.room, pin=room.pin, token=seat.token, display=seat.name,
        count_only=True,
    )  # fmt: skip
    video = SimulcastVideo(layers_for(seat.tag, shared_layers()))
    conn.send(("ready", 1))
    while True:
        cmd, args = await asyncio.to_thread(conn.recv)
        if cmd == "publish":
            await peer.join()
            await peer.publish(video=video)
            conn.send(peer.feed)
        elif cmd == "tiles":
            res = await asyncio.gather(
                *(peer.subscribe(f, 0) for f in args), return_exceptions=True
            )
            conn.send([repr(r) for r in res if isinstance(r, BaseException)])
        elif cmd == "count":
            conn.send(dict(peer.frames))
        elif cmd == "sent":
            conn.send((video.sent, video.send_errors))
        elif cmd == "stop":
            await peer.leave()
            conn.send("stopped")
            return


def worker(
    kind: str, prefix: str, role: Role, room: RoomInfo, seats: list[Seat], conn: Connection
) -> None:
    """The entry point of a worker process (`multiprocessing`, spawn)."""
    loop = NsLoop(Netns(prefix), role)
    loop.start()
    try:
        main: Any = _towns(room, seats, conn) if kind == "towns" else _console(room, seats[0], conn)
        loop.run(main, timeout=3600)
    finally:
        loop.stop()
