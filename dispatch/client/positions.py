"""The grid leaders' shared positions as the console sees them: the list at login
(`fetch`) and each published `LeaderPositionChanged` (`changed`, from the connection's
SUB loop, on the network thread) handed to whoever `listen`s.

The facade keeps the view (`view()`: person id → position) and the positions' `seq`:
a change whose seq does not follow the last one (a dropped frame, a hub restart) makes
it fetch the whole list again; listeners get the whole view after every change.
"""

from __future__ import annotations

from collections.abc import Callable

from dispatch.client.calls import Caller
from dispatch.client.seqfeed import SeqFeed
from dispatch.positions.messages import (
    LeaderPosition,
    LeaderPositionChanged,
    LeaderPositionsReply,
    LeaderPositionsRequest,
)

Listener = Callable[[list[LeaderPosition], float], None]
"""Called with every position now known and the hub's age limit (seconds)."""


class PositionsFacade(SeqFeed[Listener]):
    WHAT = "leader positions"

    def __init__(self, caller: Caller) -> None:
        super().__init__(caller)
        self._view: dict[str, LeaderPosition] = {}
        self.max_age_s = 7200.0

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
        if not self.follows(msg.seq):
            return
        if msg.position is None:
            self._view.pop(msg.person_id, None)
        else:
            self._view[msg.person_id] = msg.position
        self._tell()

    def _tell(self) -> None:
        self._tell_each(list(self._view.values()), self.max_age_s)
