"""The duty-station page and its signalling, served by the hub (aiohttp): `/s/{token}`.

Same shape as the mediation links (`dispatch.mediation.web`): a personal link + PIN,
a cookie scoped to the link (or `Authorization: Bearer`), a WHIP-style offer and a
WebSocket for presence and pushes. Both sockets run on the hub's one bounded loop
(`dispatch.hub.ws`); their messages are the pydantic models of `dispatch.rollcall.messages`
(`StationIn`/`StationOut`, `HallIn`/`HallOut`); a message the page should not send gets a
typed `error` reply and the socket reads on.

- `GET  /s/{token}`           PIN form, or the station page once logged in (404 unknown,
  410 expired, 423 locked — Chinese pages)
- `POST /s/{token}/login`     form `pin`: 303 + cookie, or 401 with the attempts left
- `GET  /s/{token}/ws`        presence (online while open); pushes `hello`, `ring`
  (call_id, ring_s, left_s), `cancel`, `hangup`, `hall` (the hall's peer present or
  not); the page sends `answer` / `decline`
- `POST /s/{token}/offer?call=ID`  `application/sdp` → 201 answer from the call's room
- `GET  /s-static/…`          resources/web/station

The hall (a console) joins an answered call as the room's third peer `hall`, with the
path and session of the zmq `rollcall_watch` request (`Authorization: Bearer <session>`;
the same signalling `streams.webrtc.client.StarClient` speaks for mediation):

- `POST /rollcall/hall/{call_id}/offer`  `application/sdp` → 201 answer (401 no token,
  403 wrong / replaced / expired token, 404 no such call, 409 call ended or station not
  on yet, 400 bad SDP, 415 wrong type)
- `GET  /rollcall/hall/{call_id}/ws`     pushes `hello` (centre, answered_at) and
  `ended` (reason, text) when the call is over, then closes; the console may send
  `leave`; a replaced or expired token gets an `error` (code, message) and the close
"""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aiohttp import web
from pydantic import TypeAdapter

from dispatch.domain.strict import ADAPTER
from dispatch.hub import web_pages
from dispatch.hub.ws import Leave, PageSocket, SocketError, SocketLimits, as_is
from dispatch.links.web import locked_text, set_link_cookie, wrong_pin_text
from dispatch.rollcall.hall import HallError
from dispatch.rollcall.messages import (
    HallEnded,
    HallIn,
    HallLeave,
    HallOut,
    StationAnswer,
    StationDecline,
    StationIn,
    StationOut,
)
from dispatch.rollcall.service import RollcallService, StationAuthError
from streams.webrtc.room import RoomError

log = logging.getLogger(__name__)

WEB_DIR = Path(__file__).resolve().parents[2] / "resources" / "web" / "station"
COOKIE = "hall_s"
_SVC: web.AppKey[RollcallService] = web.AppKey("rollcall", RollcallService)

PAGES = {
    "unknown": (404, "链接无效", "该值班点链接不存在或已被收回。请联系县综治中心重新获取。"),
    "expired": (410, "链接已过期", "该值班点链接已过有效期。请联系县综治中心重新发放。"),
    "locked": (423, "链接已锁定", locked_text("县综治中心")),
}


def shell(
    title: str, body: str, *, script: str | Sequence[str] = "", config: dict[str, Any] | None = None
) -> str:
    return web_pages.shell(title, body, css="/s-static/station.css", script=script, config=config)


def message_page(title: str, text: str) -> str:
    return web_pages.message_page(title, text, css="/s-static/station.css")


def pin_page(token: str, name: str, error: str = "") -> str:
    return shell(
        "值班点 · 输入 PIN",
        web_pages.pin_login(
            heading=f"{name} 值班点",
            prompt="请输入县综治中心发给本值班点的 6 位 PIN 码",
            action=f"/s/{token}/login",
            error=error,
            maxlength=6,
            button="进入值班",
        ),
    )


MEETING_SCRIPTS = ("/c-static/janus-room.js", "/s-static/meeting.js")


