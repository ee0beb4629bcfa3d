"""The shared page socket (`dispatch.hub.ws.PageSocket`) on a real aiohttp server and
client on loopback: typed messages in and out, typed errors that keep the loop alive,
the size bound, the queue bound, leaving, closing after a message, and the clean end
(detach with the attached push, sender cancelled) when the page goes away."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import aiohttp
import pytest
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer
from pydantic import BaseModel, Field, TypeAdapter

from dispatch.hub.ws import (
    CLOSE_NORMAL,
    CLOSE_TOO_BIG,
    CLOSE_TOO_SLOW,
    Leave,
    PageSocket,
    Push,
    SocketLimits,
)

pytestmark = pytest.mark.integration

TIMEOUT = 5.0


class Echo(BaseModel):
    type: Literal["echo"]
    text: str


class Bye(BaseModel):
    type: Literal["bye"]


class Flood(BaseModel):
    type: Literal["flood"]
    n: int


In = Annotated[Echo | Bye | Flood, Field(discriminator="type")]


class Said(BaseModel):
    type: Literal["said"] = "said"
    text: str


class State(BaseModel):
    type: Literal["state"] = "state"
    key: str
    n: int


class Hello(BaseModel):
    type: Literal["hello"] = "hello"
    pending: int


@dataclass
class Hub:
    """The hub side: the pushes of the open sockets, and what was detached."""

    pushes: list[Push[State]] = field(default_factory=list)
    detached: list[Push[State]] = field(default_factory=list)
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    rendered: list[State] = field(default_factory=list)
    gate: asyncio.Event = field(default_factory=asyncio.Event)

    def attach(self, push: Push[State]) -> None:
        self.pushes.append(push)
        push(State(key="attach", n=0))  # queued before the hello is even built

    def detach(self, push: Push[State]) -> None:
        self.detached.append(push)
        self.ended.set()


def make_socket(**kw: Any) -> PageSocket[Echo | Bye | Flood, State]:
    limits = kw.pop("limits", SocketLimits(max_queue=8, max_in_bytes=1024, heartbeat_s=5.0))
    return PageSocket("test", TypeAdapter(In), limits, **kw)


def app_for(
    sock: PageSocket[Echo | Bye | Flood, State], hub: Hub, *, gated: bool
) -> web.Application:
    async def handler(request: web.Request) -> web.StreamResponse:
        async def handle(msg: Echo | Bye | Flood) -> BaseModel | None:
            if isinstance(msg, Bye):
                raise Leave(Said(text="bye"))
            if isinstance(msg, Flood):
                for n in range(msg.n):
                    hub.pushes[-1](State(key=f"k{n % 3}", n=n))
                return None
            return Said(text=msg.text.upper())

        async def render(item: State) -> BaseModel | None:
            if gated:
                await hub.gate.wait()  # a page that does not keep up
            hub.rendered.append(item)
            return None if item.n < 0 else item

        async def hello() -> list[BaseModel]:
            return [Hello(pending=1)]

        return await sock.serve(
            request, handle=handle, render=render, attach=hub.attach, detach=hub.detach, hello=hello
        )

    app = web.Application()
    app.router.add_get("/ws", handler)
    return app


@asynccontextmanager
async def page(
    sock: PageSocket[Echo | Bye | Flood, State], *, gated: bool = False
) -> AsyncIterator[tuple[Hub, aiohttp.ClientWebSocketResponse]]:
    hub = Hub()
    server = TestServer(app_for(sock, hub, gated=gated), host="127.0.0.1")
    await server.start_server()
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(server.make_url("/ws")) as ws,
        ):
            yield hub, ws
    finally:
        await server.close()


async def recv(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    msg = await ws.receive(TIMEOUT)
    assert msg.type is WSMsgType.TEXT, msg
    data: dict[str, Any] = json.loads(msg.data)
    return data


async def closed_with(ws: aiohttp.ClientWebSocketResponse) -> int | None:
    while True:
        msg = await ws.receive(TIMEOUT)
        if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING):
            return ws.close_code
        assert msg.type is WSMsgType.TEXT, msg


def run(scenario: Callable[[], Any]) -> Any:
    return asyncio.run(asyncio.wait_for(scenario(), 4 * TIMEOUT))


def test_hello_first_then_pushes_and_typed_replies() -> None:
    async def scenario() -> None:
        async with page(make_socket()) as (hub, ws):
            assert await recv(ws) == {"type": "hello", "pending": 1}
            assert await recv(ws) == {"type": "state", "key": "attach", "n": 0}
            await ws.send_json({"type": "echo", "text": "证据 ok"})
            assert await recv(ws) == {"type": "said", "text": "证据 OK"}
            hub.pushes[0](State(key="a", n=-1))  # render says: nothing to send
            hub.pushes[0](State(key="a", n=5))
            assert await recv(ws) == {"type": "state", "key": "a", "n": 5}

    run(scenario)


def test_malformed_and_unknown_messages_get_typed_errors_and_the_loop_lives() -> None:
    sock = make_socket()

    async def scenario() -> None:
        async with page(sock) as (_, ws):
            await recv(ws), await recv(ws)  # hello, attach push
            for bad in ("not json", '{"type": "nope"}', '{"type": "echo"}', "[1, 2]", "{}"):
                await ws.send_str(bad)
                assert await recv(ws) == {
                    "type": "error",
                    "code": "invalid",
                    "message": "消息格式错误",
                }, bad
            await ws.send_bytes(b"\x00\x01")
            assert (await recv(ws))["code"] == "invalid"
            await ws.send_json({"type": "echo", "text": "still here"})
            assert await recv(ws) == {"type": "said", "text": "STILL HERE"}

    run(scenario)
    assert sock.stats.invalid == 6


def test_a_message_over_the_size_bound_closes_with_1009_and_detaches() -> None:
    async def scenario() -> None:
        async with page(make_socket()) as (hub, ws):
            await recv(ws), await recv(ws)
            await ws.send_json({"type": "echo", "text": "x" * 2000})
            assert await closed_with(ws) == CLOSE_TOO_BIG
            await asyncio.wait_for(hub.ended.wait(), TIMEOUT)
            assert hub.detached == hub.pushes

    run(scenario)


def test_a_page_that_does_not_keep_up_is_closed_with_1013_and_counted() -> None:
    sock = make_socket()

    async def scenario() -> None:
        async with page(sock, gated=True) as (hub, ws):
            assert await recv(ws) == {"type": "hello", "pending": 1}
            # the attach push is stuck in render; 3 keys coalesce, then 20 distinct items
            await ws.send_json({"type": "flood", "n": 30})
            await asyncio.wait_for(hub.ended.wait(), TIMEOUT)  # closed by the hub side
            hub.gate.set()
            assert await closed_with(ws) == CLOSE_TOO_SLOW

    run(scenario)
    assert sock.stats.too_slow == 1


def test_coalescing_sends_only_the_newest_state_per_key() -> None:
    sock = make_socket(coalesce=lambda s: s.key)

    async def scenario() -> list[dict[str, Any]]:
        async with page(sock, gated=True) as (hub, ws):
            await recv(ws)  # hello; the attach push waits at the gate
            await ws.send_json({"type": "flood", "n": 300})
            await ws.send_json({"type": "echo", "text": "done"})
            while sock.stats.opened == 0 or not hub.pushes:
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.2)
            hub.gate.set()
            return [await recv(ws) for _ in range(5)]

    got = run(scenario)
    assert got == [
        {"type": "state", "key": "attach", "n": 0},
        {"type": "state", "key": "k0", "n": 297},
        {"type": "state", "key": "k1", "n": 298},
        {"type": "state", "key": "k2", "n": 299},
        {"type": "said", "text": "DONE"},
    ]
    assert sock.stats.coalesced == 297 and sock.stats.too_slow == 0


def test_leave_sends_the_final_message_then_closes_normally() -> None:
    async def scenario() -> None:
        async with page(make_socket()) as (hub, ws):
            await recv(ws), await recv(ws)
            await ws.send_json({"type": "echo", "text": "a"})
            await ws.send_json({"type": "bye"})
            await ws.send_json({"type": "echo", "text": "ignored"})
            assert await recv(ws) == {"type": "said", "text": "A"}
            assert await recv(ws) == {"type": "said", "text": "bye"}
            assert await closed_with(ws) == CLOSE_NORMAL
            await asyncio.wait_for(hub.ended.wait(), TIMEOUT)

    run(scenario)


def test_closes_after_a_final_push() -> None:
    sock = make_socket(closes_after=lambda m: isinstance(m, State) and m.key == "end")

    async def scenario() -> None:
        async with page(sock) as (hub, ws):
            await recv(ws), await recv(ws)
            hub.pushes[0](State(key="end", n=1))
            hub.pushes[0](State(key="after", n=2))
            assert await recv(ws) == {"type": "state", "key": "end", "n": 1}
            assert await closed_with(ws) == CLOSE_NORMAL
            await asyncio.wait_for(hub.ended.wait(), TIMEOUT)

    run(scenario)


def test_page_going_away_detaches_and_stops_the_sender() -> None:
    async def scenario() -> Hub:
        async with page(make_socket(), gated=True) as (hub, ws):
            await recv(ws)  # hello; the sender now waits in render
            await ws.close()
            await asyncio.wait_for(hub.ended.wait(), TIMEOUT)
            hub.pushes[0](State(key="late", n=1))  # after the end: harmless
            return hub

    hub = run(scenario)
    assert hub.detached == hub.pushes and len(hub.pushes) == 1
    assert hub.rendered == []  # the sender was cancelled at the gate, not left running


def test_a_session_keeps_a_few_sockets_a_new_one_closes_the_oldest() -> None:
    """`serve(key=...)`: a page that reconnects faster than its dead sockets are noticed
    (the soak's phones while the hub stalled) cannot pile them up on the hub."""
    limits = SocketLimits(max_queue=8, max_in_bytes=1024, heartbeat_s=30.0, max_per_key=2)
    sock = make_socket(limits=limits)

    async def handler(request: web.Request) -> web.StreamResponse:
        async def handle(msg: Echo | Bye | Flood) -> BaseModel | None:
            return None

        async def render(item: State) -> BaseModel | None:
            return item

        return await sock.serve(request, handle=handle, render=render, key=request.query["k"])

    async def scenario() -> None:
        app = web.Application()
        app.router.add_get("/ws", handler)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        try:
            async with aiohttp.ClientSession() as s:
                first = await s.ws_connect(server.make_url("/ws?k=s1"))
                other = await s.ws_connect(server.make_url("/ws?k=s2"))
                second = await s.ws_connect(server.make_url("/ws?k=s1"))
                assert sock.open_for("s1") == 2
                third = await s.ws_connect(server.make_url("/ws?k=s1"))
                assert await closed_with(first) == CLOSE_NORMAL  # at once, not at a heartbeat
                assert sock.open_for("s1") == 2 and sock.open_for("s2") == 1
                for ws in (second, third, other):
                    assert not ws.closed
                    await ws.close()
            for _ in range(100):
                if sock.open_for("s1") == sock.open_for("s2") == 0:
                    break
                await asyncio.sleep(0.05)
            assert sock.open_for("s1") == 0 and sock.open_for("s2") == 0
        finally:
            await server.close()

    run(scenario)
    assert sock.stats.replaced == 1
