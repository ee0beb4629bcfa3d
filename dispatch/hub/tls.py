"""The hub's HTTPS certificates: its own certificate authority, or the operator's files.

Mode "auto" (the default): on first start the hub makes a CA (EC P-256, subject
"Command Hall CA <centre>") in its TLS folder (0700, every file 0600), and a server
certificate signed by it for the public names and addresses (SAN: DNS names and IPs of
the public URL's host, the configured extra names, the listen address, localhost and
127.0.0.1), with the serverAuth EKU and 397 days of validity. At every start, and once a
day while running (`dispatch.hub.certs`), the server certificate is re-issued when fewer
than 30 days remain or when the names it must carry changed; the CA (ten years) is kept,
so phones that trusted it once keep trusting the hub. Mode "files": the operator's
certificate chain and key are used as given. The helpers above `write_private` are pure;
the I/O is in the functions from it on.

Browsers and phones trust the CA by installing it (the plain-HTTP page `/ca`), tests by
its SPKI hash (`spki_sha256_b64`, Chromium's `--ignore-certificate-errors-spki-list`).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
import os
import ssl
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from dispatch.hub.clock import system_utc
from streams.private import write_private

SERVER_DAYS = 397  # the browsers' cap is 398 days
CA_DAYS = 3650
RENEW_MARGIN = dt.timedelta(days=30)
CHECK_EVERY_S = 24 * 3600.0
CA_CERT = "ca.crt"
CA_KEY = "ca.key"
SERVER_CERT = "server.crt"
SERVER_KEY = "server.key"
ALWAYS_NAMES = ("localhost", "127.0.0.1")
WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
PrivateKey = ec.EllipticCurvePrivateKey


class TlsError(RuntimeError):
    """Certificates that cannot be made, read or used; the message names the file."""


@dataclass(frozen=True)
class Names:
    """The names a server certificate must carry: DNS names and IP addresses."""

    dns: tuple[str, ...]
    ips: tuple[Address, ...]


@dataclass(frozen=True)
class TlsMaterial:
    """What the hub serves with: the chain and key files, and its CA when it has one."""

    cert: Path
    key: Path
    ca_cert: Path | None
    ca_spki: str | None  # base64 SHA-256 of the CA's SubjectPublicKeyInfo
    ca_fingerprint: str | None  # SHA-256 of the CA certificate, "AB:CD:…"


# -- pure helpers -------------------------------------------------------------------------


def _ip(text: str) -> Address | None:
    try:
        return ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None


def _sorted_ips(ips: Iterable[Address]) -> tuple[Address, ...]:
    return tuple(sorted(set(ips), key=lambda a: (a.version, int(a))))


def url_host(url: str) -> str:
    """The host of a URL ("" when it has none)."""
    return (urlsplit(url).hostname or "").lower()


def server_names(public_url: str, extra: Iterable[str], listen_host: str) -> Names:
    """The SAN of the server certificate: the public URL's host, the extra names, the
    listen address (unless a wildcard), localhost and 127.0.0.1; sorted, no repeats."""
    dns: set[str] = set()
    ips: set[Address] = set()
    hosts = [url_host(public_url), *extra, *ALWAYS_NAMES]
    if listen_host not in WILDCARD_HOSTS:
        hosts.append(listen_host)
    for host in hosts:
        host = host.strip().lower()
        if not host:
            continue
        ip = _ip(host)
        if ip is not None:
            ips.add(ip)
        else:
            dns.add(host)
    return Names(tuple(sorted(dns)), _sorted_ips(ips))


def cert_names(cert: x509.Certificate) -> Names:
    """The DNS names and IP addresses of a certificate's SAN (empty without one)."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return Names((), ())
    dns = tuple(sorted(n.lower() for n in san.get_values_for_type(x509.DNSName)))
    ips = san.get_values_for_type(x509.IPAddress)
    addrs = tuple(
        sorted((a for a in ips if isinstance(a, Address)), key=lambda a: (a.version, int(a)))
    )
    return Names(dns, addrs)


def reissue_reason(cert: x509.Certificate, names: Names, now: dt.datetime) -> str | None:
    """Why a server certificate must be re-issued now, or None when it is still good:
    fewer than 30 days left (or not yet valid), or it lacks a name it must carry."""
    if cert.not_valid_after_utc - now < RENEW_MARGIN:
        return "expires within 30 days"
    if cert.not_valid_before_utc > now:
        return "not yet valid"
    have = cert_names(cert)
    missing = (set(names.dns) - set(have.dns)) | {str(a) for a in set(names.ips) - set(have.ips)}
    if missing:
        return "lacks " + ", ".join(sorted(missing))
    return None


def spki_sha256_b64(cert: x509.Certificate) -> str:
    """base64 SHA-256 of the certificate's SubjectPublicKeyInfo (Chromium's SPKI pin)."""
    spki = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(hashlib.sha256(spki).digest()).decode("ascii")


def fingerprint_sha256(cert: x509.Certificate) -> str:
    """SHA-256 of the DER certificate as colon-separated hex, the way phones show it."""
    return ":".join(f"{b:02X}" for b in cert.fingerprint(hashes.SHA256()))


def ca_subject_name(centre: str | None) -> str:
    return f"Command Hall CA {centre}".strip() if centre else "Command Hall CA"