def station_page(token: str, config: dict[str, Any]) -> str:
    name = html.escape(str(config.get("name", "")))
    return shell(
        f"{config.get('name', '')} 值班点",
        f'<main class="station"><header><h1>{name} · 视频点名值班</h1>'
        '<span id="presence" class="presence offline">连接中…</span></header>'
        '<section id="idle" class="idle"><p>请保持本页打开。县综治中心点名时，本页会响铃。</p>'
        '<p id="sound-hint" class="hint" hidden>请点击页面任意处以启用铃声</p>'
        '<video id="preview" autoplay muted playsinline></video></section>'
        '<section id="ringing" class="ringing" hidden><h2>县综治中心视频点名</h2>'
        '<p class="count"><span id="countdown">60</span> 秒</p>'
        '<div class="buttons"><button id="answer" class="answer">接听</button>'
        '<button id="decline" class="decline">拒接</button></div></section>'
        '<section id="incall" class="incall" hidden><h2>通话中</h2>'
        '<div class="call-grid"><figure class="hall">'
        '<video id="hall" autoplay muted playsinline></video>'
        '<div id="hall-wait" class="hall-wait">等待指挥中心画面…</div>'
        "<figcaption>县综治中心</figcaption></figure>"
        '<figure class="mine"><video id="self" autoplay muted playsinline></video>'
        "<figcaption>本值班点</figcaption></figure></div>"
        '<audio id="hall-audio" autoplay></audio>'
        '<p id="call-status" class="muted"></p></section>'
        '<p id="last" class="muted"></p></main>',
        script=(
            web_pages.MEDIA_JS,
            "/s-static/station.js",
            # the meetings' invitations and room (dispatch.meetings), only when the hub has
            # a meetings engine: without one the page opens no meeting socket
            *(MEETING_SCRIPTS if config.get("meetings") else ()),
        ),
        config={"token": token, **config},
    )


_page = web_pages.html_response
_json_error = web_pages.json_error


def _svc(request: web.Request) -> RollcallService:
    return request.app[_SVC]


def _refused(exc: StationAuthError) -> web.Response:
    code, title, text = PAGES[exc.kind]
    return _page(code, message_page(title, text))


async def _centre(request: web.Request) -> str | None:
    token = request.match_info["token"]
    cred = web_pages.bearer(request, COOKIE)
    return await _svc(request).stations.authorised(token, cred)


async def get_page(request: web.Request) -> web.Response:
    svc = _svc(request)
    token = request.match_info["token"]
    try:
        centre_id, _ = await svc.stations.station(token)
    except StationAuthError as exc:
        return _refused(exc)
    c = svc.centres.get(centre_id)
    name = c.name if c else centre_id
    if await _centre(request) is None:
        return _page(200, pin_page(token, name))
    ice = svc.ice(f"station-{centre_id}").browser()
    cfg = {
        "name": name,
        "centre": centre_id,
        "ice_servers": ice["iceServers"],
        "ice_policy": ice["iceTransportPolicy"],
        "keep_hosts": svc.keep_hosts or [],
        "meetings": svc.meetings_on(),
        **web_pages.page_links(request),
    }
    return _page(200, station_page(token, cfg))


async def post_login(request: web.Request) -> web.Response:
    svc = _svc(request)
    token = request.match_info["token"]
    form = await request.post()
    try:
        _, cookie = await svc.stations.login(token, str(form.get("pin", "")).strip())
    except StationAuthError as exc:
        if exc.kind != "pin":
            return _refused(exc)
        c = svc.centres.get(exc.centre)
        return _page(401, pin_page(token, c.name if c else exc.centre, wrong_pin_text(exc.left)))
    resp = web.Response(status=303, headers={"Location": f"/s/{token}"})
    set_link_cookie(resp, COOKIE, cookie, f"/s/{token}", secure=request.secure)
    return resp


async def get_ice(request: web.Request) -> web.Response:
    """Fresh ICE servers (new TURN credentials) for the station's next call."""
    centre = await _centre(request)
    if centre is None:
        return _json_error(401, "auth", "登录已失效，请重新输入 PIN 码")
    ice = _svc(request).ice(f"station-{centre}").browser()
    return web.json_response(ice, headers={"Cache-Control": "no-store"})


async def post_offer(request: web.Request) -> web.Response:
    centre = await _centre(request)
    if centre is None:
        return _json_error(401, "auth", "登录已失效，请重新输入 PIN 码")
    sdp = await web_pages.sdp_offer(request)
    if isinstance(sdp, web.Response):
        return sdp
    try:
        answer = await _svc(request).signalling.offer(centre, request.query.get("call", ""), sdp)
    except RoomError as exc:
        return _json_error(400 if exc.code == "bad_offer" else 409, exc.code, exc.message)
    return web_pages.sdp_answer(answer)


