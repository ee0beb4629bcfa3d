"""The HTTP side of personal links, shared by the phone, mediation and station pages:
the session cookie scoped to one link, and the Chinese texts of a wrong PIN and of a
locked link."""

from __future__ import annotations

from aiohttp import web

from dispatch.links.core import MAX_PIN_FAILURES


def set_link_cookie(
    resp: web.StreamResponse,
    name: str,
    value: str,
    path: str,
    *,
    secure: bool,
    max_age: int | None = None,
) -> None:
    """The page's session cookie: only sent back to `path` (the link's own URL),
    invisible to scripts, never sent cross-site; a browser-session cookie unless
    `max_age` (seconds) is given. `secure` (the request came over TLS: always, unless
    the hub runs `[tls] mode = "off"`) makes it `Secure`, only ever sent over HTTPS;
    a browser refuses a Secure cookie from a plain-HTTP page, which then could not log
    in at all."""
    resp.set_cookie(
        name, value, path=path, httponly=True, secure=secure, samesite="Strict", max_age=max_age
    )


def wrong_pin_text(left: int) -> str:
    return f"PIN 码错误，还可尝试 {left} 次"


def locked_text(issuer: str) -> str:
    """The 423 page's text; `issuer` is who issues links again (综治中心, 县综治中心)."""
    return f"PIN 码连续输错 {MAX_PIN_FAILURES} 次，该链接已锁定。请联系{issuer}重新发放。"
