"""The hub's side of the camera relays: the last report of each relay, published on change.

In memory only: the states are live facts, and every relay reports again within seconds
of a hub restart. A report names the relay; a relay the site does not list is refused
(`UnknownRelay`), so a stray process cannot fill the consoles' view.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from dispatch.domain.site import Site
from dispatch.domain.wire import encode
from dispatch.relays.messages import RelayStatesChanged
from streams.relay.states import RelayReport


class UnknownRelay(ValueError):
    """A report from a relay the site does not list."""


class RelaysService:
    """Constructed by the hub's assembly; no I/O."""

    def __init__(
        self, site: Site | None, publish: Callable[[bytes], None], clock: Callable[[], datetime]
    ) -> None:
        self._known = {r.id for r in site.relays} if site is not None else set()
        self._publish = publish
        self._clock = clock
        self._reports: dict[str, RelayReport] = {}
        self.seq = 0

    def _next_seq(self) -> int:
        if self.seq == 0:
            self.seq = int(self._clock().timestamp() * 1000)
        self.seq += 1
        return self.seq

    def submit(self, report: RelayReport) -> bool:
        """Keep the report; publish it when its upstreams changed. True if published."""
        if report.relay not in self._known:
            raise UnknownRelay(f"relay {report.relay!r} is not in the site's relays")
        last = self._reports.get(report.relay)
        self._reports[report.relay] = report
        if last is not None and last.upstreams == report.upstreams:
            return False
        self._publish(encode(RelayStatesChanged(seq=self._next_seq(), report=report)))
        return True

    def reports(self) -> list[RelayReport]:
        if self.seq == 0:
            self._next_seq()
        return list(self._reports.values())
