"""PTZ holds as the console sees them: the list at login (`fetch`), each published
`PtzHoldChanged` (`changed`, on the network thread), and the requests: `hold` before a
command (rights checked and audited by the hub; `HubError` FORBIDDEN or CONFLICT when
refused), `release`, `log`. Listeners get every live hold (camera id → hold) after each
change; a gap in the holds' seq fetches the list again.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from dispatch.client.calls import Caller
from dispatch.client.seqfeed import SeqFeed
from dispatch.domain.wire import OkReply
from dispatch.ptz.core import PtzAction
from dispatch.ptz.messages import (
    PtzHold,
    PtzHoldChanged,
    PtzHoldReply,
    PtzHoldRequest,
    PtzHoldsReply,
    PtzHoldsRequest,
    PtzLogEntry,
    PtzLogReply,
    PtzLogRequest,
    PtzReleaseRequest,
)

Listener = Callable[[dict[str, PtzHold]], None]


class PtzFacade(SeqFeed[Listener]):
    WHAT = "ptz holds"

    def __init__(self, caller: Caller) -> None:
        super().__init__(caller)
        self._view: dict[str, PtzHold] = {}

    def view(self) -> dict[str, PtzHold]:
        return dict(self._view)

    async def fetch(self) -> PtzHoldsReply:
        rep = await self._conn.call(PtzHoldsReply, PtzHoldsRequest)
        self._view = {h.camera_id: h for h in rep.holds}
        self.seq = rep.seq
        self._tell_each(self.view())
        return rep

    def changed(self, msg: PtzHoldChanged) -> None:
        if not self.follows(msg.seq):
            return
        if msg.hold is None:
            self._view.pop(msg.camera_id, None)
        else:
            self._view[msg.camera_id] = msg.hold
        self._tell_each(self.view())

    async def hold(
        self, camera_id: str, action: PtzAction = PtzAction.MOVE, detail: str = ""
    ) -> PtzHold:
        rep = await self._conn.call(
            PtzHoldReply,
            partial(PtzHoldRequest, camera_id=camera_id, action=action, detail=detail),
        )
        return rep.hold

    async def release(self, camera_id: str) -> None:
        await self._conn.call(OkReply, partial(PtzReleaseRequest, camera_id=camera_id))

    async def log(self, camera_id: str | None = None, limit: int = 200) -> list[PtzLogEntry]:
        rep = await self._conn.call(
            PtzLogReply, partial(PtzLogRequest, camera_id=camera_id, limit=limit)
        )
        return rep.entries
