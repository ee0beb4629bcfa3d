"""What the event queue panel needs from outside: the controllers it sends intent to and
the dialogs that ask the officer (replaced in tests)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from PySide6.QtWidgets import QWidget

from console.events.actions import ActionRequest, ActionSpec
from console.events.model import Filters
from console.tasks.dispatch_dialog import DispatchChoice, TaskChoice
from console.tasks.model import DispatchModel
from dispatch.domain.model import Event
from dispatch.tasks.core import DispatchTask, TaskAction
from dispatch.tasks.messages import DispatchPreviewReply, PersonInfo

Ask = Callable[[ActionSpec, Event, QWidget | None], ActionRequest | None]
AskDispatch = Callable[[Event, DispatchPreviewReply, QWidget | None], DispatchChoice | None]
AskTask = Callable[[TaskAction, DispatchTask, list[PersonInfo], QWidget | None], TaskChoice | None]


class PanelController(Protocol):
    def act(self, req: ActionRequest, done: Callable[[bool], None] | None = None) -> None: ...
    def select(self, event_id: str | None) -> None: ...
    def acknowledge(self, event_id: str | None = None) -> list[str]: ...
    def set_filters(self, filters: Filters) -> None: ...
    def set_search(self, text: str) -> None: ...


class DispatchPanelController(Protocol):
    dispatch: DispatchModel

    def dispatch_event(
        self,
        event_id: str,
        person_id: str | None = None,
        *,
        note: str = "",
        instruction: str | None = None,
        done: Callable[[DispatchTask | None], None] | None = None,
    ) -> None: ...
    def preview(
        self, event_id: str, done: Callable[[DispatchPreviewReply | None], None] | None = None
    ) -> None: ...
    def task_act(
        self,
        task_id: str,
        action: TaskAction,
        *,
        note: str = "",
        person_id: str | None = None,
        done: Callable[[DispatchTask | None], None] | None = None,
    ) -> None: ...
    def link_video(self, event_id: str, *, automatic: bool = False) -> None: ...


class QueueHost(Protocol):
    """What the panels beside the queue (reports, camera health) need of the event queue
    (`console.events.wiring.EventQueue`): its model's session, its controller's logged-in
    client, its network thread and its Qt bridge."""

    @property
    def model(self) -> Any: ...
    @property
    def controller(self) -> Any: ...
    @property
    def net(self) -> Any: ...
    @property
    def bridge(self) -> Any: ...
