"""Janus's HTTP API (the "janus" protocol over POST + long-poll GET) with aiohttp.

`JanusSession`: `create()` a session, `attach(plugin)` handles, `request(handle, body,
jsep)` a plugin message (a synchronous "success" answer, or the "ack" then the event with
the same transaction, which the poll loop hands back), `trickle()`, `detach()`,
`destroy()`. The poll loop (`GET /janus/<session>?maxev=N`) is the keepalive too; it
puts every other event on the handle's queue (`events(handle)`). When the session is
gone (Janus answered 458 "no such session", or stopped answering), `lost` is set and
every waiter gets `JanusSessionLost`; whoever owns the session makes a new one.

Errors are typed: `JanusError` (Janus's own error: code, reason), `PluginError` (the
plugin's `error_code`/`error`), `JanusUnreachable` (no answer), `JanusSessionLost`.
Used by the hub's engine (`dispatch.meetings.janus`) and the console's peer
(`streams.webrtc.janus_peer`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from dataclasses import dataclass, field
from typing import Any

import aiohttp

log = logging.getLogger(__name__)

NO_SUCH_SESSION = 458
JsonObj = dict[str, Any]


class JanusError(RuntimeError):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"janus error {code}: {reason}")
        self.code = code
        self.reason = reason


class PluginError(JanusError):
    """The plugin refused (videoroom's error_code, e.g. 433 unauthorized, 426 no room)."""


class JanusUnreachable(JanusError):
    def __init__(self, reason: str) -> None:
        super().__init__(0, reason)


class JanusSessionLost(JanusError):
    def __init__(self, reason: str = "session lost") -> None:
        super().__init__(NO_SUCH_SESSION, reason)


@dataclass(frozen=True)
class JanusEvent:
    """One asynchronous message from Janus for a handle."""

    kind: str  # event, webrtcup, media, hangup, slowlink, detached, trickle, ...
    handle: int
    data: JsonObj = field(default_factory=dict)  # plugindata.data for "event"
    jsep: JsonObj | None = None
    raw: JsonObj = field(default_factory=dict)


def _tx() -> str:
    return secrets.token_urlsafe(9)


def plugin_data(msg: JsonObj) -> JsonObj:
    pd = msg.get("plugindata")
    data = pd.get("data") if isinstance(pd, dict) else None
    return data if isinstance(data, dict) else {}


def raise_for(msg: JsonObj) -> None:
    """Janus's error, or the plugin's error inside a success/event."""
    if msg.get("janus") == "error":
        err = msg.get("error") or {}
        code = int(err.get("code", 0))
        if code == NO_SUCH_SESSION:
            raise JanusSessionLost(str(err.get("reason", "")))
        raise JanusError(code, str(err.get("reason", "")))
    data = plugin_data(msg)
    if "error_code" in data or "error" in data:
        raise PluginError(int(data.get("error_code", 0)), str(data.get("error", "")))


class JanusSession:
    """One Janus session over HTTP. `http` is the caller's aiohttp session."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        url: str,
        *,
        timeout_s: float = 10.0,
        apisecret: str | None = None,
    ) -> None:
        self.http = http
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s
        self.apisecret = apisecret
        self.id: int | None = None
        self.lost = asyncio.Event()
        self._pending: dict[str, asyncio.Future[JsonObj]] = {}
        self._queues: dict[int, asyncio.Queue[JanusEvent]] = {}
        self._poller: asyncio.Task[None] | None = None

    # -- plumbing -------------------------------------------------------------------

    async def _post(self, path: str, body: JsonObj) -> JsonObj:
        body = {**body, "transaction": body.get("transaction") or _tx()}
        if self.apisecret:
            body["apisecret"] = self.apisecret
        try:
            async with self.http.post(
                f"{self.url}{path}", json=body, timeout=aiohttp.ClientTimeout(self.timeout_s)
            ) as r:
                msg = await r.json(content_type=None)
        except (TimeoutError, aiohttp.ClientError, ValueError) as e:
            raise JanusUnreachable(f"{self.url}: {type(e).__name__} {e}") from e
        if not isinstance(msg, dict):
            raise JanusError(0, f"not a JSON object: {msg!r:.200}")
        return msg

    def _path(self, handle: int | None = None) -> str:
        if self.id is None:
            raise JanusSessionLost("no session (create() first)")
        return f"/{self.id}" + (f"/{handle}" if handle is not None else "")

    # -- session --------------------------------------------------------------------

    async def create(self) -> None:
        """A new session and its poll loop (safe twice)."""
        if self.id is not None and not self.lost.is_set():
            return
        msg = await self._post("", {"janus": "create"})
        raise_for(msg)
        self.id = int(msg["data"]["id"])
        self.lost = asyncio.Event()
        self._poller = asyncio.create_task(self._poll_loop(), name=f"janus-poll-{self.id}")

    async def attach(self, plugin: str = "janus.plugin.videoroom") -> int:
        msg = await self._post(self._path(), {"janus": "attach", "plugin": plugin})
        raise_for(msg)
        handle = int(msg["data"]["id"])
        self._queues[handle] = asyncio.Queue()
        return handle

    def events(self, handle: int) -> asyncio.Queue[JanusEvent]:
        return self._queues.setdefault(handle, asyncio.Queue())

    async def request(
        self, handle: int, body: JsonObj, jsep: JsonObj | None = None, *, wait_s: float = 15.0
    ) -> tuple[JsonObj, JsonObj | None]:
        """A plugin message; its data (plugindata.data) and the JSEP of the answer."""
        tx = _tx()
        fut: asyncio.Future[JsonObj] = asyncio.get_running_loop().create_future()
        self._pending[tx] = fut
        try:
            msg: JsonObj = {"janus": "message", "body": body, "transaction": tx}
            if jsep is not None:
                msg["jsep"] = jsep
            reply = await self._post(self._path(handle), msg)
            if reply.get("janus") == "ack":
                reply = await self._wait(fut, wait_s)
            raise_for(reply)
            j = reply.get("jsep")
            return plugin_data(reply), j if isinstance(j, dict) else None
        finally:
            self._pending.pop(tx, None)

    async def _wait(self, fut: asyncio.Future[JsonObj], wait_s: float) -> JsonObj:
        lost: asyncio.Future[Any] = asyncio.ensure_future(self.lost.wait())
        waiting: set[asyncio.Future[Any]] = {fut, lost}
        try:
            done, _ = await asyncio.wait(waiting, timeout=wait_s, return_when="FIRST_COMPLETED")
        finally:
            lost.cancel()
        if fut in done and not fut.cancelled():
            return fut.result()
        if self.lost.is_set():
            raise JanusSessionLost()
        raise JanusUnreachable(f"no answer within {wait_s:.0f} s")

    async def trickle(self, handle: int, candidate: JsonObj | None) -> None:
        """A candidate, or None for `{"completed": true}`."""
        cand = candidate if candidate is not None else {"completed": True}
        raise_for(await self._post(self._path(handle), {"janus": "trickle", "candidate": cand}))

    async def detach(self, handle: int) -> None:
        with contextlib.suppress(JanusError):
            raise_for(await self._post(self._path(handle), {"janus": "detach"}))
        self._queues.pop(handle, None)

    async def destroy(self) -> None:
        """Ends the session at Janus (if it still answers) and the poll loop."""
        if self.id is not None and not self.lost.is_set():
            with contextlib.suppress(JanusError):
                await self._post(self._path(), {"janus": "destroy"})
        await self.close()

    async def close(self) -> None:
        poller, self._poller = self._poller, None
        if poller is not None:
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller
        self._mark_lost("closed")

    # -- long poll ------------------------------------------------------------------

    async def _poll_loop(self) -> None:
        failures = 0
        while not self.lost.is_set():
            try:
                msgs = await self._poll_once()
                failures = 0
            except JanusSessionLost as e:
                self._mark_lost(e.reason)
                return
            except JanusUnreachable as e:
                failures += 1
                if failures >= 2:
                    self._mark_lost(e.reason)
                    return
                await asyncio.sleep(0.2)
                continue
            for m in msgs:
                self._dispatch(m)

    async def _poll_once(self) -> list[JsonObj]:
        url = f"{self.url}{self._path()}?maxev=10&rid={secrets.randbelow(1 << 30)}"
        if self.apisecret:
            url += f"&apisecret={self.apisecret}"
        try:
            async with self.http.get(url, timeout=aiohttp.ClientTimeout(45)) as r:
                body = await r.json(content_type=None)
        except (TimeoutError, aiohttp.ClientError, ValueError) as e:
            raise JanusUnreachable(f"{self.url}: {type(e).__name__} {e}") from e
        msgs = body if isinstance(body, list) else [body]
        for m in msgs:
            if isinstance(m, dict) and m.get("janus") == "error":
                raise_for(m)
        return [m for m in msgs if isinstance(m, dict)]

    def _dispatch(self, m: JsonObj) -> None:
        kind = str(m.get("janus", ""))
        if kind == "keepalive":
            return
        tx = m.get("transaction")
        fut = self._pending.get(tx) if isinstance(tx, str) else None
        if fut is not None and not fut.done() and kind in ("event", "success", "error"):
            fut.set_result(m)
            return
        handle = int(m.get("sender", 0) or 0)
        j = m.get("jsep")
        ev = JanusEvent(kind, handle, plugin_data(m), j if isinstance(j, dict) else None, m)
        self.events(handle).put_nowait(ev)

    def _mark_lost(self, reason: str) -> None:
        if not self.lost.is_set():
            log.info("janus session %s lost: %s", self.id, reason)
        self.lost.set()
        for fut in self._pending.values():
            fut.cancel()  # the waiter sees `lost` and raises JanusSessionLost
        for handle, q in self._queues.items():
            q.put_nowait(JanusEvent("lost", handle))
