"""The consoles' platform requests: the camera trees and a camera's stream URLs."""

from __future__ import annotations

from dispatch.domain.wire import ErrorCode, HandlerRegistrar, HubError
from dispatch.events.service import HubService
from dispatch.platform.messages import (
    PlatformStreamReply,
    PlatformStreamRequest,
    PlatformTreesReply,
    PlatformTreesRequest,
)
from dispatch.platform.service import PlatformsService
from streams.platform import PlatformError


class PlatformHandlers:
    def __init__(self, service: HubService, platforms: PlatformsService) -> None:
        self._svc = service
        self._platforms = platforms

    def register(self, registry: HandlerRegistrar) -> None:
        registry.register(PlatformTreesRequest, self.trees)
        registry.register(PlatformStreamRequest, self.stream)

    async def trees(self, req: PlatformTreesRequest) -> PlatformTreesReply:
        self._svc.session(req.token)
        return PlatformTreesReply(
            rid=req.rid, trees=self._platforms.trees(), seq=self._platforms.seq
        )

    async def stream(self, req: PlatformStreamRequest) -> PlatformStreamReply:
        self._svc.session(req.token)
        try:
            urls, expires_in = await self._platforms.stream(
                req.camera_id, renew=req.renew, min_life_s=req.min_life_s
            )
        except KeyError:
            raise HubError(
                ErrorCode.NOT_FOUND, f"unknown platform camera {req.camera_id!r}"
            ) from None
        except PlatformError as exc:
            raise HubError(ErrorCode.BUSY, f"视频平台不可用：{exc}") from None
        return PlatformStreamReply(
            rid=req.rid,
            camera_id=req.camera_id,
            rtsp=urls.rtsp,
            flv=urls.flv,
            expires_in_s=expires_in,
        )
