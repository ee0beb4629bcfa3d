"""Hole 5, web part, against a real hub process: security headers on every page, a
WebSocket from a foreign origin refused, a half-sent request closed by the header-read
timeout (raw socket), and a chunked photo upload over the limit refused with 413 (or cut
short: refused) with nothing stored, while a whole chunked photo is stored whole."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import ssl
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from dispatch.db.store import Store
from dispatch.hub.process import HubProcess
from dispatch.hub.web_guard import CSP
from dispatch.tasks import store as st
from tests.integration.dispatch.tasks.test_hub_phone import console, png_bytes, post_event
from tests.kit.hub import StartHub
from tests.kit.tls import hub_session

pytestmark = [pytest.mark.integration]

MB = 1024 * 1024


def _port(hub: HubProcess) -> int:
    return int(hub.http_url.rsplit(":", 1)[1])


async def _phone_session(hub: HubProcess, http: aiohttp.ClientSession) -> tuple[str, str, str]:
    """(link base URL, cookie, task id) of a grid leader with a dispatched task."""
    eid = post_event(hub, "占道经营", f"guard-{time.monotonic_ns()}")
    async with console(hub) as con:
        link = await con.client.tasks.issue_phone_link("p00")
        task = await con.client.tasks.dispatch_event(eid)
    base = hub.http_url + link.path
    async with http.post(base + "/login", data={"pin": link.pin}, allow_redirects=False) as r:
        assert r.status == 303
        cookie = r.cookies["hall_m"].value
    return base, cookie, task.id


def _assert_guarded(headers: aiohttp.typedefs.LooseHeaders, *, cached: bool = False) -> None:
    h = dict(headers)  # type: ignore[arg-type]
    assert h["Content-Security-Policy"] == CSP
    assert "frame-ancestors 'none'" in h["Content-Security-Policy"]
    assert "unsafe-inline" not in h["Content-Security-Policy"]
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["Referrer-Policy"] == "no-referrer"
    assert h["X-Frame-Options"] == "DENY"
    assert (h.get("Cache-Control") == "no-store") is not cached


def test_every_page_sends_the_security_headers_and_no_inline_script(hub: HubProcess) -> None:
    async def body() -> None:
        async with hub_session(hub) as http:
            base, cookie, _ = await _phone_session(hub, http)
            pages = [base, hub.http_url + "/v/nope", hub.http_url + "/s/nope", hub.http_url + "/x"]
            for url in pages:
                async with http.get(url) as r:
                    _assert_guarded(r.headers)
                    text = await r.text()
                    assert "<script>" not in text
            async with http.get(base, cookies={"hall_m": cookie}) as r:
                text = await r.text()
                assert r.status == 200 and 'id="page-config"' in text
                _assert_guarded(r.headers)
                assert "<script>" not in text  # only the data block and the script file
            async with http.get(base + "/api/tasks", cookies={"hall_m": cookie}) as r:
                assert r.status == 200
                _assert_guarded(r.headers)  # personal data: no-store
            async with http.get(hub.http_url + "/m-static/grid.js") as r:
                assert r.status == 200
                _assert_guarded(r.headers, cached=True)
            async with console(hub) as con:
                station = await con.client.rollcall.station_link(centre_id="t01")
            url = hub.http_url + station.path
            login = {"pin": station.pin}
            async with http.post(url + "/login", data=login, allow_redirects=False) as r:
                assert r.status == 303
                station_cookie = r.cookies["hall_s"].value
            async with http.get(url, cookies={"hall_s": station_cookie}) as r:
                text = await r.text()
                assert r.status == 200 and 'id="page-config"' in text
                _assert_guarded(r.headers)
                assert "<script>" not in text
            # its camera message points to the public https address and the CA page
            config = json.loads(text.split('id="page-config">', 1)[1].split("</script>", 1)[0])
            plain_port = int(hub.plain_url.rsplit(":", 1)[1])
            assert config["public_url"].startswith("https://")
            assert config["ca_url"].endswith(f":{plain_port}/ca")

    asyncio.run(body())


def test_a_websocket_from_a_foreign_origin_is_refused(hub: HubProcess) -> None:
    async def body() -> None:
        async with hub_session(hub) as http:
            base, cookie, _ = await _phone_session(hub, http)
            ws_url = base + "/ws"
            auth = {"Cookie": f"hall_m={cookie}"}
            for origin in ("http://evil.test", "null", f"http://127.0.0.1:{_port(hub)}"):
                with pytest.raises(aiohttp.WSServerHandshakeError) as err:
                    await http.ws_connect(ws_url, headers={**auth, "Origin": origin})
                assert err.value.status == 403, origin
            for origin in (hub.http_url, hub.public_url):
                ws = await http.ws_connect(ws_url, headers={**auth, "Origin": origin})
                hello = await ws.receive_json(timeout=10)
                assert hello["type"] == "hello"
                await ws.close()

    asyncio.run(body())


def test_a_half_sent_request_is_closed_by_the_header_timeout(
    start_hub: StartHub, tmp_path: Path
) -> None:
    conf = tmp_path / "hub.toml"
    conf.write_text("[http]\nheader_timeout_s = 2.0\n", encoding="utf-8")
    hub = start_hub(extra_args=["--config", str(conf)])
    port = _port(hub)
    started = time.monotonic()
    half = _tls(hub, socket.create_connection(("127.0.0.1", port), timeout=15))
    trickle = _tls(hub, socket.create_connection(("127.0.0.1", port), timeout=15))
    with half, trickle:
        half.sendall(b"GET /api/v1/openapi.json HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        trickle.sendall(b"GET /api/v1/openapi")
        closed: dict[str, float] = {}
        while len(closed) < 2 and time.monotonic() - started < 15:
            try:  # one more byte a second keeps neither alive
                trickle.sendall(b"a")
            except OSError:
                closed.setdefault("trickle", time.monotonic() - started)
            half.settimeout(1.0)
            try:
                if half.recv(1024) == b"":
                    closed.setdefault("half", time.monotonic() - started)
            except TimeoutError:
                pass
            except OSError:
                closed.setdefault("half", time.monotonic() - started)
        assert set(closed) == {"half", "trickle"}, closed
        assert max(closed.values()) < 8.0, closed
    # a whole request on a fresh connection is still served
    with _tls(hub, socket.create_connection(("127.0.0.1", port), timeout=10)) as ok:
        ok.sendall(b"GET /api/v1/openapi.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert ok.recv(12).startswith(b"HTTP/1.1 200")


async def _chunks(data: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


def test_a_chunked_photo_over_the_limit_is_refused_and_nothing_stored(
    hub: HubProcess, tmp_path: Path
) -> None:
    uploads = tmp_path / "uploads"
    big = b"\xff\xd8\xff\xe0" + b"\0" * (10 * MB)
    whole = png_bytes(600, 600)  # > 64 KiB: several chunks, and stored whole

    async def body() -> None:
        async with hub_session(hub) as http:
            base, cookie, task_id = await _phone_session(hub, http)
            url = f"{base}/api/tasks/{task_id}/photos"
            cookies = {"hall_m": cookie}
            async with http.post(url, data=_chunks(big), cookies=cookies) as r:
                assert r.request_info.headers.get("Transfer-Encoding") == "chunked"
                assert r.status == 413 and (await r.json())["error"] == "too_large"
            assert _stored(hub) == 0
            async with http.post(url, data=_chunks(whole), cookies=cookies) as r:
                assert r.status == 201, await r.text()
        return None

    asyncio.run(body())
    files = [p for p in uploads.rglob("*") if p.is_file()]
    assert len(files) == 1 and files[0].read_bytes() == whole


def test_a_photo_body_that_ends_early_is_refused(hub: HubProcess) -> None:
    async def body() -> tuple[str, str, str]:
        async with hub_session(hub) as http:
            return await _phone_session(hub, http)

    base, cookie, task_id = asyncio.run(body())
    path = base.split(hub.http_url, 1)[1] + f"/api/tasks/{task_id}/photos"
    with _tls(hub, socket.create_connection(("127.0.0.1", _port(hub)), timeout=15)) as s:
        s.sendall(
            f"POST {path} HTTP/1.1\r\nHost: x\r\nCookie: hall_m={cookie}\r\n"
            "Content-Type: image/png\r\nContent-Length: 100000\r\n\r\n".encode()
            + png_bytes(8, 8)
        )
        # the body ends early: the client has nothing more (TCP FIN under the TLS
        # session; Python's ssl has no half-close, so what comes back is read as raw
        # TLS records: waiting for the hub to close is what matters, then nothing stored)
        s.shutdown(socket.SHUT_WR)
        with contextlib.suppress(OSError):
            while s.recv(4096):
                pass
    assert _stored(hub) == 0


def _tls(hub: HubProcess, raw: socket.socket) -> ssl.SSLSocket:
    """A raw connection to the hub's HTTPS port, through TLS (verified by its CA)."""
    return hub.ssl_context().wrap_socket(raw, server_hostname="127.0.0.1")


def _stored(hub: HubProcess) -> int:
    store = Store(hub.db_url)
    store.open()
    try:
        return st.count_attachments(store.engine)
    finally:
        store.close()
