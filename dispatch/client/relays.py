"""The camera relays' states as the console sees them: every relay's last report
(`fetch`, at login and after a gap) and each published `RelayStatesChanged` (`changed`,
from the connection's SUB loop, on the network thread) handed to whoever `listen`s.

The view is relay id → `RelayReport` (each upstream's state idle|connecting|live|failed,
its last error and clients); `upstream(camera, stream)` finds one camera stream in it. A
change whose seq does not follow the last one makes it fetch the whole view again.
`is_stale(relay)`: the relay stopped reporting (its states are unknown, not live).
"""

from __future__ import annotations

from collections.abc import Callable

from dispatch.client.calls import Caller
from dispatch.client.seqfeed import SeqFeed
from dispatch.relays.messages import RelayStatesChanged, RelayStatesReply, RelayStatesRequest
from streams.relay.states import RelayReport, Upstream

Listener = Callable[[dict[str, RelayReport]], None]
"""Called with the whole view after every change."""


class RelaysFacade(SeqFeed[Listener]):
    WHAT = "relay states"

    def __init__(self, caller: Caller) -> None:
        super().__init__(caller)
        self._view: dict[str, RelayReport] = {}
        self._stale: set[str] = set()

    def view(self) -> dict[str, RelayReport]:
        return dict(self._view)

    def is_stale(self, relay: str) -> bool:
        return relay in self._stale

    def upstream(self, camera: str, stream: str = "sub") -> Upstream | None:
        """That camera stream's state at the relay serving it (None: no relay reports it)."""
        for report in self._view.values():
            for up in report.upstreams:
                if up.camera == camera and up.stream == stream:
                    return up
        return None

    async def fetch(self) -> RelayStatesReply:
        """Every relay's last report (replaces the view; listeners told)."""
        rep = await self._conn.call(RelayStatesReply, RelayStatesRequest)
        self._view = {r.relay: r for r in rep.relays}
        self._stale = set(rep.stale)
        self.seq = rep.seq
        self._tell()
        return rep

    def changed(self, msg: RelayStatesChanged) -> None:
        """A published change: applied if it follows the last seq, else a fetch."""
        if not self.follows(msg.seq):
            return
        self._view[msg.report.relay] = msg.report
        if msg.stale:
            self._stale.add(msg.report.relay)
        else:
            self._stale.discard(msg.report.relay)
        self._tell()

    def _tell(self) -> None:
        self._tell_each(dict(self._view))
