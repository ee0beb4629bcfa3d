"""A dispatch task (派单) to one person, its states, actions and actors: the vocabulary.

One task is one instruction to one person. Moving the work to someone else closes the
task as `reassigned` and opens a new one for the new person (`reassign` by an officer,
`escalate` by the hub's timer), linked both ways (`replaced_by`, `previous_task`).
Every change returns an `Outcome`: the new `DispatchTask` and one `TaskTransition` (the
audit-like row for the timeline), or the unchanged task and no row for a repeat.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, Field, StringConstraints

from dispatch.domain.model import Actor, Priority, Role
from dispatch.domain.site import Person
from dispatch.domain.strict import FROZEN

MAX_NOTE_LENGTH = 2000
MAX_INSTRUCTION_LENGTH = 2000
MAX_FEEDBACK_LENGTH = 2000
MAX_FEEDBACK_PHOTOS = 9
PHOTO_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"

TaskId = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")
]
PhotoId = Annotated[str, StringConstraints(pattern=PHOTO_ID_PATTERN)]


class _Frozen(BaseModel):
    model_config = FROZEN


class TaskState(StrEnum):
    SENT = "sent"  # 已派发
    DELIVERED = "delivered"  # 已送达
    READ = "read"  # 已读
    ACCEPTED = "accepted"  # 已接单
    RETURNED = "returned"  # 已退回
    ON_SITE = "on_site"  # 已到场
    FEEDBACK = "feedback"  # 已反馈
    DONE = "done"  # 已办结
    CANCELLED = "cancelled"  # 已撤销
    REASSIGNED = "reassigned"  # 已转派


class TaskAction(StrEnum):
    DISPATCH = "dispatch"  # 派单 (creates a task)
    DELIVER = "deliver"  # 送达
    READ = "read"  # 阅读
    ACCEPT = "accept"  # 接单
    RETURN = "return"  # 退回, reason required
    ARRIVE = "arrive"  # 到场
    FEEDBACK = "feedback"  # 反馈, text required, photos optional
    CONFIRM = "confirm"  # 确认办结
    REWORK = "rework"  # 退回重办, reason required
    CANCEL = "cancel"  # 撤销, reason required
    REASSIGN = "reassign"  # 改派
    ESCALATE = "escalate"  # 超时升级


class ActorKind(StrEnum):
    OFFICER = "officer"  # a console operator (duty officer, supervisor, admin)
    FIELD = "field"  # a person of the site (grid leader ...), on the phone page
    SYSTEM = "system"  # the hub itself (delivery acknowledgements, escalation timer)


class EscalationLevel(IntEnum):
    ASSIGNEE = 0  # the person dispatched to (normally the grid leader)
    DEPUTY = 1  # 副网格长 (a village supervisor counts at this level too)
    TOWNSHIP = 2  # 乡镇（街道）综治中心
    COUNTY = 3  # 县级


TERMINAL: frozenset[TaskState] = frozenset(
    {TaskState.DONE, TaskState.CANCELLED, TaskState.REASSIGNED}
)
AWAITING_ACK: frozenset[TaskState] = frozenset(
    {TaskState.SENT, TaskState.DELIVERED, TaskState.READ}
)

_ROLE_LEVEL: dict[str, EscalationLevel] = {
    "deputy": EscalationLevel.DEPUTY,
    "village_supervisor": EscalationLevel.DEPUTY,
    "township_supervisor": EscalationLevel.TOWNSHIP,
    "county": EscalationLevel.COUNTY,
}


def level_of(person: Person) -> EscalationLevel:
    """The ladder level a person stands on by role (grid leaders and others: ASSIGNEE)."""
    return _ROLE_LEVEL.get(person.role, EscalationLevel.ASSIGNEE)


# -- models ---------------------------------------------------------------------------------


class TaskActor(_Frozen):
    """Who did something to a task: an officer at a workstation, a field person, the hub."""

    kind: ActorKind
    id: str = Field(min_length=1, max_length=64, description="operator or person id")
    name: str = Field(default="", max_length=100)
    via: str = Field(default="", max_length=64, description="workstation, 'phone' or 'hub'")

    @classmethod
    def officer(cls, actor: Actor) -> TaskActor:
        """A console operator; an `Actor` with the system role becomes the system."""
        if actor.role is Role.SYSTEM:
            return cls(kind=ActorKind.SYSTEM, id=actor.operator, via=actor.workstation)
        return cls(kind=ActorKind.OFFICER, id=actor.operator, via=actor.workstation)

    @classmethod
    def field(cls, person: Person, via: str = "phone") -> TaskActor:
        return cls(kind=ActorKind.FIELD, id=person.id, name=person.name, via=via)


SYSTEM = TaskActor(kind=ActorKind.SYSTEM, id="system", name="系统", via="hub")


class DispatchTask(_Frozen):
    """One instruction (派单) about one event to one person, and how far it has got."""

    id: TaskId
    event_id: str = Field(min_length=1, max_length=64)
    category: str
    priority: Priority
    grid_id: str | None = None
    assignee: str = Field(min_length=1, max_length=64, description="person id")
    assignee_name: str = Field(default="", max_length=100)
    assignee_role: str = Field(default="", max_length=32)
    level: EscalationLevel = EscalationLevel.ASSIGNEE
    escalation_step: int = Field(default=0, ge=0, description="ladder steps taken so far")
    instruction: str = Field(min_length=1, max_length=MAX_INSTRUCTION_LENGTH)
    note: str = Field(default="", max_length=MAX_NOTE_LENGTH, description="officer's addition")
    state: TaskState = TaskState.SENT
    dispatched_by: str = Field(min_length=1, max_length=64)
    ladder_since: AwareDatetime = Field(description="when the escalation ladder started")
    previous_task: str | None = Field(default=None, description="the task this one replaces")
    replaced_by: str | None = Field(default=None, description="the task that replaced this one")
    sent_at: AwareDatetime
    delivered_at: AwareDatetime | None = None
    read_at: AwareDatetime | None = None
    accepted_at: AwareDatetime | None = None
    returned_at: AwareDatetime | None = None
    return_reason: str = ""
    on_site_at: AwareDatetime | None = None
    feedback_at: AwareDatetime | None = None
    feedback_text: str = ""
    feedback_photos: tuple[PhotoId, ...] = ()
    reworks: int = Field(default=0, ge=0)
    done_at: AwareDatetime | None = None
    closed_at: AwareDatetime | None = Field(default=None, description="done, cancelled or moved")
    cancel_reason: str = ""
    updated_at: AwareDatetime
    version: int = Field(default=1, ge=1)


class TaskTransition(_Frozen):
    """One append-only row of a task's history (and of its event's timeline)."""

    task_id: str
    event_id: str
    at: AwareDatetime
    action: TaskAction
    from_state: TaskState | None = Field(description="None when the row creates the task")
    to_state: TaskState
    by: TaskActor
    assignee: str = Field(description="the person the task is for")
    target: str | None = Field(default=None, description="new person (dispatch/reassign/escalate)")
    step: int = Field(default=0, ge=0, description="escalation step after the row")
    note: str = ""
    photos: tuple[PhotoId, ...] = ()


@dataclass(frozen=True)
class Outcome:
    """The task after a change and its transition row; `transition` is None for a no-op."""

    task: DispatchTask
    transition: TaskTransition | None

    @property
    def changed(self) -> bool:
        return self.transition is not None


class EscalationTarget(_Frozen):
    """Who should have a task now."""

    step: int = Field(ge=0)
    level: EscalationLevel
    person_id: str
    person_name: str = ""
    person_role: str = ""


class TaskTransitionError(Exception):
    """A change that is not allowed, or one with bad arguments.

    `code` is stable for programs ("state", "closed", "role", "not_assignee",
    "reason_required", "feedback_required", "bad_note", "bad_photos", "too_many_photos",
    "unexpected_argument", "same_person"); `message_zh` and `message_en` name the state and
    the action for people; `str(error)` gives both, Chinese first.
    """

    def __init__(
        self,
        code: str,
        *,
        state: TaskState | None,
        action: TaskAction,
        message_zh: str,
        message_en: str,
    ) -> None:
        super().__init__(f"{message_zh} / {message_en}")
        self.code = code
        self.state = state
        self.action = action
        self.message_zh = message_zh
        self.message_en = message_en

    def message(self, lang: str = "zh_CN") -> str:
        return self.message_en if lang.lower().startswith("en") else self.message_zh


def is_open(task: DispatchTask) -> bool:
    return task.state not in TERMINAL


def awaiting_ack(task: DispatchTask) -> bool:
    """Whether the task still waits for its assignee to accept (or return) it."""
    return task.state in AWAITING_ACK
