"""The hub's side of the camera relays: the last report of each relay, published on change.

In memory only: the states are live facts, and every relay reports again within seconds
of a hub restart. A report names the relay; a relay the site does not list is refused
(`UnknownRelay`), so a stray process cannot fill the consoles' view. A relay silent for
three of its report intervals (at least `STALE_MIN_S`, on the hub's monotonic clock) is
published as stale; `start()` runs that sweep every `sweep_s`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from datetime import datetime

from dispatch.domain.site import Site
from dispatch.domain.wire import encode
from dispatch.relays.messages import RelayStatesChanged
from streams.relay.states import RelayReport, Upstream

STALE_MIN_S = 5.0


class UnknownRelay(ValueError):
    """A report from a relay the site does not list."""


class RelaysService:
    """Constructed by the hub's assembly; no I/O. `start`/`stop` are safe twice."""

    def __init__(
        self,
        site: Site | None,
        publish: Callable[[bytes], None],
        clock: Callable[[], datetime],
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sweep_s: float = 1.0,
    ) -> None:
        self._known = {r.id for r in site.relays} if site is not None else set()
        self._publish = publish
        self._clock = clock
        self._mono = monotonic
        self.sweep_s = sweep_s
        self._reports: dict[str, RelayReport] = {}
        self._index: dict[str, dict[tuple[str, str], Upstream]] = {}
        self._heard: dict[str, float] = {}
        self._stale: set[str] = set()
        self._task: asyncio.Task[None] | None = None
        self.seq = 0

    async def start(self) -> None:
        if self._task is None and self._known:
            self._task = asyncio.create_task(self._sweeper(), name="relay-stale-sweep")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _sweeper(self) -> None:
        while True:
            await asyncio.sleep(self.sweep_s)
            self.sweep()

    def _next_seq(self) -> int:
        if self.seq == 0:
            self.seq = int(self._clock().timestamp() * 1000)
        self.seq += 1
        return self.seq

    def _tell(self, report: RelayReport, stale: bool) -> None:
        self._publish(encode(RelayStatesChanged(seq=self._next_seq(), report=report, stale=stale)))

    def submit(self, report: RelayReport) -> bool:
        """Keep the report; publish it when its upstreams changed (or the relay was stale).
        True if published."""
        if report.relay not in self._known:
            raise UnknownRelay(f"relay {report.relay!r} is not in the site's relays")
        last = self._reports.get(report.relay)
        self._reports[report.relay] = report
        self._index[report.relay] = {(u.camera, u.stream): u for u in report.upstreams}
        self._heard[report.relay] = self._mono()
        was_stale = report.relay in self._stale
        self._stale.discard(report.relay)
        if last is not None and last.upstreams == report.upstreams and not was_stale:
            return False
        self._tell(report, stale=False)
        return True

    def sweep(self) -> list[str]:
        """Publish every relay that fell silent as stale (once); the relays newly stale."""
        now = self._mono()
        gone = []
        for relay, report in self._reports.items():
            silent = now - self._heard.get(relay, now)
            if relay not in self._stale and silent > max(STALE_MIN_S, 3 * report.every_s):
                self._stale.add(relay)
                gone.append(relay)
                self._tell(report, stale=True)
        return gone

    def upstream(self, relay: str, camera: str, stream: str = "sub") -> Upstream | None:
        """The relay's last reported upstream of that camera stream (None: never reported,
        or the relay is stale). Read from the patrol's thread: a report replaces its
        relay's index in one assignment."""
        if relay in self._stale:
            return None
        return self._index.get(relay, {}).get((camera, stream))

    def stale(self) -> list[str]:
        return sorted(self._stale)

    def reports(self) -> list[RelayReport]:
        if self.seq == 0:
            self._next_seq()
        return list(self._reports.values())
