"""The grid leaders' shared positions as the console sees them: the list at login
(`fetch`) and each published `LeaderPositionChanged` (`changed`, from the connection's
SUB loop, on the network thread) handed to whoever `listen`s.

The facade keeps the view (`view()`: person id → position) and the positions' `seq`:
a change whose seq does not follow the last one (a dropped frame, a hub restart) makes
it fetch the whole list again; listeners get the whole view after every change.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from dispatch.client.calls import Caller
from dispatch.domain.wire import HubError
from dispatch.positions.messages import (
    LeaderPosition,
    LeaderPositionChanged,
    LeaderPositionsReply,
    LeaderPositionsRequest,
)

log = logging.getLogger(__name__)

Listener = Callable[[list[LeaderPosition], float], None]
"""Called with every position now known and the hub's age limit (seconds)."""


class PositionsFacade:
    def __init__(self, caller: Caller) -> None:
        self._conn = caller
        self._listeners: list[Listener] = []
        self._view: dict[str, LeaderPosition] = {}
        self.seq = 0
        self.max_age_s = 7200.0
        self._fetching: asyncio.Task[None] | None = None

    def listen(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` after each change until the returned function is called."""
        self._listeners.append(listener)

        def stop() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return stop

    def view(self) -> dict[str, LeaderPosition]:
        return dict(self._view)

    async def fetch(self) -> LeaderPositionsReply:
        """Every position the hub keeps (replaces the view; listeners told)."""
        rep = await self._conn.call(LeaderPositionsReply, LeaderPositionsRequest)
        self._view = {p.person_id: p for p in rep.positions}
        self.seq = rep.seq
        self.max_age_s = rep.max_age_s
        self._tell()
        return rep

    def changed(self, msg: LeaderPositionChanged) -> None:
        """A published change: applied if it follows the last seq, else a fetch."""
        if msg.seq <= self.seq:
            return
        if self.seq == 0 or msg.seq != self.seq + 1:
            self._refetch()
            return
        self.seq = msg.seq
        if msg.position is None:
            self._view.pop(msg.person_id, None)
        else:
            self._view[msg.person_id] = msg.position
        self._tell()

    def _refetch(self) -> None:
        if self._fetching is not None and not self._fetching.done():
            return

        async def run() -> None:
            try:
                await self.fetch()
            except HubError as exc:
                log.info("leader positions: fetch after a gap failed (%s)", exc)

        self._fetching = asyncio.get_running_loop().create_task(run())

    def _tell(self) -> None:
        positions = list(self._view.values())
        for listener in list(self._listeners):
            try:
                listener(positions, self.max_age_s)
            except Exception:
                log.exception("leader positions listener failed")
