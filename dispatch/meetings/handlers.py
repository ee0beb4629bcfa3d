"""The meetings' zmq request handlers (issue 13): one per request type of
`dispatch.meetings.messages`, each answered by `MeetingsService.handle` with the
caller's session."""

from __future__ import annotations

from dispatch.domain.wire import HandlerRegistrar
from dispatch.events.service import HubService
from dispatch.meetings.messages import REQUEST_TYPES, MeetingsReply, MeetingsRequestBase
from dispatch.meetings.service import MeetingsService


class MeetingsHandlers:
    def __init__(self, service: HubService, meetings: MeetingsService) -> None:
        self._svc = service
        self._meetings = meetings

    def register(self, registry: HandlerRegistrar) -> None:
        for kind in REQUEST_TYPES:
            registry.register(kind, self.meetings)

    async def meetings(self, req: MeetingsRequestBase) -> MeetingsReply:
        return await self._meetings.handle(self._svc.session(req.token), req)