def _new_key() -> PrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def make_ca(common_name: str, now: dt.datetime) -> tuple[PrivateKey, x509.Certificate]:
    """A new CA key and its self-signed certificate (CA:true, keyCertSign, 10 years)."""
    key = _new_key()
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64]),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Command Hall"),
        ]
    )
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def make_server_cert(
    ca_key: PrivateKey,
    ca_cert: x509.Certificate,
    names: Names,
    now: dt.datetime,
    days: int = SERVER_DAYS,
) -> tuple[PrivateKey, x509.Certificate]:
    """A new server key and its certificate signed by the CA: SAN `names`, serverAuth."""
    key = _new_key()
    first = names.dns[0] if names.dns else str(names.ips[0]) if names.ips else "hub"
    san: list[x509.GeneralName] = [x509.DNSName(d) for d in names.dns]
    san += [x509.IPAddress(a) for a in names.ips]
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, first[:64])]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=days) - dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName(san), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


# -- files --------------------------------------------------------------------------------


def read_cert(path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except OSError as exc:
        raise TlsError(f"{path}: cannot read certificate: {exc.strerror}") from None
    except ValueError as exc:
        raise TlsError(f"{path}: not a PEM certificate: {exc}") from None


def _read_key(path: Path) -> PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise TlsError(f"{path}: cannot read key: {exc.strerror}") from None
    except (ValueError, TypeError) as exc:
        raise TlsError(f"{path}: not an unencrypted PEM key: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise TlsError(f"{path}: the hub's own CA key must be an EC key")
    return key


def _ca(folder: Path, centre: str | None, now: dt.datetime) -> tuple[PrivateKey, x509.Certificate]:
    ca_cert, ca_key = folder / CA_CERT, folder / CA_KEY
    if ca_cert.is_file() and ca_key.is_file():
        os.chmod(ca_key, 0o600)
        return _read_key(ca_key), read_cert(ca_cert)
    key, cert = make_ca(ca_subject_name(centre), now)
    write_private(ca_key, key_pem(key))
    write_private(ca_cert, cert_pem(cert))  # public, but like all the hub's data 0600
    return key, cert


def auto_status(folder: Path, names: Names, now: dt.datetime) -> str | None:
    """Why the server certificate in `folder` must be (re)made, or None when it is good."""
    path = folder / SERVER_CERT
    if not path.is_file() or not (folder / SERVER_KEY).is_file():
        return "no certificate yet"
    try:
        return reissue_reason(read_cert(path), names, now)
    except TlsError as exc:
        return str(exc)


def ensure_auto(
    folder: Path, names: Names, centre: str | None, now: dt.datetime | None = None
) -> tuple[TlsMaterial, str | None]:
    """The hub's own CA and server certificate in `folder`, made or re-issued as needed;
    returns them and why the server certificate was re-issued (None: kept)."""
    now = now or system_utc()
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(folder, 0o700)
        ca_key, ca_cert = _ca(folder, centre, now)
        reason = auto_status(folder, names, now)
        if reason is not None:
            key, cert = make_server_cert(ca_key, ca_cert, names, now)
            write_private(folder / SERVER_KEY, key_pem(key))
            write_private(folder / SERVER_CERT, cert_pem(cert) + cert_pem(ca_cert))
    except OSError as exc:
        raise TlsError(f"{folder}: cannot write certificates: {exc}") from None
    material = TlsMaterial(
        cert=folder / SERVER_CERT,
        key=folder / SERVER_KEY,
        ca_cert=folder / CA_CERT,
        ca_spki=spki_sha256_b64(ca_cert),
        ca_fingerprint=fingerprint_sha256(ca_cert),
    )
    return material, reason


def operator_files(cert: Path, key: Path, ca: Path | None = None) -> TlsMaterial:
    """The operator's certificate chain and key, checked to load together."""
    server_context(TlsMaterial(cert, key, None, None, None))
    ca_cert = read_cert(ca) if ca is not None else None
    return TlsMaterial(
        cert=cert,
        key=key,
        ca_cert=ca,
        ca_spki=spki_sha256_b64(ca_cert) if ca_cert is not None else None,
        ca_fingerprint=fingerprint_sha256(ca_cert) if ca_cert is not None else None,
    )


def server_context(material: TlsMaterial) -> ssl.SSLContext:
    """A TLS ≥ 1.2 server context serving the material's chain."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    reload_chain(ctx, material)
    return ctx


def reload_chain(ctx: ssl.SSLContext, material: TlsMaterial) -> None:
    """Load (again) the chain into a server context: new handshakes get the new one."""
    try:
        ctx.load_cert_chain(material.cert, material.key)
    except (OSError, ssl.SSLError) as exc:
        raise TlsError(f"{material.cert}, {material.key}: cannot be used: {exc}") from None


NEEDS_CLEANUP_CLOSED = sys.version_info < (3, 12, 8)
"""Python < 3.12.8 leaves the TLS transports of aborted connections open (cpython
#118960); aiohttp's `TCPConnector(enable_cleanup_closed=True)` closes them."""


def client_context(ca_files: Sequence[Path] = ()) -> ssl.SSLContext:
    """A verifying client context trusting the system's CAs and the given CA files."""
    ctx = ssl.create_default_context()
    for path in ca_files:
        try:
            ctx.load_verify_locations(cafile=str(path))
        except (OSError, ssl.SSLError) as exc:
            raise TlsError(f"{path}: not a CA certificate: {exc}") from None
    return ctx
