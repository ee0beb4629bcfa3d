"""The grid leader's phone page, served by the hub (aiohttp): `/m/{token}` + a PIN.

Routes (all under the personal link; the session is a cookie scoped to the link):

- `GET  /m/{token}`                      PIN form, or the task page once logged in;
  an unknown link 404, an expired one 410, a locked one 423 (clear Chinese pages)
- `POST /m/{token}/login`                form `pin`; wrong → 401 page, right → 303 + cookie
- `GET  /m/{token}/ws`                   WebSocket: `hello` with the open tasks, then
  `task` pushes; the page sends `ack` (→ delivered) and `read` per task id, and, when
  the person ticked "共享我的位置", `position` fixes (answered `position_shared`, or an
  `error` with code `position` saying why it was refused) and `position_off` when
  they untick it (the hub forgets the position; `dispatch.positions`)
- `GET  /m/{token}/api/tasks`            the open tasks (JSON)
- `POST /m/{token}/api/tasks/{id}/{act}` accept | return | arrive | feedback | read,
  JSON `{note, photos}`; errors as JSON `{error, message}` (Chinese)
- `POST /m/{token}/api/tasks/{id}/photos` raw body, JPEG/PNG/WebP by magic bytes, ≤ 5 MB
  (read whole: larger, also chunked, → 413; cut short → 400; nothing is stored then)
- `GET  /m/{token}/files/{id}`           a photo or evidence file of one of their tasks
- `GET  /m-static/…`                     resources/web/grid (HTML shell, JS, CSS)
"""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aiohttp import web
from pydantic import BaseModel, TypeAdapter

from dispatch.domain.strict import ADAPTER
from dispatch.domain.wire import ErrorCode, HubError
from dispatch.hub import web_guard, web_pages
from dispatch.hub.ws import PageSocket, Push, SocketError, SocketLimits
from dispatch.links.web import locked_text, set_link_cookie, wrong_pin_text
from dispatch.positions.core import PositionRefused
from dispatch.positions.messages import PositionIn, PositionOff, PositionShared
from dispatch.positions.service import PositionsService
from dispatch.tasks.core import (
    PRIORITY_LABELS_ZH,
    STATE_LABELS_ZH,
    DispatchTask,
    TaskActor,
    allowed_actions,
)
from dispatch.tasks.phone_messages import (
    Ack,
    EvidenceView,
    Hello,
    PhoneIn,
    PhoneInMsg,
    PhotoReply,
    TaskItem,
    TaskPush,
    TaskReply,
    TasksReply,
    TaskView,
)
from dispatch.tasks.service import DispatchService
from dispatch.tasks.uploads import MAX_PHOTO_BYTES, UploadRefused, content_disposition

log = logging.getLogger(__name__)

WEB_DIR = Path(__file__).resolve().parents[2] / "resources" / "web" / "grid"
COOKIE = "hall_m"
PHOTO_READ_S = 120.0
"""The longest a photo upload may take (a slow mobile link sends 5 MB in well under it)."""
CSS = "/m-static/grid.css"
_SVC: web.AppKey[DispatchService] = web.AppKey("dispatch", DispatchService)
_POS: web.AppKey[PositionsService | None] = web.AppKey("positions")
POSITIONS_OFF_TEXT = "本中心未开启位置共享"

SOCKET: PageSocket[PhoneInMsg, TaskItem] = PageSocket(
    "phone",
    TypeAdapter(PhoneIn, config=ADAPTER),
    SocketLimits(max_queue=256, heartbeat_s=20.0),
    coalesce=lambda item: item.task.id,  # the latest state of each task
)
"""Latest-state coalescing per task id: a phone that lags gets each task once, as it
now is (the view is built when sent); more than 256 different tasks waiting close
the socket (1013) and the page reconnects to a fresh hello."""

_PAGES = {
    "unknown": (
        404,
        "链接无效",
        "该链接不存在或已被收回。请联系所在乡镇（街道）综治中心重新获取。",
    ),
    "expired": (
        410,
        "链接已过期",
        "该链接已过有效期。请联系所在乡镇（街道）综治中心重新发放链接和 PIN 码。",
    ),
    "locked": (423, "链接已锁定", locked_text("综治中心")),
}


