"""One bounded WebSocket loop for every browser page of the hub (the phone page, the
mediation join page, the duty station and the hall's call socket).

Messages **in** are one pydantic discriminated union per page, read with a
`TypeAdapter`; messages **out** are pydantic models sent with `model_dump_json()`.
Nothing on the wire is a raw dict.

What the loop guarantees, for every page alike:

- **Bounded outgoing queue** (`Outbox`). What the hub pushes is queued as *items*
  (anything the page likes: a model, a task, a "state changed" note) and turned into
  a message by the page's `render` only when it is sent, so a slow page always gets
  the newest state. Two policies, chosen per page with `PageSocket(coalesce=...)`:

  * *latest-state coalescing*: items with the same `coalesce` key replace each other
    (the older one is dropped, the newer goes to the back of the queue), e.g. one
    pending push per task id, or one pending "state" per participant;
  * *fixed bound*: at most `SocketLimits.max_queue` items wait; one more closes the
    socket with 1013 (try again later) after counting and dropping what was pending.
    Every page reconnects on close and gets its full state again in its hello, so a
    page that cannot keep up loses nothing but time.

  Both apply at once: coalesced items never grow the queue, the others do.
- **Bounded incoming messages**: larger than `SocketLimits.max_in_bytes` → aiohttp
  closes the socket with 1009 (message too big).
- **Typed errors, never a dead loop**: a binary frame, a text that is not JSON, an
  unknown `type` or a message with wrong fields gets a `SocketError` reply
  (`{"type": "error", "code": "invalid", ...}`) and the loop reads on.
- **One writer**: only the sender task writes to the socket (after the optional
  hello), so replies, pushes and the final message never interleave.
- **A failing `render`** is logged and closes the socket with 1011 (the page
  reconnects); a failing `handle` or `hello` ends the request like any handler bug.
- **A few sockets per session**: `serve(key=...)` (a phone's session, say) keeps at most
  `SocketLimits.max_per_key` sockets open for one key; a new one closes the oldest
  (1000, "replaced"). A page that reconnects faster than its dead sockets are noticed
  (heartbeat) cannot pile them up on the hub.
- **Same origin only**: a browser's `Origin` must be the hub's own (the host the page
  was served under, or its public URL; `dispatch.hub.web_guard.check_origin`), else
  the upgrade is refused with 403 (a cross-site page cannot ride a visitor's cookie).
- **Clean ends**: when the page disconnects (or the hub stops), `detach` is called
  with the very push `attach` got, and the sender task is cancelled and awaited.
  A handler ends the conversation with `raise Leave(final)`: `final` is sent after
  what is already queued, then the socket closes (1000 unless told otherwise), and
  what the page still sends meanwhile is ignored. `PageSocket(closes_after=...)` does
  the same after a pushed message (e.g. the hall's `ended`).

Usage (a page module; the service pushes `TaskItem`s to the listener it is given)::

    class Ack(BaseModel):
        type: Literal["ack"]
        id: str

    class Read(BaseModel):
        type: Literal["read"]
        id: str

    PhoneIn = Annotated[Ack | Read, Field(discriminator="type")]

    SOCKET: PageSocket[Ack | Read, TaskItem] = PageSocket(
        "phone",
        TypeAdapter(PhoneIn, config=ADAPTER),
        SocketLimits(max_queue=256, heartbeat_s=20.0),
        coalesce=lambda item: item.task.id,  # latest state per task
    )

    async def websocket(request: web.Request) -> web.StreamResponse:
        ...  # authenticate first; answer 401 without upgrading

        async def handle(msg: Ack | Read) -> BaseModel | None:
            ...  # act; return a reply model, None, or raise Leave(final)

        async def render(item: TaskItem) -> BaseModel | None:
            return TaskPush(task=await view_of(item))  # None: send nothing

        async def hello() -> list[BaseModel]:
            return [Hello(tasks=await views())]  # sent before any push

        return await SOCKET.serve(
            request,
            handle=handle,
            render=render,
            attach=lambda push: svc.listen(person_id, push),
            detach=lambda push: svc.unlisten(person_id, push),
            hello=hello,
        )

Pages whose items already are the messages pass `render=as_is`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

from aiohttp import WSCloseCode, WSMsgType, web
from pydantic import BaseModel, TypeAdapter, ValidationError

from dispatch.hub.web_guard import check_origin

log = logging.getLogger(__name__)

InT = TypeVar("InT")
ItemT = TypeVar("ItemT")
ModelT = TypeVar("ModelT", bound=BaseModel)

Push = Callable[[ItemT], None]
"""What `attach` gets: call it (from the event loop's thread) to queue an item."""

CLOSE_TOO_SLOW = int(WSCloseCode.TRY_AGAIN_LATER)  # 1013: the outgoing queue overflowed
CLOSE_TOO_BIG = int(WSCloseCode.MESSAGE_TOO_BIG)  # 1009: an incoming message too large
CLOSE_NORMAL = int(WSCloseCode.OK)  # 1000: Leave, closes_after
CLOSE_INTERNAL = int(WSCloseCode.INTERNAL_ERROR)  # 1011: a page's render failed


class SocketError(BaseModel):
    """The reply to a message the loop (or a page's handler) refuses."""

    type: Literal["error"] = "error"
    code: str
    message: str


INVALID_TEXT = "消息格式错误"
BINARY_TEXT = "只接受 JSON 文本消息"


@dataclass(frozen=True)
class SocketLimits:
    """The bounds of one page's sockets."""

    max_queue: int = 64
    """Items waiting to be sent (after coalescing); one more closes with 1013."""
    max_in_bytes: int = 16 * 1024
    """Largest message accepted from the page; larger closes with 1009."""
    heartbeat_s: float = 20.0
    """aiohttp pings this often and drops a page that stops answering."""
    max_per_key: int = 3
    """Sockets open at once for one `serve(key=...)`; a new one closes the oldest."""


class Leave(Exception):
    """Raised by a handler: send `final` (if any) after what is queued, then close."""

    def __init__(self, final: BaseModel | None = None, code: int = CLOSE_NORMAL) -> None:
        super().__init__(final)
        self.final = final
        self.code = code


class Closed(Exception):
    """`Outbox.get` on a closed and drained outbox: close the socket with `code`."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


async def as_is(msg: ModelT) -> ModelT:
    """The `render` of pages whose pushed items already are the messages."""
    return msg


@dataclass(frozen=True)
class _Reply:
    """A message queued as it is: a reply, an error or the final message."""

    model: BaseModel


class Outbox(Generic[ItemT]):
    """The bounded, optionally coalescing queue of one socket (see the module doc).

    Only touched from the event loop's thread. Counters: `dropped` (items thrown away:
    pending at an overflow, the overflowing one, pushed after closing), `coalesced`
    (items replaced by a newer one with the same key)."""

    def __init__(self, maxsize: int, key: Callable[[ItemT], Hashable | None] | None = None) -> None:
        self._maxsize = maxsize
        self._key = key
        self._entries: OrderedDict[Hashable, ItemT | _Reply] = OrderedDict()
        self._seq = itertools.count()
        self._wake = asyncio.Event()
        self.overflowed = asyncio.Event()
        """Set at an overflow: whoever serves the socket closes it at once (1013)."""
        self.close_code: int | None = None
        self.dropped = 0
        self.coalesced = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def closing(self) -> bool:
        return self.close_code is not None

    def push(self, item: ItemT) -> None:
        """Queue a pushed item (coalesced by key; overflow closes with 1013)."""
        key = self._key(item) if self._key is not None else None
        self._put(item, key)

    def reply(self, msg: BaseModel) -> None:
        """Queue a message as it is (never coalesced, counted against the bound)."""
        self._put(_Reply(msg), None)

    def finish(self, final: BaseModel | None, code: int = CLOSE_NORMAL) -> None:
        """Send what is queued, then `final` (beyond the bound), then close."""
        if self.closing:
            return
        if final is not None:
            self._entries[("final", next(self._seq))] = _Reply(final)
        self._close(code)

    def _put(self, entry: ItemT | _Reply, key: Hashable | None) -> None:
        if self.closing:
            self.dropped += 1
            return
        if key is not None and key in self._entries:
            del self._entries[key]
            self.coalesced += 1
        elif len(self._entries) >= self._maxsize:
            self.dropped += len(self._entries) + 1
            self._entries.clear()
            self._close(CLOSE_TOO_SLOW)
            self.overflowed.set()
            return
        self._entries[key if key is not None else ("seq", next(self._seq))] = entry
        self._wake.set()

    def _close(self, code: int) -> None:
        self.close_code = code
        self._wake.set()

    async def get(self) -> ItemT | _Reply:
        """The oldest entry; `Closed` once closing and drained."""
        while not self._entries:
            if self.close_code is not None:
                raise Closed(self.close_code)
            self._wake.clear()
            await self._wake.wait()
        return self._entries.popitem(last=False)[1]


async def _guard(
    ws: web.WebSocketResponse, outbox: Outbox[ItemT], sender: asyncio.Task[None]
) -> None:
    """Close with 1013 as soon as the outbox overflows, even while the sender is
    stuck (in `render` or on a full socket): the sender is stopped first, so there is
    still one writer."""
    await outbox.overflowed.wait()
    sender.cancel()
    with contextlib.suppress(asyncio.CancelledError, ConnectionResetError):
        await sender
    await ws.close(code=CLOSE_TOO_SLOW)


@dataclass
class SocketStats:
    """Totals over all sockets of one `PageSocket` (for logs and tests)."""

    opened: int = 0
    invalid: int = 0
    dropped: int = 0
    coalesced: int = 0
    too_slow: int = 0
    replaced: int = 0  # closed for a newer socket of the same key (`max_per_key`)


class PageSocket(Generic[InT, ItemT]):
    """The WebSocket of one kind of page: its incoming union, bounds and push policy.

    Built once per page module (no I/O here); `serve` runs one connection."""

    def __init__(
        self,
        name: str,
        inbound: TypeAdapter[InT],
        limits: SocketLimits = SocketLimits(),
        *,
        coalesce: Callable[[ItemT], Hashable | None] | None = None,
        closes_after: Callable[[BaseModel], bool] | None = None,
    ) -> None:
        self.name = name
        self.inbound = inbound
        self.limits = limits
        self._coalesce = coalesce
        self._closes_after = closes_after
        self.stats = SocketStats()
        self._by_key: dict[Hashable, list[web.WebSocketResponse]] = {}
        self._closing: set[asyncio.Task[bool]] = set()

    async def serve(
        self,
        request: web.Request,
        *,
        handle: Callable[[InT], Awaitable[BaseModel | None]],
        render: Callable[[ItemT], Awaitable[BaseModel | None]],
        attach: Callable[[Push[ItemT]], None] | None = None,
        detach: Callable[[Push[ItemT]], None] | None = None,
        hello: Callable[[], Awaitable[Sequence[BaseModel]]] | None = None,
        key: Hashable | None = None,
    ) -> web.StreamResponse:
        """Upgrade `request` and run the conversation until either side leaves.

        A foreign `Origin` gets 403 without an upgrade (`web_guard.check_origin`).
        `attach(push)` runs right after the upgrade (pushes are queued from then on),
        `hello()`'s messages are sent first, then queued items (through `render`) and
        `handle`'s replies; `detach(push)` runs at the end, whatever the end. With `key`,
        the oldest socket of that key is closed when more than `max_per_key` are open."""
        refused = check_origin(request)
        if refused is not None:
            return refused
        ws = web.WebSocketResponse(
            heartbeat=self.limits.heartbeat_s, max_msg_size=self.limits.max_in_bytes
        )
        await ws.prepare(request)
        self._admit(key, ws)
        outbox: Outbox[ItemT] = Outbox(self.limits.max_queue, self._coalesce)
        push: Push[ItemT] = outbox.push
        self.stats.opened += 1
        tasks: list[asyncio.Task[None]] = []
        if attach is not None:
            attach(push)
        try:
            for msg in await hello() if hello is not None else ():
                await ws.send_str(msg.model_dump_json())
            sender = asyncio.create_task(self._send_all(ws, outbox, render))
            tasks += [sender, asyncio.create_task(_guard(ws, outbox, sender))]
            await self._read_all(ws, outbox, handle)
        finally:
            if detach is not None:
                detach(push)
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, ConnectionResetError):
                    await task
            self._count(outbox)
            self._forget(key, ws)
        return ws

    def _admit(self, key: Hashable | None, ws: web.WebSocketResponse) -> None:
        """Count `ws` under `key`; close the oldest beyond `max_per_key`."""
        if key is None:
            return
        open_ = self._by_key.setdefault(key, [])
        open_.append(ws)
        while len(open_) > max(1, self.limits.max_per_key):
            old = open_.pop(0)
            self.stats.replaced += 1
            task = asyncio.create_task(old.close(code=CLOSE_NORMAL, message=b"replaced"))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    def _forget(self, key: Hashable | None, ws: web.WebSocketResponse) -> None:
        open_ = self._by_key.get(key) if key is not None else None
        if open_ is None:
            return
        if ws in open_:
            open_.remove(ws)
        if not open_:
            del self._by_key[key]

    def open_for(self, key: Hashable) -> int:
        """Sockets open now for `key`."""
        return len(self._by_key.get(key, ()))

    async def _read_all(
        self,
        ws: web.WebSocketResponse,
        outbox: Outbox[ItemT],
        handle: Callable[[InT], Awaitable[BaseModel | None]],
    ) -> None:
        async for raw in ws:
            if outbox.closing:
                continue  # leaving: the sender closes once the queue is out
            if raw.type is WSMsgType.BINARY:
                self._refuse(outbox, BINARY_TEXT)
                continue
            if raw.type is not WSMsgType.TEXT:
                continue  # ERROR (e.g. too big): aiohttp has closed the socket already
            try:
                msg = self.inbound.validate_json(raw.data)
            except ValidationError:
                self._refuse(outbox, INVALID_TEXT)
                continue
            try:
                reply = await handle(msg)
            except Leave as leave:
                outbox.finish(leave.final, leave.code)
                continue
            if reply is not None:
                outbox.reply(reply)

    def _refuse(self, outbox: Outbox[ItemT], text: str) -> None:
        self.stats.invalid += 1
        outbox.reply(SocketError(code="invalid", message=text))

    async def _send_all(
        self,
        ws: web.WebSocketResponse,
        outbox: Outbox[ItemT],
        render: Callable[[ItemT], Awaitable[BaseModel | None]],
    ) -> None:
        try:
            await self._send_loop(ws, outbox, render)
        except ConnectionResetError:
            pass  # the page is gone; the reading side ends too
        except Exception:  # a bug in render: say so, and let the page reconnect
            log.exception("%s socket: sending failed", self.name)
            await ws.close(code=CLOSE_INTERNAL)

    async def _send_loop(
        self,
        ws: web.WebSocketResponse,
        outbox: Outbox[ItemT],
        render: Callable[[ItemT], Awaitable[BaseModel | None]],
    ) -> None:
        while True:
            try:
                entry = await outbox.get()
            except Closed as closed:
                if closed.code != CLOSE_TOO_SLOW:  # that one is `_guard`'s
                    await ws.close(code=closed.code)
                return
            msg = entry.model if isinstance(entry, _Reply) else await render(entry)
            if msg is None:
                continue
            await ws.send_str(msg.model_dump_json())
            if self._closes_after is not None and self._closes_after(msg):
                await ws.close(code=CLOSE_NORMAL)
                return

    def _count(self, outbox: Outbox[ItemT]) -> None:
        self.stats.dropped += outbox.dropped
        self.stats.coalesced += outbox.coalesced
        if outbox.close_code == CLOSE_TOO_SLOW:
            self.stats.too_slow += 1
            log.warning(
                "%s socket: page too slow, closed (1013), %d messages dropped",
                self.name,
                outbox.dropped,
            )
