"""One mediation call of the soak: the console's aiortc peer (as the mediation tests'
`ConsolePeer`) and two aiortc parties that log in with their PINs on their join links
and send a synthetic camera; each admitted; media is held for `hold_s`, then everyone
leaves and the session is closed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import aiohttp

from dispatch.client.connection import HubClient
from dispatch.domain.wire import ErrorCode, HubError
from dispatch.hub.process import HubProcess
from dispatch.mediation.messages import MediationLink
from dispatch.mediation.web import COOKIE
from streams.webrtc.client import SignallingError, StarClient
from streams.webrtc.config import SyntheticCamera
from tests.integration.dispatch.mediation.test_mediation_support import (
    INVITES,
    LOOPBACK,
    ConsolePeer,
)
from tests.kit.tls import hub_session

PARTIES = 2
T = TypeVar("T")
SIZE = (320, 240)
MIN_FRAMES = 10  # frames the console must have had from every party


@dataclass(frozen=True)
class CallResult:
    minute: float
    media_s: float | None  # admission → every party's frames at the console; None: never
    frames_min: int  # the fewest frames the console had from one party over the call
    error: str = ""


async def party_session(hub: HubProcess, link: MediationLink, tries: int = 10) -> str:
    """The party's session cookie after its PIN, as the join page gets it (after the
    wait a 429 asks for: every soak client shares one address, and the hub counts PIN
    logins in flight per address)."""
    async with hub_session(hub, cookie_jar=aiohttp.DummyCookieJar()) as s:
        for n in range(tries):
            url = f"{hub.http_url}{link.path}/login"
            async with s.post(url, data={"pin": link.pin}, allow_redirects=False) as r:
                if r.status == 303:
                    return r.cookies[COOKIE].value
                if r.status != 429 or n == tries - 1:
                    raise RuntimeError(f"party login: HTTP {r.status}")
                wait = float(r.headers.get("Retry-After", "1"))
            await asyncio.sleep(min(max(wait, 0.5), 10.0))
    raise AssertionError("unreachable")


async def admit(host: ConsolePeer, pid: str, tries: int = 40) -> None:
    """Admit a participant (the host's signalling socket may still be opening)."""
    for n in range(tries):
        try:
            await host.admit(pid)
            return
        except SignallingError:
            if n == tries - 1:
                raise
            await asyncio.sleep(0.5)


async def join(hub: HubProcess, link: MediationLink, tries: int = 20) -> StarClient:
    """A party in the call: its PIN, then its aiortc peer (again, new, while the lobby
    still refuses it: the admission is applied as the host's message arrives)."""
    session = await party_session(hub, link)
    for n in range(tries):
        party = StarClient(
            hub.http_url + link.path,
            session,
            video=SyntheticCamera(link.label, *SIZE),
            audio=None,
            keep_hosts=LOOPBACK,
            ssl_context=hub.ssl_context(),
        )
        try:
            await party.start()
            return party
        except SignallingError:
            await party.stop()
            if n == tries - 1:
                raise
            await asyncio.sleep(0.5)
    raise AssertionError("unreachable")


async def asked(call: Callable[[], Awaitable[T]], tries: int = 3) -> T:
    """A request, asked again when a loaded hub did not answer in time."""
    for n in range(tries):
        try:
            return await call()
        except HubError as exc:
            if exc.code is not ErrorCode.TIMEOUT or n == tries - 1:
                raise
    raise AssertionError("unreachable")


async def close(client: HubClient, session_id: str) -> None:
    """Close the session; `conflict` (already ended) is the answer to a close asked again
    after the first one's reply came too late."""
    try:
        await asked(
            lambda: client.mediation.close_mediation(session_id, "agreement", notes="浸泡测试")
        )
    except HubError as exc:
        if exc.code is not ErrorCode.CONFLICT:
            raise


async def mediation_call(hub: HubProcess, client: HubClient, event_id: str, minute: float,
                         hold_s: float = 60.0, timeout_s: float = 60.0) -> CallResult:  # fmt: skip
    rep = await asked(lambda: client.mediation.open_mediation(event_id, INVITES[:PARTIES]))
    host = ConsolePeer(hub, rep, size=SIZE)
    parties: list[StarClient] = []
    media_s: float | None = None
    best: dict[str, int] = {}
    error = ""
    try:
        await host.client.start()
        t0 = time.monotonic()
        for link in rep.links:  # admitted first: the lobby refuses a party's offer
            await admit(host, link.participant_id)
        for link in rep.links:
            parties.append(await join(hub, link))
        want = {link.participant_id for link in rep.links}
        end = time.monotonic() + timeout_s + hold_s
        while time.monotonic() < end:  # the most frames seen from each party
            for p, n in host.frames_by_peer().items():
                best[p] = max(best.get(p, 0), n)
            if media_s is None and all(best.get(p, 0) >= MIN_FRAMES for p in want):
                media_s = time.monotonic() - t0
                end = time.monotonic() + hold_s
            await asyncio.sleep(0.5)
    except Exception as exc:  # reported in the call's row; the soak goes on
        error = f"{type(exc).__name__}: {exc}"
    finally:  # every peer stopped and the session closed whatever failed (an open
        # session would keep its connections in the hub for the rest of the soak)
        for stop in [*(p.stop for p in parties), host.client.stop]:
            try:
                await stop()
            except Exception as exc:
                error = error or f"stop: {type(exc).__name__}: {exc}"
    frames_min = min((best.get(link.participant_id, 0) for link in rep.links), default=0)
    try:
        await close(client, rep.session_id)
    except Exception as exc:
        error = error or f"close: {type(exc).__name__}: {exc}"
    return CallResult(minute=minute, media_s=media_s, frames_min=frames_min, error=error)
