"""The HTTP side of personal links (`dispatch.links.web`): the cookie is scoped to the
link, hidden from scripts and same-site only; the refusal texts name the counts."""

from __future__ import annotations

from aiohttp import web

from dispatch.links.core import MAX_PIN_FAILURES
from dispatch.links.web import locked_text, set_link_cookie, wrong_pin_text


def cookie_header(max_age: int | None, *, secure: bool = True) -> str:
    resp = web.Response(status=303)
    set_link_cookie(resp, "hall_x", "c0ffee", "/x/tok", secure=secure, max_age=max_age)
    return resp.cookies.output(header="")


def test_link_cookie_is_scoped_httponly_strict_and_secure() -> None:
    parts = {p.strip() for p in cookie_header(None).split(";")}
    assert {"hall_x=c0ffee", "HttpOnly", "Path=/x/tok", "SameSite=Strict", "Secure"} == parts
    parts = {p.strip() for p in cookie_header(3600).split(";")}
    assert "Max-Age=3600" in parts and "Path=/x/tok" in parts and "Secure" in parts


def test_link_cookie_over_plain_http_is_not_secure() -> None:
    """A hub run with `[tls] mode = "off"` (behind a TLS proxy) cannot set Secure cookies
    a browser would keep on plain HTTP; the flag follows the request's scheme."""
    parts = {p.strip() for p in cookie_header(None, secure=False).split(";")}
    assert "Secure" not in parts and "HttpOnly" in parts


def test_refusal_texts() -> None:
    assert wrong_pin_text(4) == "PIN 码错误，还可尝试 4 次"
    assert locked_text("县综治中心") == (
        f"PIN 码连续输错 {MAX_PIN_FAILURES} 次，该链接已锁定。请联系县综治中心重新发放。"
    )
