"""Remote video mediation's facade (issue 5): open a session with join links, close it."""

from __future__ import annotations

from functools import partial
from typing import Literal

from dispatch.client.calls import Caller
from dispatch.mediation.messages import (
    MediationCloseRequest,
    MediationInvite,
    MediationOpenRequest,
    MediationReply,
)


class MediationFacade:
    def __init__(self, caller: Caller) -> None:
        self._caller = caller

    async def open_mediation(
        self, event_id: str, invites: list[MediationInvite], *, ttl_hours: float = 24
    ) -> MediationReply:
        """Open a session on an event: a join link + PIN per invite, and the console's own
        `host_path`/`host_session` for its aiortc peer (`streams.webrtc.client`)."""
        request = partial(
            MediationOpenRequest, event_id=event_id, invites=invites, ttl_hours=ttl_hours
        )
        return await self._caller.call(MediationReply, request)

    async def close_mediation(
        self,
        session_id: str,
        outcome: Literal["agreement", "no_agreement", "referred"],
        *,
        notes: str = "",
    ) -> MediationReply:
        """End the session and file it on the event (timeline row, store record)."""
        request = partial(
            MediationCloseRequest, session_id=session_id, outcome=outcome, notes=notes
        )
        return await self._caller.call(MediationReply, request)
