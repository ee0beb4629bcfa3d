"""The duty station's meeting socket, on the station page the roll call serves
(`/s/{token}`, `dispatch.rollcall.web`): the same link, PIN and cookie.

- `GET /s/{token}/meet/ws`  pushes `invite` (会议邀请: title, agenda, start time, seconds
  left, open or not, the invited centres' names), `gone` (cancelled, ended, removed,
  left), `floor` (who speaks, this station muted or not, its hand up or not); the page
  sends `join` (answered with a `ticket` into the room, or `refused` with the reason),
  `hand` (举手) and `leave`. 401 without the station's cookie.

The page joins the room itself with the ticket (`resources/web/common/janus-room.js`);
the socket's close is the station leaving every open meeting.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from aiohttp import web
from pydantic import TypeAdapter

from dispatch.domain.strict import ADAPTER
from dispatch.hub import web_guard, web_pages
from dispatch.hub.ws import PageSocket, SocketLimits, as_is
from dispatch.meetings.messages import MeetHand, MeetIn, MeetJoin, MeetLeave, MeetOut
from dispatch.meetings.service import MeetingsService

COOKIE = "hall_s"  # the station page's cookie (`dispatch.rollcall.web.COOKIE`)
Authorise = Callable[[str, str | None], Awaitable[str | None]]
"""(link token, cookie or bearer) → the station's centre id, or None."""

_SVC: web.AppKey[MeetingsService] = web.AppKey("meetings", MeetingsService)
_AUTH: web.AppKey[Authorise] = web.AppKey("meetings_station_auth")

MEET_SOCKET: PageSocket[MeetJoin | MeetHand | MeetLeave, MeetOut] = PageSocket(
    "station-meeting",
    TypeAdapter(MeetIn, config=ADAPTER),
    SocketLimits(max_queue=64, heartbeat_s=5.0),
)
"""A fixed bound: a page that falls 64 behind is closed, reconnects and is told its
invitations and the floor again."""


async def websocket(request: web.Request) -> web.StreamResponse:
    token = request.match_info["token"]
    centre = await request.app[_AUTH](token, web_pages.bearer(request, COOKIE))
    if centre is None:
        return web_pages.json_error(401, "auth", "登录已失效，请重新输入 PIN 码")
    svc = request.app[_SVC]

    async def handle(msg: MeetJoin | MeetHand | MeetLeave) -> MeetOut:
        return await svc.station_message(centre, msg)

    async def detach(push: Callable[[MeetOut], None]) -> None:
        await svc.station_disconnected(centre, push)

    return await MEET_SOCKET.serve(
        request,
        handle=handle,
        render=as_is,
        attach=lambda push: svc.station_connected(centre, push),
        detach=lambda push: _spawn(detach(push)),
    )


_TASKS: set[asyncio.Task[None]] = set()


def _spawn(coro: Coroutine[Any, Any, None]) -> None:
    """The leave is written after the socket's end (detach cannot wait)."""
    task = asyncio.get_running_loop().create_task(coro)
    _TASKS.add(task)
    task.add_done_callback(_TASKS.discard)


async def janus_csp(request: web.Request, response: web.StreamResponse) -> None:
    """The station and mediation pages may talk to Janus's API (another origin: its own
    port): their `connect-src` names that origin too (`web_guard` keeps a policy set)."""
    origin = request.app[_SVC].janus_origin
    if origin and request.path.startswith(("/s/", "/v/")) and response.content_type == "text/html":
        response.headers["Content-Security-Policy"] = web_guard.CSP.replace(
            "connect-src 'self'", f"connect-src 'self' {origin}"
        )


def add_meetings_routes(app: web.Application, svc: MeetingsService, authorise: Authorise) -> None:
    """The station's meeting socket; call before `web_guard.install` (the page's CSP)."""
    app[_SVC] = svc
    app[_AUTH] = authorise
    app.router.add_get("/s/{token}/meet/ws", websocket)
    app.on_response_prepare.append(janus_csp)
