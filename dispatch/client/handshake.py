"""What a console's sockets learn at the CURVE handshake, as a plain verdict.

A hub that refuses the console's key (not enrolled, revoked) sends nothing at all; the
only sign is the socket's monitor event. `HandshakeWatch` reads a socket's monitor and
reports each handshake's outcome: `None` when it succeeded, else the Chinese message the
console shows (`refusal_text`), so the operator sees "not enrolled" instead of a timeout.
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
