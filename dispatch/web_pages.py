"""Small HTML/HTTP helpers shared by the hub's personal-link pages (mediation join
links and duty-station links): the page shell, the Chinese notice page, the HTML and
JSON error responses and the bearer-or-cookie credential."""

from __future__ import annotations

import html

from aiohttp import web


def shell(title: str, body: str, *, css: str, script: str = "") -> str:
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title>"
        f'<link rel="stylesheet" href="{html.escape(css)}">'
        f"{script}</head><body>{body}</body></html>"
    )


def message_page(title: str, text: str, *, css: str) -> str:
    return shell(
        title,
        f'<main class="card notice" id="notice"><h1>{html.escape(title)}</h1>'
        f"<p>{html.escape(text)}</p></main>",
        css=css,
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
