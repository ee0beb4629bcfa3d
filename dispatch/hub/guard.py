"""Limits on guessing (issue 12, hole 4): PINs per client address across every personal
link, operator passwords per account and per client, each a `Throttle` (growing delays,
then a temporary block; `dispatch.domain.throttle`) built from the `[guard]` config.

- **The client** of an HTTP request is its peer address; behind a reverse proxy listed in
  `[guard] trusted_proxies` it is the last address of `X-Forwarded-For` that is not a
  trusted proxy. Without that key no header is ever believed (`client_address`).
- **PIN logins** (`POST /m|v|s/{token}/login`, the phone, mediation and station pages) pass
  `pin_middleware`: a client that must wait gets 429 with `Retry-After` and a Chinese
  page; otherwise the attempt is counted before the page checks it (`pin_counted`), and
  given back when the page answers 303 (logged in; `pin_done`). The per-link lockout
  (5 wrong PINs) stays the features' own, in their stores.
- **Operator logins** (zmq) call `login_wait` then `login_counted` with no await between,
  then `login_ok` after a right password (the account's count starts again; the client's
  gets this attempt back) or `login_failed` after a wrong one.
- A block started by a wrong guess goes to the `SecurityLog`: it logs it and writes
  `security_entry` to the audit table under the pseudo event `SECURITY_LOG`
  ("security", `dispatch.domain.security`).
"""

from __future__ import annotations

import asyncio
import html
import ipaddress
import logging
import math
import re
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import datetime
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware

from dispatch.db.store import append_audit
from dispatch.domain.security import CLIENT, Kind, security_entry
from dispatch.domain.throttle import Throttle, ThrottlePolicy
from dispatch.hub.config import GuardConfig
from dispatch.hub.writer import Tx

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Clock = Callable[[], datetime]
log = logging.getLogger("hall-hub.guard")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

PIN_LOGIN = re.compile(r"^/(?P<kind>[mvs])/[^/]+/login$")
_CSS = {"m": "/m-static/grid.css", "v": "/v-static/mediation.css", "s": "/s-static/station.css"}


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def client_address(peer: str | None, forwarded_for: str | None, trusted: Sequence[Network]) -> str:
    """The client of a request from `peer`: the peer itself unless it is a trusted proxy,
    then the last `X-Forwarded-For` address that is not a trusted proxy (each proxy
    appends the address it saw; the ones before a trusted hop are the client's word)."""
    ip = _ip(peer or "")
    if ip is None:
        return peer or "?"
    if not forwarded_for or not any(ip in n for n in trusted):
        return str(ip)
    for hop in reversed(forwarded_for.split(",")):
        hop_ip = _ip(hop)
        if hop_ip is None:
            return str(ip)  # garbage in the chain: believe only the proxy itself
        if not any(hop_ip in n for n in trusted):
            return str(hop_ip)
    return str(ip)


def wait_text(seconds: float) -> str:
    return f"尝试次数过多，请 {max(1, math.ceil(seconds))} 秒后再试。"


def too_many_page(kind: str, seconds: float) -> web.Response:
    """429 for a PIN form: `Retry-After` and a Chinese notice (the page's own style)."""
    css = html.escape(_CSS.get(kind, ""))
    text = html.escape(wait_text(seconds))
    body = (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>请稍后再试</title><link rel="stylesheet" href="{css}"></head><body>'
        '<main class="card notice error" id="notice"><h1>请稍后再试</h1>'
        f'<p id="retry">{text}</p></main></body></html>'
    )
    return web.Response(
        status=429,
        text=body,
        content_type="text/html",
        charset="utf-8",
        headers={"Retry-After": str(max(1, math.ceil(seconds))), "Cache-Control": "no-store"},
    )


class SecurityLog:
    """Writes `security_entry` rows through the hub's writer (`commit`) and logs them;
    `drain()` waits for the rows still being written (the hub's stop)."""

    def __init__(
        self, commit: Callable[[Callable[[Tx], None]], Coroutine[Any, Any, None]], clock: Clock
    ) -> None:
        self._commit = commit
        self._clock = clock
        self._tasks: set[asyncio.Task[None]] = set()

    def __call__(self, kind: Kind, who: str, client: str) -> None:
        log.warning("guessing blocked: %s %s from %s", kind, who, client)
        entry = security_entry(self._clock(), kind, who, client)
        task = asyncio.create_task(self._commit(lambda tx: append_audit(tx.conn, [entry])))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        await asyncio.gather(*self._tasks, return_exceptions=True)


