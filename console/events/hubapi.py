"""What the event queue needs from the hub client (docs/CONTRACTS.md "Hub ↔ console").

Structural types of `dispatch.client.connection.HubClient` and its facades, so that the
controller is written against the contract (and unit tests can hand it a fake), plus the
adapters that turn the client's messages into the model's own values.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Protocol

from console.events.model import Change, ConnKind, Session
from dispatch.client.state import ConnectionState, ConnectionStatus
from dispatch.domain.model import Action, AuditEntry, Event
from dispatch.events.messages import EventChanged, RevealField
from dispatch.hub.messages import LoginReply
from dispatch.tasks.core import DispatchTask
from dispatch.tasks.messages import (
    AttachmentInfo,
    DispatchPreviewReply,
    EvidenceKind,
    OfficerTaskAction,
    TasksReply,
)


class EventsLike(Protocol):
    """The events facade of `HubClient` (`dispatch.client.events.EventsFacade`)."""

    async def act(
        self,
        event_id: str,
        action: Action,
        *,
        note: str = "",
        assignee: str | None = None,
        extension_days: int = 0,
    ) -> Event: ...
    async def timeline(self, event_id: str) -> list[AuditEntry]: ...
    async def reveal(self, event_id: str, field: RevealField, reason: str) -> str: ...
    def view(self) -> dict[str, Event]: ...


class HubClientLike(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def login(self, operator: str, password: str) -> LoginReply: ...
    @property
    def events(self) -> EventsLike: ...


class DispatchClientLike(Protocol):
    """The tasks facade of `HubClient` (issue 4, `dispatch.client.tasks.TasksFacade`):
    one-click dispatch, tasks, evidence."""

    async def dispatch_preview(
        self, event_id: str, *, cameras: int = 4
    ) -> DispatchPreviewReply: ...
    async def dispatch_event(
        self,
        event_id: str,
        person_id: str | None = None,
        *,
        note: str = "",
        instruction: str | None = None,
    ) -> DispatchTask: ...
    async def task_act(
        self,
        task_id: str,
        action: OfficerTaskAction,
        *,
        note: str = "",
        person_id: str | None = None,
    ) -> DispatchTask: ...
    async def tasks_detail(self, event_id: str) -> TasksReply: ...
    async def attach_evidence(
        self,
        event_id: str,
        kind: EvidenceKind,
        source: Path,
        sha256: str,
        *,
        size: int,
        task_id: str | None = None,
        note: str = "",
    ) -> AttachmentInfo: ...


# workstation, on_change, on_connection -> a client (constructed on the network thread)
ClientFactory = Callable[
    [str, Callable[[EventChanged], None], Callable[[ConnectionState], None]], HubClientLike
]

_KINDS: dict[ConnectionStatus, ConnKind] = {
    ConnectionStatus.CONNECTING: ConnKind.CONNECTING,
    ConnectionStatus.CONNECTED: ConnKind.CONNECTED,
    ConnectionStatus.LOST: ConnKind.LOST,
    ConnectionStatus.REFUSED: ConnKind.REFUSED,
}


def to_change(msg: EventChanged) -> Change:
    """The client's EventChanged (seq, event, colour, audit rows) as the model's Change."""
    return Change(seq=msg.seq, event=msg.event, colour=msg.colour, audit=tuple(msg.audit))


def to_connection(state: ConnectionState) -> tuple[ConnKind, datetime | None, str]:
    """The client's ConnectionState as the model's (kind, lost at, the hub's store)."""
    return _KINDS[state.status], state.lost_at, state.hub_storage


def to_session(reply: LoginReply, workstation: str) -> Session:
    """The hub's LoginReply as the console's session."""
    return Session(
        operator=reply.operator,
        role=reply.role,
        workstation=reply.workstation or workstation,
        public_url=reply.public_url,
    )
