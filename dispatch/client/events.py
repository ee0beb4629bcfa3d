"""The event workflow's facade: act on an event, its timeline, and the client's view of
the open events (kept by the connection from snapshots and published changes), and a
reporter's full number (`reveal`: allowed roles only, audited; events arrive masked)."""

from __future__ import annotations

from functools import partial

from dispatch.client.calls import Caller
from dispatch.domain.model import Action, AuditEntry, Colour, Event, is_open
from dispatch.events.messages import (
    ActReply,
    ActRequest,
    RevealField,
    RevealReply,
    RevealRequest,
    TimelineReply,
    TimelineRequest,
)


class EventsFacade:
    def __init__(self, caller: Caller) -> None:
        self._caller = caller
        self._view: dict[str, Event] = {}
        self._colours: dict[str, Colour] = {}

    def view(self) -> dict[str, Event]:
        """The open events as the client knows them (snapshot + changes)."""
        return dict(self._view)

    def colours(self) -> dict[str, Colour]:
        return dict(self._colours)

    def ids(self) -> list[str]:
        return list(self._view)

    def apply(self, event: Event, colour: Colour) -> None:
        """An event's new state: kept while open, dropped once closed."""
        if is_open(event.state):
            self._view[event.id] = event
            self._colours[event.id] = colour
        else:
            self.drop(event.id)

    def drop(self, event_id: str) -> None:
        self._view.pop(event_id, None)
        self._colours.pop(event_id, None)

    async def act(
        self,
        event_id: str,
        action: Action,
        *,
        note: str = "",
        assignee: str | None = None,
        extension_days: int = 0,
    ) -> Event:
        request = partial(
            ActRequest,
            event_id=event_id,
            action=action,
            note=note,
            assignee=assignee,
            extension_days=extension_days,
        )
        return (await self._caller.call(ActReply, request)).event

    async def timeline(self, event_id: str) -> list[AuditEntry]:
        rep = await self._caller.call(TimelineReply, partial(TimelineRequest, event_id=event_id))
        return rep.entries

    async def reveal(self, event_id: str, field: RevealField, reason: str) -> str:
        """The reporter's whole phone or ID number; `HubError` FORBIDDEN for a role that
        may not see it. The hub records who asked, when and why."""
        request = partial(RevealRequest, event_id=event_id, field=field, reason=reason)
        return (await self._caller.call(RevealReply, request)).value
