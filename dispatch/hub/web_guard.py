"""The hub's HTTP hardening, shared by every page and API: security headers on every
response, the WebSocket `Origin` check, and reading a request body with a size limit
and a deadline.

- **Headers** (`add_security_headers`, an `on_response_prepare` signal, so aiohttp's own
  404/405/413 replies get them too): a Content Security Policy with no inline script
  (`script-src 'self'`; the pages pass their settings as a JSON data block, see
  `web_pages.shell`) and `frame-ancestors 'none'`, `X-Frame-Options: DENY`,
  `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`, and
  `Cache-Control: no-store` on everything but the static files (`STATIC_PREFIXES`), so no
  page, personal data or photo is kept in a shared or browser cache.
- **Origin** (`origin_allowed`): a browser always sends `Origin` on a WebSocket; it must
  be the origin the page was served under (scheme + `Host`) or one of the hub's public
  origins (`PUBLIC_ORIGINS`, from the configured public URL). A missing `Origin` (a
  console or a test client, which are no browsers) is let through: the socket still
  needs its session. `"null"` and any other origin are refused (403) before the upgrade.
- **Bodies** (`read_body`): read to the end, never more than `limit` bytes (413, and
  nothing is kept), within `timeout_s` (408); a body that ends early (the client closed
  or reset the connection) is refused (400) — the caller stores only a whole body.

The header-read timeout for half-sent requests is not here: it is the server's idle
timeout (`keepalive_timeout`, see `dispatch.hub.app`), which aiohttp applies to a
connection whose handler is waiting for a complete request head.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from aiohttp import ClientPayloadError, web
from yarl import URL

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
"""No inline script, no outside origin, never inside a frame. `connect-src 'self'`
covers the page's own `ws:`/`wss:` origin (CSP level 3)."""

SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
STATIC_PREFIXES = ("/m-static/", "/v-static/", "/s-static/", "/c-static/")
"""The pages' code and style sheets: cacheable. Everything else is `no-store`."""

PUBLIC_ORIGINS: web.AppKey[frozenset[str]] = web.AppKey("public_origins", frozenset)


# -- pure helpers ---------------------------------------------------------------------


def origin_of(url: str) -> str | None:
    """`scheme://host:port` (lower case, the port always written), None if not a URL
    with a scheme and a host."""
    try:
        u = URL(url)
    except ValueError:
        return None
    if u.scheme not in ("http", "https", "ws", "wss") or not u.host:
        return None
    scheme = {"ws": "http", "wss": "https"}.get(u.scheme, u.scheme)
    return f"{scheme}://{u.host.lower()}:{u.port}"


def public_origins(urls: Iterable[str]) -> frozenset[str]:
    """The origins of the hub's public URLs (what `PUBLIC_ORIGINS` holds)."""
    return frozenset(o for o in (origin_of(u) for u in urls) if o is not None)


def origin_allowed(origin: str | None, served: str, public: frozenset[str]) -> bool:
    """Whether a WebSocket from a page of `origin` may connect to a hub reached as
    `served` (`scheme://host[:port]` of the request); see the module doc."""
    if origin is None:
        return True
    o = origin_of(origin)
    return o is not None and (o == origin_of(served) or o in public)


# -- aiohttp glue ---------------------------------------------------------------------


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """`on_response_prepare`: the headers of the module doc on every response."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if not request.path.startswith(STATIC_PREFIXES):
        response.headers["Cache-Control"] = "no-store"


def install(app: web.Application, public_urls: Iterable[str] = ()) -> None:
    """Add the headers to every response of `app` and record its public origins."""
    app.on_response_prepare.append(add_security_headers)
    app[PUBLIC_ORIGINS] = public_origins(public_urls)


def check_origin(request: web.Request) -> web.Response | None:
    """None if the request's `Origin` may open a WebSocket, else the 403 to answer."""
    served = f"{request.scheme}://{request.host}"
    public = request.app.get(PUBLIC_ORIGINS, frozenset())
    if origin_allowed(request.headers.get("Origin"), served, public):
        return None
    return web.json_response({"error": "origin", "message": "不允许从其他网站连接"}, status=403)


class BodyRefused(Exception):
    """A body `read_body` refuses: answer `status` with `code` and the Chinese `message`."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


async def read_body(request: web.Request, limit: int, timeout_s: float) -> bytes:
    """The whole body (see the module doc); `BodyRefused` when too large, too slow or cut."""
    if request.content_length is not None and request.content_length > limit:
        raise BodyRefused(413, "too_large", f"内容太大，最多 {limit // (1024 * 1024)} MB")
    parts: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout_s):
            while chunk := await request.content.readany():
                size += len(chunk)
                if size > limit:
                    raise BodyRefused(
                        413, "too_large", f"内容太大，最多 {limit // (1024 * 1024)} MB"
                    )
                parts.append(chunk)
    except TimeoutError:
        raise BodyRefused(408, "timeout", "上传超时，请检查网络后重试") from None
    except (ClientPayloadError, ConnectionError):
        raise BodyRefused(400, "incomplete", "上传未完成，请重试") from None
    if request.content_length is not None and size != request.content_length:
        raise BodyRefused(400, "incomplete", "上传未完成，请重试")
    return b"".join(parts)
