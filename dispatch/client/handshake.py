"""What a console's sockets learn at the CURVE handshake, as a plain verdict.

A hub that refuses the console's key (not enrolled, revoked) sends nothing at all; the
only sign is the socket's monitor event. `HandshakeWatch` reads a socket's monitor and
reports each handshake's outcome: `None` when it succeeded, else the Chinese message the
console shows (`refusal_text`), so the operator sees "not enrolled" instead of a timeout.

A hub with another key than the one pinned in the key file closes the connection at the
client's first handshake message, and libzmq reports that as a handshake failure "with
no detail": exactly what a hub that stops (or is restarted) in the middle of a
handshake causes too. So that failure is a wrong hub key only when it persists
(`PersistentFailure`: libzmq retries every ~0.1-0.2 s; a restarting hub makes one or
two and then succeeds), never at the first one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import zmq
import zmq.asyncio
from zmq.utils.monitor import parse_monitor_message

log = logging.getLogger(__name__)

NOT_ENROLLED = "本工作站未登记/已吊销，请联系管理员 (workstation not enrolled or revoked)"
NEEDS_KEYS = "集控中心只接受已登记的工作站：缺少或未使用密钥文件，请联系管理员 (no key file)"
WRONG_HUB = "集控中心的密钥与本工作站密钥文件不符，请联系管理员 (hub key mismatch)"

WRONG_HUB_AFTER_S = 3.0  # a no-detail failure is a wrong hub key after this long
WRONG_HUB_AFTER_N = 3  # ... and this many failures with no success between them

WATCHED = (
    zmq.EVENT_HANDSHAKE_SUCCEEDED
    | zmq.EVENT_HANDSHAKE_FAILED_AUTH
    | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL
    | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL
)


def refusal_text(event: int, curve: bool) -> str | None:
    """The handshake's outcome: None (succeeded, or not about the handshake) or the
    message to show. `curve`: whether this console used a key file."""
    if event == zmq.EVENT_HANDSHAKE_FAILED_AUTH:
        return NOT_ENROLLED
    if event == zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL:
        return NOT_ENROLLED if curve else NEEDS_KEYS
    if event == zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL:
        return WRONG_HUB if curve else NEEDS_KEYS
    return None


class PersistentFailure:
    """Ambiguous handshake failures of each socket: `failed` says whether they have
    persisted long enough (`after_s`, `after_n`, no success between) to be believed."""

    def __init__(self, after_s: float = WRONG_HUB_AFTER_S, after_n: int = WRONG_HUB_AFTER_N):
        self.after_s = after_s
        self.after_n = after_n
        self._since: dict[str, tuple[float, int]] = {}  # label -> (first failure, count)

    def failed(self, label: str, now: float) -> bool:
        first, n = self._since.get(label, (now, 0))
        self._since[label] = (first, n + 1)
        return n + 1 >= self.after_n and now - first >= self.after_s

    def succeeded(self, label: str) -> None:
        self._since.pop(label, None)

    def clear(self) -> None:
        self._since.clear()


class HandshakeWatch:
    """Reports each handshake of `sock` to `on_result(label, text-or-None)`."""

    def __init__(
        self,
        sock: zmq.asyncio.Socket,
        label: str,
        on_result: Callable[[str, str | None], None],
        *,
        curve: bool,
    ) -> None:
        self.sock = sock
        self._label = label
        self._on_result = on_result
        self._curve = curve
        self._mon: zmq.asyncio.Socket | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._mon is not None:
            return
        mon = self.sock.get_monitor_socket(WATCHED)
        assert isinstance(mon, zmq.asyncio.Socket)
        self._mon = mon
        self._task = asyncio.create_task(self._read(mon), name=f"handshake-{self._label}")

    def stop(self) -> None:
        """Stop watching (before the socket is closed); safe twice."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
        mon, self._mon = self._mon, None
        if mon is not None:
            with contextlib.suppress(zmq.ZMQError):
                self.sock.disable_monitor()
            mon.close(linger=0)

    async def _read(self, mon: zmq.asyncio.Socket) -> None:
        while True:
            try:
                event = parse_monitor_message(await mon.recv_multipart())["event"]
            except zmq.ZMQError:
                return
            if event == zmq.EVENT_HANDSHAKE_SUCCEEDED:
                self._on_result(self._label, None)
                continue
            text = refusal_text(int(event), self._curve)
            if text is not None:
                log.debug("hub refused the %s handshake (event %s): %s", self._label, event, text)
                self._on_result(self._label, text)
