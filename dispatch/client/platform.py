"""A video platform's cameras as the console sees them (docs/platform.md).

`trees()` reads every platform's last known cameras and note; `stream(camera_id)` gives a
tile the camera's URLs, kept until the hub's `expires_in_s` passes and asked again then;
`stream(camera_id, renew=True)` when the tile's stream failed (the hub asks the platform).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial

from dispatch.client.calls import Caller
from dispatch.platform.messages import (
    PlatformStreamReply,
    PlatformStreamRequest,
    PlatformTreeInfo,
    PlatformTreesReply,
    PlatformTreesRequest,
)


class PlatformFacade:
    def __init__(self, caller: Caller, clock: Callable[[], float] = time.monotonic) -> None:
        self._conn = caller
        self._clock = clock
        self._urls: dict[str, tuple[PlatformStreamReply, float]] = {}  # reply, valid until

    async def trees(self) -> list[PlatformTreeInfo]:
        return (await self._conn.call(PlatformTreesReply, PlatformTreesRequest)).trees

    async def stream(self, camera_id: str, *, renew: bool = False) -> PlatformStreamReply:
        kept = self._urls.get(camera_id)
        if kept is not None and not renew and self._clock() < kept[1]:
            return kept[0]
        req = partial(PlatformStreamRequest, camera_id=camera_id, renew=renew)
        rep = await self._conn.call(PlatformStreamReply, req)
        self._urls[camera_id] = (rep, self._clock() + rep.expires_in_s)
        return rep