# -- pure helpers ------------------------------------------------------------------------------


def _shell(
    title: str, body: str, *, script: str | Sequence[str] = "", config: dict[str, Any] | None = None
) -> str:
    return web_pages.shell(title, body, css=CSS, script=script, config=config)


def message_page(title: str, text: str, *, kind: str = "error") -> str:
    return web_pages.message_page(title, text, css=CSS, kind=kind)


def pin_page(token: str, error: str = "") -> str:
    body = web_pages.pin_login(
        heading="网格员任务",
        prompt="请输入综治中心发给您的 6 位 PIN 码",
        action=f"/m/{token}/login",
        error=error,
        placeholder="PIN 码",
        autofocus=True,
    )
    return _shell("网格员登录", body)


def app_page(token: str, name: str) -> str:
    body = (
        '<header class="bar"><span class="title">我的任务</span>'
        f'<span class="who" id="who">{html.escape(name)}</span>'
        '<span class="conn" id="conn">连接中…</span></header>'
        '<div class="share"><label><input type="checkbox" id="share-pos">'
        "共享我的位置（仅用于指挥调度）</label>"
        '<span class="share-msg muted" id="share-msg">未共享位置</span></div>'
        '<main id="tasks"><p class="muted" id="empty">暂无待办任务</p></main>'
        '<div id="toast" class="toast" hidden></div>'
    )
    scripts = ["/m-static/grid.js", "/m-static/share.js"]
    return _shell("我的任务", body, script=scripts, config={"base": f"/m/{token}"})


_page = web_pages.html_response
_json_error = web_pages.json_error


def _iso(v: Any) -> str | None:
    return v.isoformat() if v is not None else None


def task_view(
    task: DispatchTask, need_ack: bool, base: str, evidence: list[EvidenceView], person: Any
) -> TaskView:
    """What the page shows of a task."""
    acts = [a.value for a in allowed_actions(task, TaskActor.field(person))]
    return TaskView(
        id=task.id,
        event_id=task.event_id,
        version=task.version,
        state=task.state.value,
        state_label=STATE_LABELS_ZH[task.state],
        priority=task.priority.value,
        priority_label=PRIORITY_LABELS_ZH[task.priority],
        instruction=task.instruction,
        note=task.note,
        sent_at=_iso(task.sent_at),
        accepted_at=_iso(task.accepted_at),
        on_site_at=_iso(task.on_site_at),
        feedback_at=_iso(task.feedback_at),
        return_reason=task.return_reason,
        feedback_text=task.feedback_text,
        feedback_photos=[f"{base}/files/{p}" for p in task.feedback_photos],
        closed=task.closed_at is not None,
        actions=acts,
        need_ack=need_ack,
        evidence=evidence,
    )


def _json(msg: BaseModel, status: int = 200) -> web.Response:
    return web.Response(status=status, text=msg.model_dump_json(), content_type="application/json")


# -- handlers ------------------------------------------------------------------------------------


def _svc(request: web.Request) -> DispatchService:
    return request.app[_SVC]


async def _person(request: web.Request) -> str | None:
    svc = _svc(request)
    return await svc.session_person(request.match_info["token"], request.cookies.get(COOKIE))


async def _status_page(svc: DispatchService, token: str) -> web.Response | None:
    status, _ = await svc.link_status(token)
    if status == "ok":
        return None
    code, title, text = _PAGES[status]
    return _page(code, message_page(title, text))


async def get_page(request: web.Request) -> web.Response:
    svc = _svc(request)
    token = request.match_info["token"]
    refused = await _status_page(svc, token)
    if refused is not None:
        return refused
    person = await _person(request)
    if person is None:
        return _page(200, pin_page(token))
    return _page(200, app_page(token, svc.person(person).name))


