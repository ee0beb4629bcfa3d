"""ONVIF replay over RTSP: PLAY with `Range: clock=…` and `Scale`, H.264 access units out.

FFmpeg's RTSP client cannot send a clock range or Scale, so this is a small client of its
own for recorders that serve the ONVIF replay form (ONVIF Streaming Specification,
"Replay"): DESCRIBE, SETUP with TCP interleaving, PLAY with `Require: onvif-replay`,
then RTP over the same socket, depacketised (RFC 6184: single NAL units, STAP-A, FU-A)
into access units by RTP timestamp. Digest or basic authentication as the URL's
credentials ask. Blocking, bounded by `timeout_s` on every read; the caller runs it in
its own thread and decodes the units (`av.CodecContext`).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import re
import socket
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit, urlunsplit

START_CODE = b"\x00\x00\x00\x01"
_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')


class ReplayError(RuntimeError):
    """The recorder refused or broke the replay; the message says which request and why."""


@dataclass(frozen=True, slots=True)
class AccessUnit:
    """One picture's NAL units (Annex-B) and its RTP timestamp (90 kHz)."""

    data: bytes
    rtp_ts: int


def _digest(user: str, password: str, method: str, uri: str, challenge: str) -> str:
    fields = dict(_CHALLENGE.findall(challenge))
    realm, nonce = fields.get("realm", ""), fields.get("nonce", "")
    ha1 = hashlib.md5(f"{user}:{realm}:{password}".encode()).hexdigest()
    ha2 = hashlib.md5(f"{method}:{uri}".encode()).hexdigest()
    resp = hashlib.md5(f"{ha1}:{nonce}:{ha2}".encode()).hexdigest()
    return (
        f'Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}", '
        f'response="{resp}"'
    )


def depacketize(payload: bytes) -> list[bytes]:
    """NAL units of one RTP payload; an FU-A fragment comes back with a marker:
    (b"FU" + start/end flags + header byte + data), joined by `_Assembler`."""
    if not payload:
        return []
    kind = payload[0] & 0x1F
    if kind == 24:  # STAP-A
        out, i = [], 1
        while i + 2 <= len(payload):
            (size,) = struct.unpack_from(">H", payload, i)
            out.append(payload[i + 2 : i + 2 + size])
            i += 2 + size
        return out
    if kind == 28:  # FU-A
        return [b"FU" + payload]
    return [payload]


def _has_bye(rtcp: bytes) -> bool:
    """Whether a compound RTCP packet holds a BYE (the recorder's end of stream)."""
    i = 0
    while i + 4 <= len(rtcp):
        if rtcp[i + 1] == 203:
            return True
        i += 4 * (struct.unpack_from(">H", rtcp, i + 2)[0] + 1)
    return False


class _Assembler:
    """RTP packets in, access units out (a unit ends when the timestamp changes)."""

    def __init__(self) -> None:
        self.nals: list[bytes] = []
        self.fu: bytearray | None = None
        self.ts: int | None = None

    def add(self, packet: bytes) -> AccessUnit | None:
        if len(packet) < 12:
            return None
        cc = packet[0] & 0x0F
        (ts,) = struct.unpack_from(">I", packet, 4)
        payload = packet[12 + 4 * cc :]
        done = None
        if self.ts is not None and ts != self.ts and self.nals:
            done = AccessUnit(b"".join(START_CODE + n for n in self.nals), self.ts)
            self.nals = []
        self.ts = ts
        for nal in depacketize(payload):
            if nal.startswith(b"FU"):
                self._fragment(nal[2:])
            else:
                self.nals.append(nal)
        return done

    def _fragment(self, fu: bytes) -> None:
        indicator, header = fu[0], fu[1]
        if header & 0x80:
            self.fu = bytearray([(indicator & 0xE0) | (header & 0x1F)])
        if self.fu is None:
            return
        self.fu += fu[2:]
        if header & 0x40:
            self.nals.append(bytes(self.fu))
            self.fu = None


