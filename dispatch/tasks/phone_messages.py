"""The grid leader's phone page wire (`/m/{token}`, see `dispatch.tasks.web`): what
its WebSocket reads and sends, and the task view its JSON API answers with.

In (one discriminated union, read by `dispatch.hub.ws`): `ack` (the push of a task
reached the phone → delivered) and `read` (the task was on screen), each with the
task id; `position` and `position_off` (the person's shared position, with their
consent, and its withdrawal: `dispatch.positions.messages`). Out: `hello` (the person
and their open tasks) once per connection, then a `task` push per change. `TaskView`
is also the body of `GET …/api/tasks` and of the reply to an action.
"""

from __future__ import annotations

from typing import Annotated, Literal, NamedTuple

from pydantic import BaseModel, Field

from dispatch.positions.messages import PositionIn, PositionOff
from dispatch.tasks.core import DispatchTask


class TaskItem(NamedTuple):
    """A push queued for a phone: the task as it now is, and 'still awaiting the
    phone's ack'."""

    task: DispatchTask
    need_ack: bool


class Ack(BaseModel):
    type: Literal["ack"]
    id: str = Field(min_length=1, max_length=64)


class Read(BaseModel):
    type: Literal["read"]
    id: str = Field(min_length=1, max_length=64)


PhoneInMsg = Ack | Read | PositionIn | PositionOff
PhoneIn = Annotated[PhoneInMsg, Field(discriminator="type")]


class EvidenceView(BaseModel):
    """A file of the task's event (not a photo) the phone may open."""

    id: str
    kind: str
    name: str
    sha256: str
    url: str


class TaskView(BaseModel):
    """What the page shows of a task (labels in Chinese, times ISO 8601)."""

    id: str
    event_id: str
    version: int
    state: str
    state_label: str
    priority: str
    priority_label: str
    instruction: str
    note: str
    sent_at: str | None
    accepted_at: str | None
    on_site_at: str | None
    feedback_at: str | None
    return_reason: str
    feedback_text: str
    feedback_photos: list[str]
    closed: bool
    actions: list[str]
    need_ack: bool
    evidence: list[EvidenceView]


class Hello(BaseModel):
    type: Literal["hello"] = "hello"
    person: str
    tasks: list[TaskView]


class TaskPush(BaseModel):
    type: Literal["task"] = "task"
    task: TaskView


class TasksReply(BaseModel):
    """`GET /m/{token}/api/tasks`."""

    tasks: list[TaskView]


class TaskReply(BaseModel):
    """`POST /m/{token}/api/tasks/{id}/{act}`."""

    task: TaskView


class PhotoReply(BaseModel):
    """`POST /m/{token}/api/tasks/{id}/photos` (201)."""

    id: str
    url: str
    sha256: str
