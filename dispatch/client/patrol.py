"""The camera patrol's facade: the health panel's reads (newest sample of every camera,
one camera's history)."""

from __future__ import annotations

from functools import partial

from dispatch.client.calls import Caller
from dispatch.patrol.messages import (
    CameraHealthReply,
    CameraHealthRequest,
    CameraHistoryReply,
    CameraHistoryRequest,
)


class PatrolFacade:
    def __init__(self, caller: Caller) -> None:
        self._caller = caller

    async def camera_health(self) -> CameraHealthReply:
        """The newest patrol sample of every camera (the health panel)."""
        return await self._caller.call(CameraHealthReply, CameraHealthRequest)

    async def camera_history(self, camera: str, limit: int = 200) -> CameraHistoryReply:
        """A camera's patrol samples, newest first."""
        request = partial(CameraHistoryRequest, camera=camera, limit=limit)
        return await self._caller.call(CameraHistoryReply, request)
