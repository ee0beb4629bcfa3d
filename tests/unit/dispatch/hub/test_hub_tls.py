"""The hub's own CA and server certificates (`dispatch.hub.tls`), its TLS configuration
and the plain-HTTP page's pure parts (`dispatch.hub.plain_http`)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from dispatch.hub import tls
from dispatch.hub.certs import HubCertificates, local_url
from dispatch.hub.config import ConfigError, build_config
from dispatch.hub.plain_http import ca_page, redirect_target

NOW = dt.datetime(2026, 12, 2, 5, 0, tzinfo=dt.UTC)
IP = ipaddress.ip_address


def names() -> tls.Names:
    return tls.server_names("https://hub.example.gov.cn:8443", ["10.1.1.5", "hall"], "0.0.0.0")


def test_server_names_take_the_public_host_extras_listen_address_and_loopback() -> None:
    n = names()
    assert n.dns == ("hall", "hub.example.gov.cn", "localhost")
    assert n.ips == (IP("10.1.1.5"), IP("127.0.0.1"))  # no wildcard 0.0.0.0
    m = tls.server_names("https://[fd00::5]:8443/", [], "192.168.3.4")
    assert m.dns == ("localhost",)
    assert m.ips == (IP("127.0.0.1"), IP("192.168.3.4"), IP("fd00::5"))


def test_server_certificate_is_signed_by_the_ca_with_san_eku_and_at_most_397_days() -> None:
    ca_key, ca = tls.make_ca(tls.ca_subject_name("示范县综治中心"), NOW)
    assert ca.subject.rfc4514_string().startswith("O=Command Hall,CN=Command Hall CA 示范县")
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    _key, cert = tls.make_server_cert(ca_key, ca, names(), NOW)
    cert.verify_directly_issued_by(ca)
    assert tls.cert_names(cert) == names()
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    days = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert dt.timedelta(days=390) < days <= dt.timedelta(days=397)
    assert cert.not_valid_before_utc <= NOW < cert.not_valid_after_utc


def test_reissue_when_near_expiry_not_yet_valid_or_a_name_is_missing() -> None:
    ca_key, ca = tls.make_ca("Command Hall CA", NOW)
    _key, cert = tls.make_server_cert(ca_key, ca, names(), NOW)
    assert tls.reissue_reason(cert, names(), NOW) is None
    assert tls.reissue_reason(cert, names(), NOW + dt.timedelta(days=360)) is None
    assert tls.reissue_reason(cert, names(), NOW + dt.timedelta(days=370)) == (
        "expires within 30 days"
    )
    assert tls.reissue_reason(cert, names(), NOW - dt.timedelta(days=1)) == "not yet valid"
    more = tls.server_names("https://hub.test:8443", ["10.1.1.6"], "0.0.0.0")
    assert tls.reissue_reason(cert, more, NOW) == "lacks 10.1.1.6, hub.test"
    fewer = tls.Names(("localhost",), (IP("127.0.0.1"),))
    assert tls.reissue_reason(cert, fewer, NOW) is None  # a superset is fine


def test_ensure_auto_makes_private_files_keeps_the_ca_and_reissues_for_new_names(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "tls"
    first, why = tls.ensure_auto(folder, names(), "示范县", NOW)
    assert why == "no certificate yet"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for name in (tls.CA_KEY, tls.SERVER_KEY, tls.SERVER_CERT, tls.CA_CERT):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600, name
    again, why = tls.ensure_auto(folder, names(), "示范县", NOW)
    assert why is None and again == first
    served = (folder / tls.SERVER_CERT).read_bytes()
    more = tls.server_names("https://hub.test:9443", [], "127.0.0.1")
    third, why = tls.ensure_auto(folder, more, "示范县", NOW)
    assert why == "lacks hub.test"
    assert third.ca_spki == first.ca_spki  # the CA phones installed stays the same
    assert (folder / tls.SERVER_CERT).read_bytes() != served
    leaf = tls.read_cert(folder / tls.SERVER_CERT)
    assert "hub.test" in tls.cert_names(leaf).dns
    late, why = tls.ensure_auto(folder, more, "示范县", NOW + dt.timedelta(days=380))
    assert why == "expires within 30 days" and late.ca_spki == first.ca_spki


def test_the_chain_loads_into_server_and_client_contexts(tmp_path: Path) -> None:
    material, _ = tls.ensure_auto(tmp_path, names(), None)
    assert isinstance(tls.server_context(material), ssl.SSLContext)
    assert material.ca_cert is not None
    client = tls.client_context([material.ca_cert])
    assert client.verify_mode is ssl.CERT_REQUIRED and client.check_hostname
    with pytest.raises(tls.TlsError, match="not a CA certificate"):
        tls.client_context([material.key.with_name("missing.pem")])


def test_operator_files_are_used_as_given_and_bad_ones_are_refused(tmp_path: Path) -> None:
    material, _ = tls.ensure_auto(tmp_path / "own", names(), None)
    given = tls.operator_files(material.cert, material.key)
    assert given.cert == material.cert and given.ca_cert is None and given.ca_spki is None
    other, _ = tls.ensure_auto(tmp_path / "other", names(), None)
    with pytest.raises(tls.TlsError, match="cannot be used"):
        tls.operator_files(material.cert, other.key)  # a key of another certificate


def test_spki_and_fingerprint_formats() -> None:
    _key, ca = tls.make_ca("Command Hall CA", NOW)
    assert len(tls.spki_sha256_b64(ca)) == 44
    fp = tls.fingerprint_sha256(ca)
    assert len(fp.split(":")) == 32 and fp == fp.upper()


def test_tls_config_modes_names_and_public_url() -> None:
    cfg = build_config({})
    assert cfg.tls.mode == "auto" and cfg.http.plain_port == 8480 and cfg.http.public_url is None
    assert cfg.tls_dir() == cfg.data_dir() / "tls"
    with pytest.raises(ConfigError, match="needs both cert and key"):
        build_config({"tls": {"mode": "files", "cert": "/etc/hall/hub.crt"}})
    with pytest.raises(ConfigError, match="not a host name"):
        build_config({"tls": {"names": ["<b>x</b>"]}})
    with pytest.raises(ConfigError, match="public_url"):
        build_config({"http": {"public_url": "https://hub.test/some/path"}})
    off = build_config({"http": {"plain_port": -1}})
    assert not off.http.plain_enabled()
    assert build_config({"http": {"plain_port": 0}}).http.plain_enabled()


def test_public_url_is_the_configured_one_else_the_listen_address() -> None:
    given = HubCertificates(build_config({"http": {"public_url": "https://hub.test:8443/"}}))
    assert given.public_url(40000) == "https://hub.test:8443"
    plain = HubCertificates(build_config({"http": {"host": "10.1.1.5"}}))
    assert plain.public_url(8443) == "https://10.1.1.5:8443"
    off = HubCertificates(build_config({"tls": {"mode": "off"}}))
    assert off.public_url(8470) == "http://127.0.0.1:8470" and off.prepare() is None
    assert local_url("https", "0.0.0.0", 8443) == "https://127.0.0.1:8443"
    assert given.ca_page_url("https://hub.test:8443", 80) == "http://hub.test/ca"
    assert given.ca_page_url("https://[fd00::5]:8443", 8480) == "http://[fd00::5]:8480/ca"
    assert local_url("https", "::1", 8443) == "https://[::1]:8443"


def test_plain_page_escapes_and_redirects_keep_path_and_query() -> None:
    page = ca_page("AA:BB", "Command Hall CA <script>", "https://hub.test:8443")
    assert "&lt;script&gt;" in page and "<script>" not in page
    assert 'id="fingerprint">AA:BB<' in page and "完全信任" in page and "Windows" in page
    assert "本系统使用正式证书" in ca_page(None, "x", "https://hub.test")
    assert redirect_target("https://hub.test:8443/", "/m/abc?x=1") == (
        "https://hub.test:8443/m/abc?x=1"
    )


def test_the_daily_check_reissues_near_expiry_and_reloads_the_context(tmp_path: Path) -> None:
    certs = HubCertificates(build_config({"hub": {"data_dir": str(tmp_path)}}), "示范县")
    assert certs.prepare() is certs.context and certs.context is not None
    first = tls.read_cert(tmp_path / "tls" / tls.SERVER_CERT)
    assert certs.renew_if_due() is None  # fresh: kept
    later = first.not_valid_after_utc - dt.timedelta(days=10)
    assert certs.renew_if_due(later) == "expires within 30 days"
    again = tls.read_cert(tmp_path / "tls" / tls.SERVER_CERT)
    assert again.serial_number != first.serial_number
    assert again.not_valid_after_utc > first.not_valid_after_utc
    assert certs.ca_file() == tmp_path / "tls" / tls.CA_CERT
