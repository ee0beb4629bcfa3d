"""The mediation join page and signalling, served by the hub (aiohttp): `/v/{token}`.

- `GET  /v/{token}`          PIN form, or the join page once logged in; an unknown link
  404, an expired one 410, a locked one 423, a finished session 410 (Chinese pages)
- `POST /v/{token}/login`    form `pin`; wrong → 401 page, right → 303 + cookie
- `POST /v/{token}/offer`    WHIP-style: body `application/sdp` offer → 201 with the
  SDP answer; 401 without a valid session, 403 while waiting in the lobby
- `GET  /v/{token}/ws`       WebSocket on the shared loop (`dispatch.hub.ws`): `state`
  pushes (participants, slots, recording), `removed`, `closed`, `recording`; the page
  sends `media` (mute state), the host `admit`, `remove`, `record` (the models of
  `dispatch.mediation.messages`); a refused message gets an `error` reply, an expired
  login an `error` and the close
- `GET  /v-static/…`         resources/web/mediation

The session is a cookie scoped to the link, or `Authorization: Bearer <session>` (the
console). Both are checked on every call, against the link's expiry too.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from dispatch.domain.wire import ErrorCode, HubError
from dispatch.hub import web_pages
from dispatch.hub.ws import Leave, PageSocket, SocketError, SocketLimits
from dispatch.links.web import locked_text, set_link_cookie, wrong_pin_text
from dispatch.mediation.core import Participant
from dispatch.mediation.messages import PAGE_IN, PageInMsg
from dispatch.mediation.service import MediationService
from dispatch.mediation.service.pushes import Push, StateDue
from streams.webrtc.room import RoomError

log = logging.getLogger(__name__)

WEB_DIR = Path(__file__).resolve().parents[2] / "resources" / "web" / "mediation"
COOKIE = "hall_v"
_SVC: web.AppKey[MediationService] = web.AppKey("mediation", MediationService)

# Pushes are coalesced: one pending state per socket (rendered when sent, so it is the
# newest); removed / closed / recording queue up to the bound, beyond which the page is
# closed (1013) and rejoins with its full state.
SOCKET: PageSocket[PageInMsg, Push] = PageSocket(
    "mediation",
    PAGE_IN,
    SocketLimits(max_queue=64, heartbeat_s=10.0),
    coalesce=lambda item: "state" if isinstance(item, StateDue) else None,
)

PAGES = {
    "unknown": (404, "链接无效", "该调解链接不存在或已被收回。请联系综治中心重新获取。"),
    "expired": (410, "链接已过期", "该调解链接已过有效期。请联系综治中心重新发放链接和 PIN 码。"),
    "closed": (410, "调解已结束", "本次远程调解会话已经结束。如有疑问请联系综治中心。"),
    "locked": (423, "链接已锁定", locked_text("综治中心")),
}


# -- pure helpers ------------------------------------------------------------------------------


def shell(
    title: str, body: str, *, script: str | Sequence[str] = "", config: dict[str, Any] | None = None
) -> str:
    return web_pages.shell(title, body, css="/v-static/mediation.css", script=script, config=config)


def message_page(title: str, text: str) -> str:
    return web_pages.message_page(title, text, css="/v-static/mediation.css")


def pin_page(token: str, who: str, error: str = "") -> str:
    return shell(
        "远程调解 · 输入 PIN",
        web_pages.pin_login(
            heading="远程视频调解",
            prompt=f"{who}，请输入综治中心发给您的 6 位 PIN 码",
            action=f"/v/{token}/login",
            error=error,
            placeholder="PIN 码",
            autofocus=True,
        ),
    )


def join_page(token: str, config: dict[str, Any]) -> str:
    body = (
        '<header class="bar"><span class="title">远程视频调解</span>'
        '<span id="who"></span><span id="rec" class="rec" hidden>● 录制中</span>'
        '<span id="conn" class="conn">未连接</span></header>'
        '<section id="setup" class="card"><h2>设备检查</h2>'
        '<video id="preview" autoplay muted playsinline></video>'
        '<label>摄像头 <select id="cam"></select></label>'
        '<label>麦克风 <select id="mic"></select></label>'
        '<div class="meter"><div id="level"></div></div>'
        '<button id="enter">进入等候室</button></section>'
        '<section id="lobby" class="card" hidden><h2>等候室</h2>'
        '<p id="lobby-text">请稍候，主持人准许后即可入会。</p></section>'
        '<section id="call" hidden><div id="grid" class="grid"></div>'
        '<div class="controls"><button id="mute">静音</button>'
        '<button id="camera">关闭摄像头</button>'
        '<label class="device">摄像头 <select id="call-cam"></select></label>'
        '<label class="device">麦克风 <select id="call-mic"></select></label>'
        '<button id="leave" class="danger">离开</button></div></section>'
        '<section id="ended" class="card notice" hidden><h1 id="ended-title">已离开</h1>'
        '<p id="ended-text"></p></section>'
    )
    return shell(
        "远程视频调解",
        body,
        script=(
            web_pages.MEDIA_JS,
            "/c-static/janus-room.js",  # a session on Janus (beyond 6 parties)
            "/v-static/mediation-janus.js",
            "/v-static/mediation.js",
        ),
        config={"base": f"/v/{token}", **config},
    )


_page = web_pages.html_response
_json_error = web_pages.json_error


def bearer(request: web.Request) -> str | None:
    return web_pages.bearer(request, COOKIE)


# -- handlers ------------------------------------------------------------------------------------


def _svc(request: web.Request) -> MediationService:
    return request.app[_SVC]


def _refusal(svc: MediationService, token: str) -> web.Response | None:
    status, _ = svc.link_status(token)
    if status == "ok":
        return None
    code, title, text = PAGES[status]
    return _page(code, message_page(title, text))


def _who(request: web.Request) -> Participant | None:
    return _svc(request).participant(request.match_info["token"], bearer(request))


def _auth_error(request: web.Request) -> web.Response:
    status, _ = _svc(request).link_status(request.match_info["token"])
    if status != "ok":
        code, title, text = PAGES[status]
        return _json_error(code, status, f"{title}：{text}")
    return _json_error(401, "auth", "登录已失效，请重新输入 PIN 码")


async def get_page(request: web.Request) -> web.Response:
    svc = _svc(request)
    token = request.match_info["token"]
    refused = _refusal(svc, token)
    if refused is not None:
        return refused
    _, p = svc.link_status(token)
    assert p is not None
    if _who(request) is None:
        return _page(200, pin_page(token, f"{p.label} {p.name}"))
    ice = svc.ice(f"med-{p.id}").browser()
    cfg = {
        "name": p.name,
        "label": p.label,
        "ice_servers": ice["iceServers"],
        "ice_policy": ice["iceTransportPolicy"],
        "keep_hosts": svc.keep_hosts or [],
        **web_pages.page_links(request),
    }
    return _page(200, join_page(token, cfg))


async def post_login(request: web.Request) -> web.Response:
    svc = _svc(request)
    token = request.match_info["token"]
    form = await request.post()
    res = await svc.login(token, str(form.get("pin", "")).strip())
    if res.ok:
        resp = web.Response(status=303, headers={"Location": f"/v/{token}"})
        set_link_cookie(resp, COOKIE, res.session, f"/v/{token}", secure=request.secure)
        return resp
    if res.reason == "wrong":
        _, p = svc.link_status(token)
        who = f"{p.label} {p.name}" if p is not None else ""
        return _page(401, pin_page(token, who, wrong_pin_text(res.remaining)))
    code, title, text = PAGES[res.reason]
    return _page(code, message_page(title, text))


async def get_ice(request: web.Request) -> web.Response:
    """Fresh ICE servers (new TURN credentials) for the page's next connection."""
    p = _who(request)
    if p is None:
        return _auth_error(request)
    ice = _svc(request).ice(f"med-{p.id}").browser()
    return web.json_response(ice, headers={"Cache-Control": "no-store"})


