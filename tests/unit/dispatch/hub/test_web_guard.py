"""The pure parts of the hub's HTTP hardening: origins and the pages' settings block."""

from __future__ import annotations

import json
import re

from dispatch.hub.web_guard import origin_allowed, origin_of, public_origins
from dispatch.hub.web_pages import config_block, links_for, shell


def test_origin_of_normalises_scheme_host_and_port() -> None:
    assert origin_of("http://Hub.Test") == "http://hub.test:80"
    assert origin_of("https://hub.test/v/x?y=1") == "https://hub.test:443"
    assert origin_of("wss://hub.test:8443") == "https://hub.test:8443"
    assert origin_of("null") is None
    assert origin_of("file:///etc/passwd") is None


def test_only_the_served_or_a_public_origin_may_open_a_socket() -> None:
    public = public_origins(["https://hall.example.gov.cn", "not a url"])
    served = "http://hub.test:8470"
    assert origin_allowed("http://hub.test:8470", served, public)
    assert origin_allowed("https://hall.example.gov.cn", served, public)
    assert origin_allowed(None, served, public)  # no browser: the session decides
    for bad in ("http://evil.test", "null", "https://hub.test:8470", "http://hub.test:8471"):
        assert not origin_allowed(bad, served, public), bad


def test_the_settings_block_cannot_end_early_and_reads_back() -> None:
    hostile = {"name": "</script><script>alert(1)</script>&<!--", "n": 1}
    block = config_block(hostile)
    inner = re.fullmatch(r'<script type="application/json" id="page-config">(.*)</script>', block)
    assert inner is not None
    assert "<" not in inner.group(1) and ">" not in inner.group(1) and "&" not in inner.group(1)
    assert json.loads(inner.group(1)) == hostile


def test_a_page_has_no_inline_script() -> None:
    page = shell("t", "<main></main>", css="/x.css", script="/x.js", config={"a": 1})
    scripts = re.findall(r"<script([^>]*)>", page)
    assert scripts == [' type="application/json" id="page-config"', ' defer src="/x.js"']


def test_the_pages_point_to_the_public_https_address_and_the_ca_page() -> None:
    got = links_for("https://hub.example.gov.cn:8443/", "http://0.0.0.0:8480")
    assert got == {
        "public_url": "https://hub.example.gov.cn:8443",
        "ca_url": "http://hub.example.gov.cn:8480/ca",
    }
    assert links_for("https://10.1.1.5/", "") == {"public_url": "https://10.1.1.5"}
    assert links_for("http://127.0.0.1:8470/", "") == {}  # tls off: no https, no CA page
    assert links_for("", "http://127.0.0.1:8480") == {"ca_url": "http://127.0.0.1:8480/ca"}
