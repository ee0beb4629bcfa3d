"""A camera's PTZ link: explicit states, the last error, a backoff, and the newest speed
wanted (never a queue of stale commands).

`PtzLink` runs on the network thread's asyncio loop: `want(speed)` records the newest
speed and wakes its sender, which sends only the latest one (a drag that changes speed
ten times while one command is in flight sends one command after it, not ten);
`call(fn)` runs a one-off command (preset, absolute move) in order with the speeds.
A failure puts the link in ERROR with the error's kind and text, and the next attempt
waits out a backoff (longer for wrong credentials: cameras lock accounts).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from streams.ingest.backoff import OFFLINE_POLICY, SLOW_POLICY, Backoff, BackoffPolicy
from streams.ptz.onvif_client import OnvifPtz
from streams.ptz.types import OnvifAccess, PtzError, PtzErrorKind, Vector

log = logging.getLogger(__name__)
T = TypeVar("T")


class LinkState(StrEnum):
    IDLE = "idle"
    CONNECTING = "connecting"
    READY = "ready"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class LinkStatus:
    camera_id: str
    state: LinkState
    error_kind: PtzErrorKind | None = None
    error: str = ""
    commands: int = 0


def policy_for(kind: PtzErrorKind) -> BackoffPolicy:
    return SLOW_POLICY if kind is PtzErrorKind.AUTH else OFFLINE_POLICY


def _command(speed: Vector) -> Callable[[OnvifPtz], Awaitable[None]]:
    """Stop for a zero speed, else a continuous move at `speed`."""

    async def run(ptz: OnvifPtz) -> None:
        await (ptz.stop() if speed.still else ptz.move(speed))

    return run


class PtzLink:
    """One camera's PTZ; `on_status` is called on the loop at every state change."""

    def __init__(
        self,
        access: OnvifAccess,
        on_status: Callable[[LinkStatus], None],
        *,
        timeout_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.access = access
        self._on_status = on_status
        self._ptz = OnvifPtz(access, timeout_s=timeout_s)
        self._clock = clock
        self._lock: asyncio.Lock | None = None
        self._wanted: Vector | None = None
        self._sent = Vector()
        self._task: asyncio.Task[None] | None = None
        self._backoff = Backoff()
        self._retry_at = 0.0
        self.status = LinkStatus(access.camera_id, LinkState.IDLE)

    def _set(self, state: LinkState, err: PtzError | None = None) -> None:
        self.status = LinkStatus(
            self.access.camera_id,
            state,
            err.kind if err else None,
            err.message if err else "",
            self.status.commands + (1 if state is LinkState.READY else 0),
        )
        try:
            self._on_status(self.status)
        except Exception:
            log.exception("PTZ status listener failed")

    def _locked(self) -> asyncio.Lock:
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    async def _connected(self) -> OnvifPtz:
        if self._ptz.connected:
            return self._ptz
        wait = self._retry_at - self._clock()
        if wait > 0:
            raise PtzError(
                self.status.error_kind or PtzErrorKind.UNREACHABLE,
                f"{self.status.error}（{wait:.0f} 秒后重试 / retry in {wait:.0f} s）",
            )
        self._set(LinkState.CONNECTING)
        await self._ptz.connect()
        return self._ptz

    async def call(self, fn: Callable[[OnvifPtz], Awaitable[T]]) -> T:
        """Run `fn` on the connected camera, in order with the speeds; PtzError on failure."""
        async with self._locked():
            try:
                result = await fn(await self._connected())
            except PtzError as err:
                self._failed(err)
                raise
            self._backoff.reset()
            self._set(LinkState.READY)
            return result

    def _failed(self, err: PtzError) -> None:
        if err.kind is not PtzErrorKind.REFUSED:  # a refused command: the link is fine
            self._retry_at = self._clock() + self._backoff.next_delay(policy_for(err.kind))
        if err.kind is not PtzErrorKind.REFUSED:
            asyncio.get_running_loop().create_task(self._ptz.close())
        self._set(LinkState.ERROR, err)

    def want(self, speed: Vector) -> None:
        """The newest speed wanted (zero: stop); sent by the link's sender task."""
        self._wanted = speed
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._sender())

    async def _sender(self) -> None:
        while self._wanted is not None:
            speed, self._wanted = self._wanted, None
            if speed == self._sent and not speed.still:
                continue
            try:
                await self.call(_command(speed))
                self._sent = speed
            except PtzError:
                self._sent = Vector()  # whatever comes next is sent again

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        await self._ptz.close()
        self._set(LinkState.IDLE)
