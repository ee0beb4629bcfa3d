"""The switchable track (`SlotTrack`) leaves nothing running when its reader stops: the
hub's sender cancels `recv()` at the end of every call, and the source's `recv()` and
the switch watch it had started were left pending (logged as "Task was destroyed but it
is pending!" at the next collection, holding the source until then)."""

from __future__ import annotations

import asyncio

import av
from aiortc.mediastreams import MediaStreamTrack

from streams.webrtc.config import SlotTrack


class Silent(MediaStreamTrack):
    """A live source that has nothing to give yet (a party whose camera has not started)."""

    kind = "video"

    def __init__(self) -> None:
        super().__init__()
        self.waiting = 0
        self.cancelled = 0

    async def recv(self) -> av.VideoFrame:
        self.waiting += 1
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        raise AssertionError("unreachable")


def test_a_cancelled_recv_leaves_no_task_behind() -> None:
    async def body() -> tuple[int, int, set[asyncio.Task[object]]]:
        src = Silent()
        slot = SlotTrack("video")
        slot.set_source(src)
        before = asyncio.all_tasks()
        reader = asyncio.ensure_future(slot.recv())
        await asyncio.sleep(0.05)
        assert src.waiting == 1
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)
        await asyncio.sleep(0)  # the cancelled tasks run their last step
        return src.waiting, src.cancelled, asyncio.all_tasks() - before

    waiting, cancelled, left = asyncio.run(body())
    assert (waiting, cancelled) == (1, 1)
    assert not left, left


def test_a_switch_still_moves_to_the_new_source() -> None:
    class One(MediaStreamTrack):
        kind = "video"

        async def recv(self) -> av.VideoFrame:
            return av.VideoFrame(16, 16, "yuv420p")

    async def body() -> tuple[object, int]:
        first = Silent()
        slot = SlotTrack("video")
        slot.set_source(first)
        reader = asyncio.ensure_future(slot.recv())
        await asyncio.sleep(0.05)
        slot.set_source(One())  # the switch wakes the reader, which reads the new source
        frame = await asyncio.wait_for(reader, 5)
        await asyncio.sleep(0)
        return frame, first.cancelled

    frame, cancelled = asyncio.run(body())
    assert isinstance(frame, av.VideoFrame)
    assert cancelled == 1  # the old source's read was given up, not left waiting