STATION_SOCKET: PageSocket[StationAnswer | StationDecline, StationOut] = PageSocket(
    "station", TypeAdapter(StationIn, config=ADAPTER), SocketLimits(max_queue=64, heartbeat_s=5.0)
)
"""The station page's socket: a fixed bound (a ring, its cancel or hangup and the hall's
presence per call; a page that falls 64 behind is closed and reconnects, and is rung again
if its call is still ringing). The 5 s heartbeat is what takes a dead page offline."""

HALL_SOCKET: PageSocket[HallLeave, HallOut] = PageSocket(
    "rollcall-hall",
    TypeAdapter(HallIn),
    SocketLimits(max_queue=16, heartbeat_s=5.0),
    closes_after=lambda m: isinstance(m, HallEnded),
)
"""The hall's call socket: `hello`, then `ended` (which closes it); a fixed bound."""


async def websocket(request: web.Request) -> web.StreamResponse:
    centre = await _centre(request)
    if centre is None:
        return _json_error(401, "auth", "登录已失效，请重新输入 PIN 码")
    sig = _svc(request).signalling

    async def handle(msg: StationAnswer | StationDecline) -> None:
        sig.station_message(centre, msg)

    return await STATION_SOCKET.serve(
        request,
        handle=handle,
        render=as_is,
        attach=lambda push: sig.connected(centre, push),
        detach=lambda push: sig.disconnected(centre, push),
    )


def _hall_error(exc: HallError) -> web.Response:
    return _json_error(exc.status, exc.code, exc.message)


def _hall_token(request: web.Request) -> str | None:
    auth = request.headers.get("Authorization", "")
    return auth[len("Bearer ") :].strip() or None if auth.startswith("Bearer ") else None


async def post_hall_offer(request: web.Request) -> web.Response:
    svc = _svc(request)
    call_id = request.match_info["call_id"]
    try:
        svc.signalling.hall_check(call_id, _hall_token(request))
    except HallError as exc:
        return _hall_error(exc)
    sdp = await web_pages.sdp_offer(request)
    if isinstance(sdp, web.Response):
        return sdp
    try:
        answer = await svc.signalling.hall_offer(call_id, _hall_token(request), sdp)
    except HallError as exc:
        return _hall_error(exc)
    return web_pages.sdp_answer(answer, location=f"/rollcall/hall/{call_id}/offer")


async def get_hall_ice(request: web.Request) -> web.Response:
    """Fresh ICE servers for the hall's next connection to the call (a rejoin)."""
    svc = _svc(request)
    call_id = request.match_info["call_id"]
    try:
        svc.signalling.hall_check(call_id, _hall_token(request))
    except HallError as exc:
        return _hall_error(exc)
    ice = svc.ice(f"hall-{call_id}").browser()
    return web.json_response(ice, headers={"Cache-Control": "no-store"})


async def hall_websocket(request: web.Request) -> web.StreamResponse:
    sig = _svc(request).signalling
    call_id = request.match_info["call_id"]
    token = _hall_token(request)
    try:
        call = sig.hall_check(call_id, token)
    except HallError as exc:
        return _hall_error(exc)

    async def handle(msg: HallLeave) -> None:
        try:
            sig.hall_check(call_id, token)
        except HallError as exc:  # replaced or expired: say so and leave
            raise Leave(SocketError(code=exc.code, message=exc.message)) from None
        sig.hall_message(call_id, msg)

    return await HALL_SOCKET.serve(
        request,
        handle=handle,
        render=as_is,
        attach=lambda push: sig.hall_connected(call, push),
        detach=lambda push: sig.hall_disconnected(call_id, push),
    )


def add_rollcall_routes(app: web.Application, svc: RollcallService) -> None:
    app[_SVC] = svc
    app.router.add_get("/s/{token}", get_page)
    app.router.add_post("/s/{token}/login", post_login)
    app.router.add_post("/s/{token}/offer", post_offer)
    app.router.add_get("/s/{token}/ice", get_ice)
    app.router.add_get("/s/{token}/ws", websocket)
    app.router.add_post("/rollcall/hall/{call_id}/offer", post_hall_offer)
    app.router.add_get("/rollcall/hall/{call_id}/ws", hall_websocket)
    app.router.add_get("/rollcall/hall/{call_id}/ice", get_hall_ice)
    app.router.add_static("/s-static/", WEB_DIR)
