"""SOAP 1.2 for the simulator's ONVIF service: envelopes, faults, WS-Security checks.

Standard library only (the server runs under the system Python). A request is parsed
with `xml.etree`; its WS-Security UsernameToken is checked the way a camera checks it:
PasswordDigest = Base64(SHA-1(nonce + created + password)), `Created` within
`MAX_SKEW_S` of the camera's clock, a nonce never accepted twice. Anything else is a
`SoapFault` that becomes a SOAP 1.2 fault with ONVIF's subcodes (HTTP 400 for the
sender's faults, 500 for the receiver's).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import threading
import xml.etree.ElementTree as ET
from collections import deque
from datetime import UTC, datetime
from xml.sax.saxutils import escape

SOAP = "http://www.w3.org/2003/05/soap-envelope"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DIGEST = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
    "#PasswordDigest"
)
TDS = "http://www.onvif.org/ver10/device/wsdl"
TRT = "http://www.onvif.org/ver10/media/wsdl"
TPTZ = "http://www.onvif.org/ver20/ptz/wsdl"
TT = "http://www.onvif.org/ver10/schema"
TER = "http://www.onvif.org/ver10/error"
MAX_SKEW_S = 300.0
NONCES_KEPT = 4096
_DURATION = re.compile(r"^PT(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?$")


class SoapFault(Exception):
    """A fault to send back: `code` Sender or Receiver, ONVIF `subcodes`, a reason."""

    def __init__(self, reason: str, *subcodes: str, code: str = "Sender") -> None:
        super().__init__(reason)
        self.reason = reason
        self.subcodes = subcodes
        self.code = code

    @property
    def http_status(self) -> int:
        return 400 if self.code == "Sender" else 500


def q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


def parse_request(body: bytes) -> tuple[ET.Element | None, ET.Element]:
    """(the Security header or None, the operation element) of a SOAP 1.2 request."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise SoapFault(f"not XML: {exc}", "ter:WellFormed") from None
    if root.tag != q(SOAP, "Envelope"):
        raise SoapFault("not a SOAP 1.2 envelope", "ter:VersionMismatch")
    header = root.find(q(SOAP, "Header"))
    security = header.find(q(WSSE, "Security")) if header is not None else None
    body_el = root.find(q(SOAP, "Body"))
    if body_el is None or len(body_el) == 0:
        raise SoapFault("the envelope has no operation in its body", "ter:InvalidArgVal")
    return security, body_el[0]


def parse_created(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise SoapFault(f"unreadable Created {text!r}", "ter:NotAuthorized") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class TokenChecker:
    """Checks UsernameTokens against one credential; remembers the nonces it accepted."""

    def __init__(self, user: str, password: str) -> None:
        self.user, self.password = user, password
        self._nonces: deque[bytes] = deque(maxlen=NONCES_KEPT)
        self._seen: set[bytes] = set()
        self._lock = threading.Lock()

    def check(self, security: ET.Element | None, now: datetime) -> None:
        if security is None:
            raise SoapFault("Sender not authorized: no WS-Security header", "ter:NotAuthorized")
        token = security.find(q(WSSE, "UsernameToken"))
        if token is None:
            raise SoapFault("Sender not authorized: no UsernameToken", "ter:NotAuthorized")
        user = token.findtext(q(WSSE, "Username"), "")
        pw_el = token.find(q(WSSE, "Password"))
        nonce_text = token.findtext(q(WSSE, "Nonce"), "")
        created = token.findtext(q(WSU, "Created"), "")
        if pw_el is None or pw_el.get("Type", DIGEST) != DIGEST:
            raise SoapFault("Sender not authorized: PasswordDigest required", "ter:NotAuthorized")
        if not nonce_text or not created:
            raise SoapFault(
                "Sender not authorized: nonce and created required", "ter:NotAuthorized"
            )
        try:
            nonce = base64.b64decode(nonce_text, validate=True)
        except ValueError:
            raise SoapFault("Sender not authorized: bad nonce", "ter:NotAuthorized") from None
        if abs((parse_created(created) - now).total_seconds()) > MAX_SKEW_S:
            raise SoapFault("Sender not authorized: Created is off the clock", "ter:NotAuthorized")
        digest = hashlib.sha1(nonce + created.encode() + self.password.encode()).digest()
        expected = base64.b64encode(digest).decode()
        if user != self.user or not hmac.compare_digest(expected, (pw_el.text or "").strip()):
            raise SoapFault("Sender not authorized", "ter:NotAuthorized")
        with self._lock:
            if nonce in self._seen:
                raise SoapFault("Sender not authorized: nonce replayed", "ter:NotAuthorized")
            if len(self._nonces) == self._nonces.maxlen:
                self._seen.discard(self._nonces[0])
            self._nonces.append(nonce)
            self._seen.add(nonce)


def duration_s(text: str | None) -> float | None:
    """An xs:duration such as PT1S or PT0.5S as seconds (None when absent)."""
    if not text:
        return None
    m = _DURATION.match(text.strip())
    if not m or not any(m.groups()):
        raise SoapFault(f"unreadable duration {text!r}", "ter:InvalidArgVal")
    h, mi, s = (float(g) if g else 0.0 for g in m.groups())
    return h * 3600 + mi * 60 + s


def envelope(body_xml: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<s:Envelope xmlns:s="{SOAP}" xmlns:tds="{TDS}" xmlns:trt="{TRT}" '
        f'xmlns:tptz="{TPTZ}" xmlns:tt="{TT}" xmlns:ter="{TER}">'
        f"<s:Body>{body_xml}</s:Body></s:Envelope>"
    ).encode()


def fault_xml(fault: SoapFault) -> bytes:
    sub = "".join(f"<s:Subcode><s:Value>{escape(c)}</s:Value>" for c in fault.subcodes)
    sub += "</s:Subcode>" * len(fault.subcodes)
    return envelope(
        f"<s:Fault><s:Code><s:Value>s:{fault.code}</s:Value>{sub}</s:Code>"
        f'<s:Reason><s:Text xml:lang="en">{escape(fault.reason)}</s:Text></s:Reason></s:Fault>'
    )


def text(value: object) -> str:
    return escape(str(value))