def _policy(free: int, block: int, cfg: GuardConfig) -> ThrottlePolicy:
    return ThrottlePolicy(
        free=free,
        block_after=block,
        block_s=cfg.block_s,
        max_delay_s=cfg.max_delay_s,
        forget_s=max(3600.0, cfg.block_s),
    )


class Guard:
    """The hub's three throttles and who the client is."""

    def __init__(
        self,
        cfg: GuardConfig,
        *,
        log: SecurityLog | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.trusted: tuple[Network, ...] = tuple(
            ipaddress.ip_network(n, strict=False) for n in cfg.trusted_proxies
        )
        self.pins = Throttle(_policy(cfg.pin_free_per_client, cfg.pin_block_per_client, cfg))
        self.accounts = Throttle(
            _policy(cfg.login_free_per_account, cfg.login_block_per_account, cfg)
        )
        self.clients = Throttle(_policy(cfg.login_free_per_client, cfg.login_block_per_client, cfg))
        self._log = log
        self._clock = clock

    def client(self, request: web.Request) -> str:
        return client_address(request.remote, request.headers.get("X-Forwarded-For"), self.trusted)

    def _blocked(self, kind: Kind, who: str, client: str) -> None:
        if self._log is not None:
            self._log(kind, who, client)

    async def drain(self) -> None:
        """Wait for the audit rows still being written."""
        if self._log is not None:
            await self._log.drain()

    # -- PINs ---------------------------------------------------------------------------
    def pin_wait(self, client: str) -> float:
        return self.pins.retry_after(client, self._clock())

    def pin_counted(self, client: str) -> bool:
        """Count the attempt before it is checked; True when it starts a block."""
        return self.pins.count(client, self._clock())

    def pin_done(self, client: str, ok: bool, blocks: bool) -> None:
        """After the check: a right PIN is given back, a wrong one that blocks audited."""
        if ok:
            self.pins.refund(client, self._clock())
        elif blocks:
            self._blocked("pin", "-", client)

    # -- operator passwords -------------------------------------------------------------
    def login_wait(self, account: str, client: str) -> float:
        now = self._clock()
        return max(self.accounts.retry_after(account, now), self.clients.retry_after(client, now))

    def login_counted(self, account: str, client: str) -> tuple[bool, bool]:
        """Count the attempt before the password is checked; whether it starts a block
        of the account, of the client."""
        now = self._clock()
        return self.accounts.count(account, now), self.clients.count(client, now)

    def login_failed(self, account: str, client: str, blocks: tuple[bool, bool]) -> None:
        """A wrong password: the blocks it started are audited."""
        if blocks[0]:
            self._blocked("login", account, client)
        if blocks[1]:
            self._blocked("login", "-", client)

    def login_ok(self, account: str, client: str) -> None:
        """A right password: the account starts again, the client gets this one back."""
        self.accounts.reset(account)
        self.clients.refund(client, self._clock())

    def login_uncounted(self, account: str, client: str) -> None:
        """The attempt was never checked (the hub was busy): it is no failure."""
        now = self._clock()
        self.accounts.refund(account, now)
        self.clients.refund(client, now)


def pin_middleware(guard: Guard) -> Middleware:
    """The aiohttp middleware throttling the personal links' PIN forms per client."""

    @web.middleware
    async def throttle_pins(request: web.Request, handler: Handler) -> web.StreamResponse:
        m = PIN_LOGIN.match(request.path)
        if request.method != "POST" or m is None:
            return await handler(request)
        client = guard.client(request)
        CLIENT.set(client)  # this request's task: a link locked below names it
        wait = guard.pin_wait(client)
        if wait > 0:
            return too_many_page(m.group("kind"), wait)
        blocks = guard.pin_counted(client)
        ok = False
        try:
            resp = await handler(request)
            ok = resp.status == 303  # logged in: this attempt was no guess
        finally:
            guard.pin_done(client, ok, blocks)
        return resp

    return throttle_pins
