"""Putting the event queue together: model, controller, network thread and panel.

`EventQueue` is what the main window (or `--demo`) builds: constructing it does no I/O;
`start()` starts the network thread, `stop()` stops the hub client and the thread (both
safe to call twice). `panel()` makes the dock widget; `login_dialog()` the login dialog.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from PySide6.QtWidgets import QWidget

from console.events.controller import EventQueueController
from console.events.hubapi import ClientFactory
from console.events.model import DeadlineFn, EventQueueModel
from console.events.panel import EventQueuePanel
from console.kit.net import NetThread, QtBridge
from dispatch.client.connection import HubClient
from dispatch.client.keys import ConsoleKeys
from dispatch.client.state import ConnectionState
from dispatch.domain.calendar import WorkCalendar
from dispatch.domain.model import Event
from dispatch.domain.rules import deadline
from dispatch.events.core import allowed_actions
from dispatch.events.messages import EventChanged
from dispatch.tasks.messages import TaskChanged


class TaskRelay:
    """Forwards the hub client's TaskChanged to whoever is set later (the controller)."""

    def __init__(self) -> None:
        self.target: Callable[[TaskChanged], None] | None = None

    def __call__(self, msg: TaskChanged) -> None:
        if self.target is not None:
            self.target(msg)


def hub_client_factory(
    req_endpoint: str,
    sub_endpoint: str,
    on_task: Callable[[TaskChanged], None] | None = None,
    *,
    keys: ConsoleKeys | None,
) -> ClientFactory:
    """Makes a real HubClient for the workstation (called on the network thread), with
    the workstation's key file (None: a hub without CURVE, loopback only)."""

    def make(
        workstation: str,
        on_change: Callable[[EventChanged], None],
        on_connection: Callable[[ConnectionState], None],
    ) -> HubClient:
        return HubClient(
            req_endpoint,
            sub_endpoint,
            keys=keys,
            workstation=workstation,
            on_change=on_change,
            on_connection=on_connection,
            on_task=on_task,
        )

    return make


def calendar_deadline(cal: WorkCalendar) -> DeadlineFn:
    """The workflow core's deadline of the current stage, on the given calendar."""

    def fn(event: Event) -> datetime | None:
        return deadline(event, cal)

    return fn


def utc_now() -> datetime:
    return datetime.now(UTC)


class EventQueue:
    def __init__(
        self,
        client_factory: ClientFactory,
        *,
        calendar: WorkCalendar | None = None,
        township_names: Mapping[str, str] | None = None,
        clock: Callable[[], datetime] = utc_now,
        relay: TaskRelay | None = None,
    ) -> None:
        self.model = EventQueueModel(
            clock=clock,
            deadline_fn=calendar_deadline(calendar or WorkCalendar()),
            allowed_fn=allowed_actions,
            township_names=township_names,
        )
        self.net = NetThread()
        self.bridge = QtBridge()
        self.controller = EventQueueController(self.model, self.net, self.bridge, client_factory)
        if relay is not None:
            relay.target = self.controller.on_task_changed

    @classmethod
    def for_hub(
        cls,
        req_endpoint: str,
        sub_endpoint: str,
        *,
        keys: ConsoleKeys | None,
        calendar: WorkCalendar | None = None,
        township_names: Mapping[str, str] | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> EventQueue:
        """An event queue talking to the hub at these zmq endpoints (no I/O yet)."""
        relay = TaskRelay()
        return cls(
            hub_client_factory(req_endpoint, sub_endpoint, relay, keys=keys),
            calendar=calendar,
            township_names=township_names,
            clock=clock,
            relay=relay,
        )

    def panel(self, parent: QWidget | None = None) -> EventQueuePanel:
        return EventQueuePanel(self.model, self.controller, parent=parent)

    def start(self) -> None:
        self.net.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self.controller.shutdown(timeout_s)
        self.net.stop(timeout_s)
