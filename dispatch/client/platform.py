"""A video platform's cameras as the console sees them (docs/platform.md).

The trees: every platform's last known cameras and note, read at login and after a gap
(`fetch`), then followed by the hub's published `PlatformTreeChanged` (`changed`, on the
network thread); listeners get the whole view (platform id → tree) after each change.

`stream(camera_id)` gives a tile the camera's URLs, kept until the hub's `expires_in_s`
passes and asked again then (or earlier, `min_life_s`: a tile asking ahead of expiry);
`stream(camera_id, renew=True)` when the tile's stream failed (the hub asks the platform).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial

from dispatch.client.calls import Caller
from dispatch.client.seqfeed import SeqFeed
from dispatch.platform.messages import (
    PlatformStreamReply,
    PlatformStreamRequest,
    PlatformTreeChanged,
    PlatformTreeInfo,
    PlatformTreesReply,
    PlatformTreesRequest,
)

Listener = Callable[[dict[str, PlatformTreeInfo]], None]
"""Called with every platform's tree after each change."""


class PlatformFacade(SeqFeed[Listener]):
    WHAT = "platform trees"

    def __init__(self, caller: Caller, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(caller)
        self._clock = clock
        self._view: dict[str, PlatformTreeInfo] = {}
        self._urls: dict[str, tuple[PlatformStreamReply, float]] = {}  # reply, valid until

    def view(self) -> dict[str, PlatformTreeInfo]:
        return dict(self._view)

    async def trees(self) -> list[PlatformTreeInfo]:
        """Read every platform's tree now (the view and its seq follow)."""
        return (await self.fetch()).trees

    async def fetch(self) -> PlatformTreesReply:
        rep = await self._conn.call(PlatformTreesReply, PlatformTreesRequest)
        self._view = {t.platform: t for t in rep.trees}
        self.seq = rep.seq
        self._tell_each(self.view())
        return rep

    def changed(self, msg: PlatformTreeChanged) -> None:
        if not self.follows(msg.seq):
            return
        self._view[msg.tree.platform] = msg.tree
        self._tell_each(self.view())

    async def stream(
        self, camera_id: str, *, renew: bool = False, min_life_s: float = 0.0
    ) -> PlatformStreamReply:
        """The camera's URLs living at least `min_life_s` more (a tile asking for the next
        URL before its own expires), from the last answer while it does, else the hub's."""
        kept = self._urls.get(camera_id)
        if kept is not None and not renew and self._clock() + min_life_s < kept[1]:
            return kept[0]
        req = partial(
            PlatformStreamRequest, camera_id=camera_id, renew=renew, min_life_s=min_life_s
        )
        rep = await self._conn.call(PlatformStreamReply, req)
        self._urls[camera_id] = (rep, self._clock() + rep.expires_in_s)
        return rep