class ReplaySession:
    """One ONVIF replay: `play(start, end, scale)` then iterate `units()`; `close()`."""

    def __init__(self, url: str, timeout_s: float = 5.0) -> None:
        parts = urlsplit(url)
        if parts.scheme != "rtsp" or not parts.hostname:
            raise ReplayError(f"not an rtsp:// URL: {url!r}")
        self.user = unquote(parts.username or "")
        self.password = unquote(parts.password or "")
        netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
        self.url = urlunsplit(("rtsp", netloc, parts.path, parts.query, ""))
        self.host, self.port = parts.hostname, parts.port or 554
        self.timeout_s = timeout_s
        self.sock: socket.socket | None = None
        self.buf = b""
        self.cseq = 0
        self.session = ""
        self.auth_header = ""
        self.challenge = ""

    def _request(
        self, method: str, uri: str, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        for _attempt in range(2):
            self.cseq += 1
            lines = [f"{method} {uri} RTSP/1.0", f"CSeq: {self.cseq}", "User-Agent: hall"]
            if self.session:
                lines.append(f"Session: {self.session}")
            if self.challenge:
                lines.append("Authorization: " + self._authorization(method, uri))
            lines += [f"{k}: {v}" for k, v in headers.items()]
            assert self.sock is not None
            self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
            status, head, body = self._response()
            if status == 401 and not self.challenge and self.user:
                self.challenge = head.get("www-authenticate", "")
                continue
            return status, head, body
        return status, head, body

    def _authorization(self, method: str, uri: str) -> str:
        if self.challenge.lower().startswith("digest"):
            return _digest(self.user, self.password, method, uri, self.challenge)
        token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        return f"Basic {token}"

    def _fill(self) -> None:
        assert self.sock is not None
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ReplayError("the recorder closed the connection")
        self.buf += chunk

    def _read(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def _response(self) -> tuple[int, dict[str, str], bytes]:
        while b"\r\n\r\n" not in self.buf:
            if self.buf.startswith(b"$") and len(self.buf) >= 4:
                self._interleaved()  # RTP arriving before the PLAY answer
                continue
            self._fill()
        head_raw, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head_raw.decode("utf-8", "replace").split("\r\n")
        try:
            status = int(lines[0].split()[1])
        except (IndexError, ValueError):
            raise ReplayError(f"not an RTSP answer: {lines[0]!r}") from None
        head = {}
        for line in lines[1:]:
            key, _, value = line.partition(":")
            head[key.strip().lower()] = value.strip()
        body = self._read(int(head.get("content-length", "0")))
        return status, head, body

    def _interleaved(self) -> tuple[int, bytes]:
        header = self._read(4)
        channel, size = header[1], struct.unpack(">H", header[2:4])[0]
        return channel, self._read(size)

    def play(self, start: str, end: str = "", scale: float = 1.0, intra: bool = False) -> None:
        """Connect and PLAY from `start` to `end` (ISO basic UTC, `20261202T140000Z`)."""
        self.sock = socket.create_connection((self.host, self.port), self.timeout_s)
        self.sock.settimeout(self.timeout_s)
        status, head, _ = self._request("DESCRIBE", self.url, {"Accept": "application/sdp"})
        if status != 200:
            raise ReplayError(f"DESCRIBE {self.url}: {status}")
        base = head.get("content-base", self.url.rstrip("/") + "/")
        status, head, _ = self._request(
            "SETUP",
            base + "stream=0",
            {"Transport": "RTP/AVP/TCP;unicast;interleaved=0-1", "Require": "onvif-replay"},
        )
        if status != 200:
            raise ReplayError(f"SETUP: {status}")
        self.session = head.get("session", "").split(";")[0]
        extra = {"Range": f"clock={start}-{end}", "Scale": f"{scale:g}"}
        extra["Require"] = "onvif-replay"
        if intra:
            extra["Frames"] = "intra"
        status, _head, _ = self._request("PLAY", base, extra)
        if status != 200:
            raise ReplayError(f"PLAY {start}-{end} x{scale:g}: {status}")

    def units(self) -> Iterator[AccessUnit]:
        """Access units until the recorder ends the stream (or closes)."""
        asm = _Assembler()
        while True:
            try:
                channel, packet = self._interleaved()
            except (ReplayError, TimeoutError, OSError):
                return
            if channel == 1 and _has_bye(packet):
                return
            if channel == 0 and (unit := asm.add(packet)) is not None:
                yield unit

    def close(self) -> None:
        if self.sock is not None:
            with contextlib.suppress(ReplayError, OSError):
                self._request("TEARDOWN", self.url, {})
            self.sock.close()
            self.sock = None
