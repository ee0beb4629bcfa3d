"""A real hub over HTTPS with its own CA: a page opened by host name is a secure context
with a camera, the plain port hands out the CA and redirects, certificates are re-issued
for new names, an operator's certificate is served as given, cookies are Secure, and
links and the console's LoginReply carry the public URL."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import socket
import ssl
import time
from pathlib import Path

import aiohttp
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from dispatch.hub import tls
from dispatch.hub.process import HubProcess
from tests.integration.dispatch.mediation.test_mediation_support import (
    CHROMIUM_ARGS,
    chromium,
    console_client,
)
from tests.kit.hub import StartHub, free_port
from tests.kit.tls import HUB_HOST, hub_session

pytestmark = [pytest.mark.integration, pytest.mark.browser]

SECURE_PAGE = """async () => {
  let camera = "none";
  try {
    const s = await navigator.mediaDevices.getUserMedia({video: true, audio: true});
    camera = s.getVideoTracks().length + "v" + s.getAudioTracks().length + "a";
    s.getTracks().forEach((t) => t.stop());
  } catch (e) { camera = "error: " + e; }
  return {secure: window.isSecureContext, camera, protocol: location.protocol};
}"""


def served_cert(port: int, name: str, ctx: ssl.SSLContext) -> x509.Certificate:
    """The certificate the hub serves for `name` at 127.0.0.1:port, verified by `ctx`."""
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        ctx.wrap_socket(raw, server_hostname=name) as s,
    ):
        der = s.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der)


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1].rstrip("/"))


@pytest.fixture
def named_hub(start_hub: StartHub) -> HubProcess:
    port = free_port()
    return start_hub(demo=True, http_port=port, public_url=f"https://{HUB_HOST}:{port}")


def test_a_page_by_host_name_is_a_secure_context_with_a_camera(named_hub: HubProcess) -> None:
    hub = named_hub

    async def scenario() -> None:
        async with chromium(hub, CHROMIUM_ARGS) as browser:
            page = await browser.new_page()
            resp = await page.goto(f"{hub.public_url}/s/not-a-token")
            assert resp is not None and resp.status == 404  # the hub's own page, over TLS
            got = await page.evaluate(SECURE_PAGE)
            assert got == {"secure": True, "camera": "1v1a", "protocol": "https:"}
            # the plain port sends the browser on to the same path over HTTPS
            resp = await page.goto(f"{hub.plain_url}/s/not-a-token")
            assert resp is not None and page.url == f"{hub.public_url}/s/not-a-token"
            assert (await page.evaluate(SECURE_PAGE))["secure"] is True

    asyncio.run(asyncio.wait_for(scenario(), 120))


def test_the_plain_port_serves_only_the_ca_and_redirects(named_hub: HubProcess) -> None:
    hub = named_hub
    pem = hub.ca_cert_path.read_bytes()
    ca = x509.load_pem_x509_certificate(pem)
    spki = ca.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert hub.ca_spki_b64() == tls.spki_sha256_b64(ca)
    assert len(spki) > 0

    async def scenario() -> None:
        async with aiohttp.ClientSession() as http:
            async with http.get(hub.plain_url + "/ca.crt") as r:
                assert r.status == 200
                assert r.content_type == "application/x-x509-ca-cert"
                assert await r.read() == pem
            async with http.get(hub.plain_url + "/ca") as r:
                page = await r.text()
            shown = re.search(r'id="fingerprint">([0-9A-F:]+)<', page)
            assert shown is not None
            digest = hashlib.sha256(ca.public_bytes(serialization.Encoding.DER)).hexdigest()
            assert shown.group(1).replace(":", "").lower() == digest
            assert "完全信任" in page and "安卓" in page and "Windows" in page
            for method in ("GET", "POST"):
                async with http.request(
                    method, hub.plain_url + "/m/abc?x=1", allow_redirects=False
                ) as r:
                    assert r.status == 308
                    assert r.headers["Location"] == f"{hub.public_url}/m/abc?x=1"
                    assert "Set-Cookie" not in r.headers

    asyncio.run(scenario())


def test_cookies_are_secure_and_links_and_login_carry_the_public_url(
    named_hub: HubProcess,
) -> None:
    hub = named_hub
    assert hub.public_url.startswith(f"https://{HUB_HOST}:")
    printed = hub.stderr_text()
    assert f"{hub.public_url}/m/" in printed and f"{hub.public_url}/s/" in printed
    assert f"http://{HUB_HOST}:{port_of(hub.plain_url)}/ca SHA-256 " in printed  # where phones go
    assert "127.0.0.1" not in "".join(
        line for line in printed.splitlines() if "/m/" in line or "/s/" in line
    )

    async def scenario() -> None:
        async with console_client(hub) as con, hub_session(hub) as http:
            assert con.login_reply is not None
            assert con.login_reply.public_url == hub.public_url
            link = await con.tasks.issue_phone_link("p00")
            async with http.post(
                hub.http_url + link.path + "/login", data={"pin": link.pin}, allow_redirects=False
            ) as r:
                assert r.status == 303
                cookie = r.headers["Set-Cookie"]
            assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie

    asyncio.run(scenario())


def test_a_certificate_without_the_requested_name_is_reissued(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'hall.db'}"
    first = HubProcess(db)
    first.start(timeout_s=60)
    try:
        spki, ctx = first.ca_spki_b64(), first.ssl_context()
        port = port_of(first.http_url)
        assert "hub.test" not in tls.cert_names(served_cert(port, "localhost", ctx)).dns
    finally:
        first.stop()
    port = free_port()
    second = HubProcess(db, http_port=port, public_url=f"https://{HUB_HOST}:{port}")
    second.start(timeout_s=60)
    try:
        assert second.ca_spki_b64() == spki  # same CA: what phones installed still works
        cert = served_cert(port, HUB_HOST, second.ssl_context())
        assert HUB_HOST in tls.cert_names(cert).dns
        assert "issued (lacks hub.test)" in second.stderr_text()
    finally:
        second.stop()


def test_an_operator_certificate_is_served_as_given(tmp_path: Path, start_hub: StartHub) -> None:
    own, _ = tls.ensure_auto(
        tmp_path / "operator-ca", tls.server_names("https://hall.example:443", [], ""), "op"
    )
    assert own.ca_cert is not None
    hub = start_hub(
        extra_args=["--tls", "files", "--tls-cert", str(own.cert), "--tls-key", str(own.key)]
    )
    assert hub.info["ca_cert"] is None and hub.info["ca_spki"] is None
    ctx = tls.client_context([own.ca_cert])
    got = served_cert(port_of(hub.http_url), "hall.example", ctx)
    assert got == tls.read_cert(own.cert)
    assert not (tmp_path / "tls").exists()  # no CA of its own was made

    async def scenario() -> int:
        async with aiohttp.ClientSession() as http, http.get(hub.plain_url + "/ca.crt") as r:
            return r.status

    assert asyncio.run(scenario()) == 404


def test_an_unfinished_tls_handshake_is_closed_by_the_header_timeout(
    tmp_path: Path, start_hub: StartHub
) -> None:
    conf = tmp_path / "hub.toml"
    conf.write_text("[http]\nheader_timeout_s = 2.0\n", encoding="utf-8")
    hub = start_hub(extra_args=["--config", str(conf)])
    port = port_of(hub.http_url)
    closed: dict[str, float] = {}
    started = time.monotonic()
    with (
        socket.create_connection(("127.0.0.1", port), timeout=30) as silent,
        socket.create_connection(("127.0.0.1", port), timeout=30) as half,
    ):
        half.sendall(b"\x16\x03\x01\x02\x00\x01")  # the start of a ClientHello, no more
        for name, s in (("silent", silent), ("half", half)):
            with contextlib.suppress(ConnectionResetError):
                assert s.recv(1024) == b""
            closed[name] = time.monotonic() - started
    assert max(closed.values()) < 10.0, closed  # asyncio's own default would be 60 s
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:  # still served
        tls_sock = hub.ssl_context().wrap_socket(raw, server_hostname="127.0.0.1")
        with tls_sock:
            tls_sock.sendall(b"GET /api/v1/openapi.json HTTP/1.1\r\nHost: x\r\n\r\n")
            assert tls_sock.recv(12).startswith(b"HTTP/1.1 200")
