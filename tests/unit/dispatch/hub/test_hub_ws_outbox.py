"""The outgoing queue of the shared page socket (`dispatch.hub.ws.Outbox`): order,
latest-state coalescing, the bound and its counted overflow, the final message."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import BaseModel

from dispatch.hub.ws import CLOSE_NORMAL, CLOSE_TOO_SLOW, Closed, Outbox, SocketError


class Note(BaseModel):
    key: str
    n: int


def by_key(note: Note) -> str:
    return note.key


async def drain(box: Outbox[Note]) -> tuple[list[object], int]:
    got: list[object] = []
    while True:
        try:
            entry = await asyncio.wait_for(box.get(), 1.0)
        except Closed as closed:
            return got, closed.code
        got.append(entry if isinstance(entry, Note) else entry.model)


def test_fifo_without_coalescing_then_overflow_drops_everything_and_closes() -> None:
    box: Outbox[Note] = Outbox(3)
    for n in range(3):
        box.push(Note(key="a", n=n))
    assert len(box) == 3 and not box.closing
    box.push(Note(key="a", n=3))  # one too many
    assert box.close_code == CLOSE_TOO_SLOW
    assert (len(box), box.dropped) == (0, 4)
    box.push(Note(key="a", n=4))  # after closing: dropped too
    assert box.dropped == 5
    got, code = asyncio.run(drain(box))
    assert (got, code) == ([], CLOSE_TOO_SLOW)


def test_coalescing_keeps_the_newest_per_key_at_the_back() -> None:
    box: Outbox[Note] = Outbox(2, by_key)
    box.push(Note(key="a", n=1))
    box.push(Note(key="b", n=1))
    for n in range(2, 50):  # never grows the queue
        box.push(Note(key="a", n=n))
    assert (len(box), box.coalesced, box.closing) == (2, 48, False)
    box.finish(None)
    got, code = asyncio.run(drain(box))
    assert got == [Note(key="b", n=1), Note(key="a", n=49)]
    assert code == CLOSE_NORMAL


def test_replies_count_against_the_bound_and_the_final_goes_beyond_it() -> None:
    box: Outbox[Note] = Outbox(2, by_key)
    box.reply(SocketError(code="invalid", message="x"))
    box.push(Note(key="a", n=1))
    box.finish(SocketError(code="bye", message="y"), 4000)
    box.push(Note(key="a", n=2))  # closing: not queued, not coalesced
    assert box.dropped == 1
    got, code = asyncio.run(drain(box))
    assert got == [
        SocketError(code="invalid", message="x"),
        Note(key="a", n=1),
        SocketError(code="bye", message="y"),
    ]
    assert code == 4000


def test_get_waits_for_a_push() -> None:
    async def scenario() -> object:
        box: Outbox[Note] = Outbox(4)
        waiter = asyncio.create_task(box.get())
        await asyncio.sleep(0.01)
        assert not waiter.done()
        box.push(Note(key="a", n=7))
        return await asyncio.wait_for(waiter, 1.0)

    assert asyncio.run(scenario()) == Note(key="a", n=7)


def test_closed_carries_its_code() -> None:
    box: Outbox[Note] = Outbox(1)
    box.finish(None, 1001)
    with pytest.raises(Closed) as exc:
        asyncio.run(box.get())
    assert exc.value.code == 1001
