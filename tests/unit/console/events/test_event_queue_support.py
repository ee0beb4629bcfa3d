"""Builders and a fake hub client for the event queue's unit tests.

(No tests here; the name only keeps the file inside the event queue's test files.)
The fake client implements the HubClient contract with the real workflow core
(`dispatch.events.core.apply`), so what it refuses is what the hub would refuse.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dispatch.client.state import ConnectionState, ConnectionStatus
from dispatch.domain.model import (
    Action,
    Actor,
    AuditEntry,
    Colour,
    Event,
    EventSource,
    EventState,
    Place,
    Priority,
    Reporter,
    Role,
)
from dispatch.domain.wire import AuthError, ErrorCode, HubError
from dispatch.events.core import TransitionError, apply
from dispatch.events.messages import EventChanged
from dispatch.hub.messages import LoginReply
from tests.kit.clock import T0


def make_event(
    event_id: str,
    *,
    title: str = "邻里噪音纠纷",
    state: EventState = EventState.ACCEPTED,
    source: EventSource = EventSource.GRID_REPORT,
    category: str = "neighbours",
    township: str | None = "t01",
    priority: Priority = Priority.ROUTINE,
    accepted_at: datetime = T0,
    version: int = 1,
    description: str = "",
    address: str = "",
    phone: str = "",
    id_number: str = "",
    reporter: str = "",
    verified: bool = False,
    called_back: bool = False,
    extension_requested: bool = False,
) -> Event:
    return Event(
        id=event_id,
        source=source,
        category=category,
        priority=priority,
        title=title,
        description=description,
        place=Place(township=township, address=address),
        reporter=Reporter(name=reporter, phone=phone, id_number=id_number),
        state=state,
        verified=verified,
        called_back=called_back,
        extension_requested=extension_requested,
        extension_requested_days=2 if extension_requested else 0,
        reported_at=accepted_at,
        accepted_at=accepted_at,
        updated_at=accepted_at,
        version=version,
    )


def deadline_in(hours: dict[str, float], base: datetime = T0) -> Callable[[Event], datetime | None]:
    """A deadline function for tests: event id -> hours after `base` (absent: None)."""

    def fn(event: Event) -> datetime | None:
        h = hours.get(event.id)
        return None if h is None else base + timedelta(hours=h)

    return fn


def audit(event_id: str, action: str, at: datetime, note: str = "") -> AuditEntry:
    return AuditEntry(
        event_id=event_id,
        at=at,
        operator="zhang",
        role=Role.DUTY_OFFICER,
        workstation="ws1",
        action=action,
        from_state=None,
        to_state=None,
        note=note,
    )


@dataclass
class FakeHub:
    """The state a FakeHubClient talks to (shared by several fake clients)."""

    events: dict[str, Event] = field(default_factory=dict)
    colours: dict[str, Colour] = field(default_factory=dict)
    timelines: dict[str, list[AuditEntry]] = field(default_factory=dict)
    users: dict[str, tuple[str, Role]] = field(
        default_factory=lambda: {
            "zhang": ("pw-zhang", Role.DUTY_OFFICER),
            "li": ("pw-li", Role.SUPERVISOR),
        }
    )
    seq: int = 0
    clients: list[FakeHubClient] = field(default_factory=list)
    now: datetime = T0

    def publish(self, event: Event, colour: Colour, rows: list[AuditEntry]) -> None:
        self.seq += 1
        self.events[event.id] = event
        self.colours[event.id] = colour
        self.timelines.setdefault(event.id, []).extend(rows)
        msg = EventChanged(seq=self.seq, event=event, colour=colour, audit=rows)
        for c in self.clients:
            c.deliver(msg)


class FakeHubClient:
    """Implements the HubClient contract against a FakeHub (unit tests only)."""

    def __init__(
        self,
        hub: FakeHub,
        *,
        workstation: str,
        on_change: Callable[[EventChanged], None],
        on_connection: Callable[[ConnectionState], None],
        login_delay_s: float = 0.0,
    ) -> None:
        self.hub = hub
        self.workstation = workstation
        self.on_change = on_change
        self.on_connection = on_connection
        self.login_delay_s = login_delay_s
        self.actor: Actor | None = None
        self.started = False
        self.stopped = False
        self.calls: list[tuple[str, object]] = []
        self.timeline_failures = 0  # the next so many timeline requests time out
        self.loop: asyncio.AbstractEventLoop | None = None

    def deliver(self, msg: EventChanged) -> None:
        """Called by FakeHub from any thread: hand the change over on the client's loop."""
        if self.loop is not None and self.started and not self.stopped:
            self.loop.call_soon_threadsafe(self.on_change, msg)

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.on_connection(ConnectionState(ConnectionStatus.CONNECTING))
        self.started = True
        self.hub.clients.append(self)
        self.on_connection(ConnectionState(ConnectionStatus.CONNECTED))
        for e in self.hub.events.values():  # the snapshot on connect
            self.on_change(
                EventChanged(seq=self.hub.seq, event=e, colour=self.hub.colours[e.id], audit=[])
            )

    async def stop(self) -> None:
        self.stopped = True
        if self in self.hub.clients:
            self.hub.clients.remove(self)

    async def login(self, operator: str, password: str) -> LoginReply:
        self.calls.append(("login", operator))
        if self.login_delay_s:
            await asyncio.sleep(self.login_delay_s)
        user = self.hub.users.get(operator)
        if user is None or user[0] != password:
            raise AuthError("wrong operator or password")
        self.actor = Actor(operator=operator, role=user[1], workstation=self.workstation)
        return LoginReply(
            rid="1",
            token="tok",
            operator=operator,
            role=user[1],
            workstation=self.workstation,
            hub_instance="fake",
        )

    async def act(
        self,
        event_id: str,
        action: Action,
        *,
        note: str = "",
        assignee: str | None = None,
        extension_days: int = 0,
    ) -> Event:
        self.calls.append(("act", (event_id, action, note, assignee, extension_days)))
        if self.actor is None:
            raise AuthError("not logged in")
        event = self.hub.events.get(event_id)
        if event is None:
            raise HubError(ErrorCode.NOT_FOUND, f"no event {event_id}")
        try:
            t = apply(
                event,
                action,
                self.actor,
                self.hub.now,
                note=note,
                assignee=assignee,
                extension_days=extension_days,
            )
        except TransitionError as exc:
            raise HubError(ErrorCode.TRANSITION, exc.message_zh) from None
        self.hub.publish(t.event, self.hub.colours[event_id], [t.audit])
        return t.event

    async def timeline(self, event_id: str) -> list[AuditEntry]:
        self.calls.append(("timeline", event_id))
        if self.timeline_failures > 0:
            self.timeline_failures -= 1
            raise HubError(ErrorCode.TIMEOUT, "the hub did not answer")
        return list(self.hub.timelines.get(event_id, []))

    @property
    def events(self) -> FakeHubClient:
        """The events facade (`act`, `timeline`, `view`): this fake plays both parts."""
        return self

    def view(self) -> dict[str, Event]:
        return dict(self.hub.events)
