"""Small HTML/HTTP helpers shared by the hub's personal-link pages (mediation join
links and duty-station links): the page shell, the Chinese notice page, the HTML and
JSON error responses, the bearer-or-cookie credential and the WHIP-style SDP offer
and answer."""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from aiohttp import web
from yarl import URL

COMMON_DIR = Path(__file__).resolve().parents[2] / "resources" / "web" / "common"
MEDIA_JS = "/c-static/media.js"
"""The camera/microphone messages of every page that uses them (`window.HallMedia`)."""

CONFIG_ID = "page-config"
"""The id of the page's settings block; the scripts read it with
`JSON.parse(document.getElementById("page-config").textContent)`."""


def config_block(config: dict[str, Any]) -> str:
    """The page's settings as a JSON data block (`type="application/json"`: never run,
    so the CSP needs no inline script); `<`, `>` and `&` are escaped as `\\u003c`…, so
    no text inside can end the block."""
    data = (
        json.dumps(config, ensure_ascii=False)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )
    return f'<script type="application/json" id="{CONFIG_ID}">{data}</script>'


def shell(
    title: str,
    body: str,
    *,
    css: str,
    script: str | Sequence[str] = "",
    config: dict[str, Any] | None = None,
) -> str:
    """A whole page: `script` is the page's script file (or files, run in order),
    `config` its settings."""
    data = config_block(config) if config is not None else ""
    files = [script] if isinstance(script, str) else list(script)
    src = "".join(f'<script defer src="{html.escape(f)}"></script>' for f in files if f)
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title>"
        f'<link rel="stylesheet" href="{html.escape(css)}">'
        f"{data}{src}</head><body>{body}</body></html>"
    )


PageLinks = Callable[[], dict[str, str]]
PAGE_LINKS: web.AppKey[PageLinks] = web.AppKey("page_links")
"""What the camera messages point to (`page_links`), read per page: known once bound."""


def links_for(public_url: str, plain_url: str) -> dict[str, str]:
    """The pages' `public_url` (when it is HTTPS) and `ca_url`: the CA page `/ca` on the
    plain-HTTP port (`plain_url`, "" when off), under the public host name."""
    out: dict[str, str] = {}
    public = URL(public_url) if public_url else None
    if public is not None and public.scheme == "https" and public.host:
        out["public_url"] = str(public.origin())
    if plain_url:
        plain = URL(plain_url)
        host = public.host if public is not None and public.host else plain.host
        if host:
            out["ca_url"] = str(URL.build(scheme="http", host=host, port=plain.port, path="/ca"))
    return out


def page_links(request: web.Request) -> dict[str, str]:
    """`links_for` of this hub (empty when the app has none: tests of a bare app)."""
    links = request.app.get(PAGE_LINKS)
    return links() if links is not None else {}


def add_common_routes(app: web.Application) -> None:
    """`/c-static/…`: resources/web/common (the scripts the pages share)."""
    app.router.add_static("/c-static/", COMMON_DIR)


def message_page(title: str, text: str, *, css: str, kind: str = "") -> str:
    """A notice page (`kind`, e.g. "error", is an extra CSS class of the notice)."""
    classes = f"card notice {kind}" if kind else "card notice"
    return shell(
        title,
        f'<main class="{classes}" id="notice"><h1>{html.escape(title)}</h1>'
        f"<p>{html.escape(text)}</p></main>",
        css=css,
    )


def pin_login(
    *,
    heading: str,
    prompt: str,
    action: str,
    error: str = "",
    maxlength: int = 12,
    placeholder: str = "",
    button: str = "进入",
    autofocus: bool = False,
) -> str:
    """The PIN form of a personal link's page (the `<main>` only); every text is escaped."""
    err = f'<p class="error" id="pin-error">{html.escape(error)}</p>' if error else ""
    hint = f' placeholder="{html.escape(placeholder)}"' if placeholder else ""
    focus = " autofocus" if autofocus else ""
    return (
        f'<main class="card login"><h1>{html.escape(heading)}</h1>'
        f'<p class="muted">{html.escape(prompt)}</p>'
        f'{err}<form method="post" action="{html.escape(action)}">'
        '<input id="pin" name="pin" type="password" inputmode="numeric" autocomplete="off" '
        f'maxlength="{maxlength}"{hint} required{focus}>'
        f'<button type="submit" id="login">{html.escape(button)}</button></form></main>'
    )


def html_response(status: int, text: str) -> web.Response:
    return web.Response(status=status, text=text, content_type="text/html", charset="utf-8")


def json_error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": code, "message": message}, status=status)


def bearer(request: web.Request, cookie: str) -> str | None:
    """The `Authorization: Bearer …` token, else the named cookie."""
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        return auth[len("Bearer ") :].strip() or None
    return request.cookies.get(cookie)


MAX_SDP_CHARS = 200_000


async def sdp_offer(request: web.Request) -> str | web.Response:
    """The request's SDP offer, or the JSON error to answer with (415 not
    `application/sdp`, 400 not an SDP or longer than `MAX_SDP_CHARS`)."""
    if request.content_type != "application/sdp":
        return json_error(415, "invalid", "请求必须是 application/sdp")
    sdp = await request.text()
    if not sdp.startswith("v=0") or len(sdp) > MAX_SDP_CHARS:
        return json_error(400, "invalid", "SDP offer 格式错误")
    return sdp


def sdp_answer(answer: str, *, location: str | None = None) -> web.Response:
    """The WHIP-style reply to an offer: 201 with the SDP answer (`application/sdp`),
    and the resource's `Location` when given."""
    headers = {"Location": location} if location is not None else None
    return web.Response(status=201, text=answer, content_type="application/sdp", headers=headers)