async def post_login(request: web.Request) -> web.Response:
    svc = _svc(request)
    token = request.match_info["token"]
    form = await request.post()
    pin = str(form.get("pin", "")).strip()
    res = await svc.login(token, pin)
    if res.ok:
        resp = web.Response(status=303, headers={"Location": f"/m/{token}"})
        max_age = int(svc.session_ttl.total_seconds())
        set_link_cookie(
            resp, COOKIE, res.session, f"/m/{token}", secure=request.secure, max_age=max_age
        )
        return resp
    if res.reason == "wrong":
        return _page(401, pin_page(token, wrong_pin_text(res.remaining)))
    code, title, text = _PAGES[res.reason]
    return _page(code, message_page(title, text))


async def _views(svc: DispatchService, person_id: str, base: str) -> list[TaskView]:
    person = svc.person(person_id)
    out = []
    for t, ack in svc.open_tasks_of(person_id):
        out.append(task_view(t, ack, base, await _evidence(svc, t, base), person))
    return out


async def _evidence(svc: DispatchService, task: DispatchTask, base: str) -> list[EvidenceView]:
    return [
        EvidenceView(
            id=a.id,
            kind=a.kind,
            name=a.name or a.id,
            sha256=a.sha256,
            url=f"{base}/files/{a.id}",
        )
        for a in await svc.evidence(task.event_id)
        if a.kind != "photo" and a.stored
    ]


async def get_tasks(request: web.Request) -> web.Response:
    person = await _person(request)
    if person is None:
        return _json_error(401, "auth", "请先输入 PIN 码登录")
    base = f"/m/{request.match_info['token']}"
    return _json(TasksReply(tasks=await _views(_svc(request), person, base)))


async def post_action(request: web.Request) -> web.Response:
    person = await _person(request)
    if person is None:
        return _json_error(401, "auth", "登录已失效，请重新输入 PIN 码")
    svc = _svc(request)
    try:
        body = await request.json() if request.can_read_body else {}
    except ValueError:
        return _json_error(400, "invalid", "请求格式错误")
    if not isinstance(body, dict):
        return _json_error(400, "invalid", "请求格式错误")
    note = body.get("note", "")
    photos = body.get("photos", [])
    if not isinstance(note, str) or not isinstance(photos, list):
        return _json_error(400, "invalid", "请求格式错误")
    try:
        task = await svc.field_act(
            person,
            request.match_info["task_id"],
            request.match_info["action"],
            note=note,
            photos=[str(p) for p in photos],
        )
    except HubError as exc:
        status = 404 if exc.code is ErrorCode.NOT_FOUND else 409
        return _json_error(status, exc.code.value, exc.message)
    base = f"/m/{request.match_info['token']}"
    view = task_view(task, False, base, await _evidence(svc, task, base), svc.person(person))
    return _json(TaskReply(task=view))


async def post_photo(request: web.Request) -> web.Response:
    person = await _person(request)
    if person is None:
        return _json_error(401, "auth", "登录已失效，请重新输入 PIN 码")
    svc = _svc(request)
    try:  # the whole body or nothing: never a photo cut at the limit or by a lost link
        data = await web_guard.read_body(request, MAX_PHOTO_BYTES, PHOTO_READ_S)
    except web_guard.BodyRefused as exc:
        if exc.status == 413:
            mb = MAX_PHOTO_BYTES // (1024 * 1024)
            return _json_error(413, "too_large", f"照片太大，最大 {mb} MB，请压缩后重新上传")
        return _json_error(exc.status, exc.code, exc.message)
    try:
        att = await svc.store_photo(person, request.match_info["task_id"], data)
    except UploadRefused as exc:
        return _json_error(exc.status, exc.code, exc.message_zh)
    except HubError as exc:
        return _json_error(
            404 if exc.code is ErrorCode.NOT_FOUND else 409, exc.code.value, exc.message
        )
    base = f"/m/{request.match_info['token']}"
    return _json(PhotoReply(id=att.id, url=f"{base}/files/{att.id}", sha256=att.sha256), 201)


