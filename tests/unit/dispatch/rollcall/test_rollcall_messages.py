"""The roll call's typed wire: one request and one reply type per operation, each
registered with the hub's registry and sent by one method of the client facade."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, TypeVar, get_args

import pytest

from dispatch.client.rollcall import RollcallFacade
from dispatch.client.wire import decode_reply
from dispatch.domain.wire import ProtocolError, encode
from dispatch.hub.registry import HandlerRegistry
from dispatch.rollcall.messages import (
    REQUEST_TYPES,
    RollcallChanged,
    RollcallReply,
    RollcallRequestBase,
    RollcallStatusReply,
    RollcallStatusRequest,
    RollcallWeekReply,
    RollcallWeekRequest,
    RunInfo,
)

R = TypeVar("R")


def tag(kind: type[Any]) -> str:
    return str(kind.model_fields["type"].default)


def test_one_request_and_one_reply_type_per_operation() -> None:
    requests = [tag(k) for k in REQUEST_TYPES]
    replies = [tag(k) for k in get_args(RollcallReply)]
    assert len(requests) == len(set(requests)) == 16
    assert sorted(replies) == sorted(f"{t}_ok" for t in requests)
    assert all(t.startswith("rollcall_") for t in requests)


def test_the_registry_decodes_each_request_and_refuses_the_old_one() -> None:
    seen: list[RollcallRequestBase] = []

    async def handler(req: RollcallRequestBase) -> RollcallStatusReply:
        seen.append(req)
        return RollcallStatusReply(rid=req.rid, seq=1, run=None, schedule=_schedule())

    reg = HandlerRegistry()
    for kind in REQUEST_TYPES:
        reg.register(kind, handler)
    req = reg.decode(encode(RollcallWeekRequest(rid="r1", token="t", week=date(2026, 11, 16))))
    assert isinstance(req, RollcallWeekRequest) and req.week == date(2026, 11, 16)
    asyncio.run(reg.handle(req))
    assert seen == [req]
    with pytest.raises(ProtocolError):  # one request with an op is gone
        reg.decode(b'{"type":"rollcall","rid":"r2","token":"t","op":"status"}')
    with pytest.raises(ProtocolError):  # a field of another operation is refused
        reg.decode(b'{"type":"rollcall_status","rid":"r3","token":"t","centre_id":"x"}')


def _schedule() -> Any:
    from dispatch.rollcall.messages import ScheduleInfo

    return ScheduleInfo(weekday=0, at="09:00", ring_s=60, batch=5)


class Recorder:
    """A connection that answers every call with a fixed reply frame and keeps the request."""

    def __init__(self, reply: bytes) -> None:
        self.reply = reply
        self.sent: list[Any] = []

    async def call(self, reply: type[R], request: Callable[..., object]) -> R:
        self.sent.append(request(rid="r1", token="tok"))
        rep = decode_reply(self.reply)
        if not isinstance(rep, reply):
            raise TypeError(f"{type(rep).__name__} is not {reply.__name__}")
        return rep

    def token(self) -> str:
        return "tok"


def test_the_facade_sends_the_operations_own_request_and_expects_its_reply() -> None:
    status = RollcallStatusReply(rid="r1", seq=5, run=None, schedule=_schedule())
    conn = Recorder(encode(status))
    got = asyncio.run(RollcallFacade(conn).status())
    assert got == status
    assert conn.sent == [RollcallStatusRequest(rid="r1", token="tok")]
    week = RollcallWeekReply(rid="r1", seq=5, runs=[], calls=[], coverage=[])
    conn = Recorder(encode(week))
    asyncio.run(RollcallFacade(conn).week(date(2026, 11, 16)))
    assert conn.sent == [RollcallWeekRequest(rid="r1", token="tok", week=date(2026, 11, 16))]
    with pytest.raises(TypeError, match="RollcallWeekReply is not RollcallWatchReply"):
        asyncio.run(RollcallFacade(conn).watch("t01"))


def test_published_changes_reach_the_listeners_until_they_stop() -> None:
    facade = RollcallFacade(Recorder(b""))
    got: list[int] = []

    def broken(_msg: RollcallChanged) -> None:
        raise RuntimeError("a listener's bug")

    stop = facade.listen(lambda m: got.append(m.seq))
    stop_broken = facade.listen(broken)
    run = RunInfo(
        id="rc-1",
        week=date(2026, 11, 16),
        status="running",
        started_at=datetime(2026, 11, 16, 1, 0, tzinfo=UTC),
        ended_at=None,
        started_by="duty",
        batch=1,
        ring_s=60,
        talk_s=10,
        due=["t01"],
        exempt=[],
        calls=[],
    )
    facade.changed(RollcallChanged(seq=7, run=run))  # the broken one does not stop the rest
    assert got == [7] and facade.listening == 2
    stop()
    stop()
    stop_broken()
    facade.changed(RollcallChanged(seq=8, run=run))
    assert got == [7] and facade.listening == 0