async def post_offer(request: web.Request) -> web.Response:
    p = _who(request)
    if p is None:
        return _auth_error(request)
    sdp = await web_pages.sdp_offer(request)
    if isinstance(sdp, web.Response):
        return sdp
    if request.query.get("restart") == "1":
        # aiortc (the embedded media centre) cannot restart ICE on a live connection:
        # the page then joins again from a new connection. An SFU answers here.
        return _json_error(409, "ice_restart_unsupported", "媒体中心不支持 ICE 重启，请重新入会")
    try:
        answer = await _svc(request).offer(p, sdp)
    except HubError as exc:
        status = 403 if exc.code is ErrorCode.FORBIDDEN else 409
        return _json_error(status, exc.code.value, exc.message)
    except RoomError as exc:
        return _json_error(400 if exc.code == "bad_offer" else 409, exc.code, exc.message)
    return web_pages.sdp_answer(answer, location=f"/v/{request.match_info['token']}/offer")


async def websocket(request: web.Request) -> web.StreamResponse:
    p = _who(request)
    if p is None:
        return _auth_error(request)
    svc = _svc(request)
    token = request.match_info["token"]

    async def handle(msg: PageInMsg) -> BaseModel | None:
        if svc.participant(token, bearer(request)) is None:
            raise Leave(SocketError(code=ErrorCode.AUTH.value, message="登录已失效"))
        try:
            await svc.command(p, msg)
        except HubError as exc:
            return SocketError(code=exc.code.value, message=exc.message)
        return None

    async def render(item: Push) -> BaseModel:
        return svc.state_for(p) if isinstance(item, StateDue) else item

    return await SOCKET.serve(
        request,
        handle=handle,
        render=render,
        attach=lambda push: svc.connected(p, push),
        detach=lambda push: svc.disconnected(p, push),
    )


async def _start(app: web.Application) -> None:
    # the open sessions of a restarted hub are back before the first request is served
    await app[_SVC].start()


def add_mediation_routes(app: web.Application, svc: MediationService) -> None:
    app[_SVC] = svc
    app.on_startup.append(_start)
    app.router.add_get("/v/{token}", get_page)
    app.router.add_post("/v/{token}/login", post_login)
    app.router.add_post("/v/{token}/offer", post_offer)
    app.router.add_get("/v/{token}/ice", get_ice)
    app.router.add_get("/v/{token}/ws", websocket)
    app.router.add_static("/v-static/", WEB_DIR)