async def get_file(request: web.Request) -> web.StreamResponse:
    """A photo or evidence file the hub stored itself, by attachment id (never a path)."""
    person = await _person(request)
    if person is None:
        return _json_error(401, "auth", "请先输入 PIN 码登录")
    found = await _svc(request).file_for(person, request.match_info["att_id"])
    if found is None:
        return _json_error(404, "not_found", "文件不存在")
    att, path = found
    headers = {
        "Content-Type": att.mime,
        "Content-Disposition": content_disposition(att.name, f"{att.id}{path.suffix}"),
        "X-Content-Type-Options": "nosniff",
    }
    return web.FileResponse(path, headers=headers)


class _Relay:
    """The service's listener `(task, need_ack)` feeding one socket's push (equal
    relays of one push are one listener, so `unlisten` finds it)."""

    def __init__(self, push: Push[TaskItem]) -> None:
        self.push = push

    def __call__(self, task: DispatchTask, need_ack: bool) -> None:
        self.push(TaskItem(task, need_ack))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Relay) and other.push == self.push

    def __hash__(self) -> int:
        return hash(self.push)


async def websocket(request: web.Request) -> web.StreamResponse:
    person_id = await _person(request)
    if person_id is None:
        return _json_error(401, "auth", "登录已失效，请重新输入 PIN 码")
    svc = _svc(request)
    person = svc.person(person_id)
    base = f"/m/{request.match_info['token']}"

    async def handle(msg: PhoneInMsg) -> BaseModel | None:
        if isinstance(msg, PositionIn | PositionOff):
            return await shared_position(request.app[_POS], person_id, msg)
        try:
            if isinstance(msg, Ack):
                await svc.ack(person_id, msg.id)
            else:
                await svc.field_act(person_id, msg.id, "read")
        except HubError as exc:
            log.info("phone %s: %s %s refused: %s", person_id, msg.type, msg.id, exc.message)
        return None

    async def render(item: TaskItem) -> TaskPush:
        evidence = await _evidence(svc, item.task, base)
        return TaskPush(task=task_view(item.task, item.need_ack, base, evidence, person))

    async def hello() -> list[BaseModel]:
        return [Hello(person=person.name, tasks=await _views(svc, person_id, base))]

    return await SOCKET.serve(
        request,
        handle=handle,
        render=render,
        attach=lambda push: svc.listen(person_id, _Relay(push)),
        detach=lambda push: svc.unlisten(person_id, _Relay(push)),
        hello=hello,
        key=("phone", request.cookies.get(COOKIE)),  # a few sockets per session
    )


async def shared_position(
    positions: PositionsService | None, person_id: str, msg: PositionIn | PositionOff
) -> BaseModel:
    """The person's position shared (checked: outside data) or withdrawn; the reply."""
    if positions is None:
        return SocketError(code="position", message=POSITIONS_OFF_TEXT)
    if isinstance(msg, PositionOff):
        await positions.withdraw(person_id)
        return PositionShared(shared=False)
    try:
        pos = await positions.report(person_id, msg.lon, msg.lat, msg.accuracy_m)
    except PositionRefused as exc:
        log.info("phone %s: position refused: %s", person_id, exc.message_zh)
        return SocketError(code="position", message=exc.message_zh)
    return PositionShared(shared=True, at=pos.at.isoformat())


def add_phone_routes(
    app: web.Application, svc: DispatchService, positions: PositionsService | None = None
) -> None:
    app[_SVC] = svc
    app[_POS] = positions
    app.router.add_get("/m/{token}", get_page)
    app.router.add_post("/m/{token}/login", post_login)
    app.router.add_get("/m/{token}/ws", websocket)
    app.router.add_get("/m/{token}/api/tasks", get_tasks)
    app.router.add_post("/m/{token}/api/tasks/{task_id}/photos", post_photo)
    app.router.add_post("/m/{token}/api/tasks/{task_id}/{action}", post_action)
    app.router.add_get("/m/{token}/files/{att_id}", get_file)
    app.router.add_static("/m-static/", WEB_DIR)
