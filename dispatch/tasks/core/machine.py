"""The dispatch task (派单) to a grid leader and its delivery state machine, escalation and
instruction templates.

Pure: no I/O except `load_templates`, no clock reads; `now` is passed in. Every change
returns an `Outcome`: the new `DispatchTask` and one `TaskTransition` (the audit-like row
for the timeline), or the unchanged task and no row when the change was already made
(a repeated acknowledgement: delivery is at least once, handled once).

One task is one instruction to one person. Moving the work to someone else closes the
task as `reassigned` and opens a new one for the new person (`reassign` by an officer,
`escalate` by the hub's timer), linked both ways (`replaced_by`, `previous_task`).

    sent ─deliver→ delivered ─read→ read ─accept→ accepted ─arrive→ on_site
    sent | delivered | read ─return (reason)→ returned
    on_site ─feedback→ feedback ─confirm→ done;  feedback ─rework (reason)→ on_site
    any open state ─cancel (reason)→ cancelled;  any open state ─reassign→ reassigned
    sent | delivered | read ─escalate (no acknowledgement in time)→ reassigned

Who: the task's assignee (a field person, from the phone page) delivers, reads, accepts,
returns, arrives and feeds back; the hub (system) may also acknowledge delivery and
escalates; an officer (the console) confirms, asks for rework, cancels and reassigns.

At least once, handled once: `deliver` after the task was delivered (in any later state,
closed ones too) and `read` after it was read are no-ops; so are `accept` and `arrive`
once reached or passed, `confirm` once done, `cancel` once cancelled, and a `feedback`
identical to the one already given. A later step implies the earlier ones: `read` and
`accept` straight from `sent` fill in the missing delivery/read times.

Escalation: while a task waits for its acknowledgement (sent, delivered, read) the ladder
of `dispatch.domain.rules` (per priority, counted from `ladder_since`, the first dispatch of
this line of tasks) says how many steps are due; step 1 goes to the grid's deputy, 2 to
the township centre, 3 to the county (`EscalationLevel`). A missing person is skipped
upwards (to the next level present, else the highest present level below); a task never
escalates down nor to the person who already has it.
"""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from dispatch.domain.geo import ResponsibleChain
from dispatch.domain.model import DEFAULT_CATEGORIES, Actor, Event, Priority, Role
from dispatch.domain.rules import DEFAULT_LADDER, EscalationLadder
from dispatch.domain.rules import escalation_step as ladder_step
from dispatch.domain.rules import next_escalation_at as ladder_next
from dispatch.domain.site import Person

MAX_NOTE_LENGTH = 2000
MAX_INSTRUCTION_LENGTH = 2000
MAX_FEEDBACK_LENGTH = 2000
MAX_FEEDBACK_PHOTOS = 9
PHOTO_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"

_BAD_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PHOTO_ID = re.compile(PHOTO_ID_PATTERN)

TaskId = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")
]
PhotoId = Annotated[str, StringConstraints(pattern=PHOTO_ID_PATTERN)]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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

STATE_LABELS_ZH: dict[TaskState, str] = {
    TaskState.SENT: "已派发",
    TaskState.DELIVERED: "已送达",
    TaskState.READ: "已读",
    TaskState.ACCEPTED: "已接单",
    TaskState.RETURNED: "已退回",
    TaskState.ON_SITE: "已到场",
    TaskState.FEEDBACK: "已反馈",
    TaskState.DONE: "已办结",
    TaskState.CANCELLED: "已撤销",
    TaskState.REASSIGNED: "已转派",
}
ACTION_LABELS_ZH: dict[TaskAction, str] = {
    TaskAction.DISPATCH: "派单",
    TaskAction.DELIVER: "送达",
    TaskAction.READ: "阅读",
    TaskAction.ACCEPT: "接单",
    TaskAction.RETURN: "退回",
    TaskAction.ARRIVE: "到场",
    TaskAction.FEEDBACK: "反馈",
    TaskAction.CONFIRM: "确认办结",
    TaskAction.REWORK: "退回重办",
    TaskAction.CANCEL: "撤销",
    TaskAction.REASSIGN: "改派",
    TaskAction.ESCALATE: "超时升级",
}
LEVEL_LABELS_ZH: dict[EscalationLevel, str] = {
    EscalationLevel.ASSIGNEE: "承办人",
    EscalationLevel.DEPUTY: "副网格长",
    EscalationLevel.TOWNSHIP: "乡镇综治中心",
    EscalationLevel.COUNTY: "县综治中心",
}
PRIORITY_LABELS_ZH: dict[Priority, str] = {
    Priority.ROUTINE: "一般",
    Priority.URGENT: "紧急",
    Priority.EMERGENCY: "特急",
}

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


# -- the rules in one place -----------------------------------------------------------------

_MOVES: dict[tuple[TaskState, TaskAction], TaskState] = {
    (TaskState.SENT, TaskAction.DELIVER): TaskState.DELIVERED,
    (TaskState.SENT, TaskAction.READ): TaskState.READ,
    (TaskState.DELIVERED, TaskAction.READ): TaskState.READ,
    **{(s, TaskAction.ACCEPT): TaskState.ACCEPTED for s in AWAITING_ACK},
    **{(s, TaskAction.RETURN): TaskState.RETURNED for s in AWAITING_ACK},
    (TaskState.ACCEPTED, TaskAction.ARRIVE): TaskState.ON_SITE,
    (TaskState.ON_SITE, TaskAction.FEEDBACK): TaskState.FEEDBACK,
    (TaskState.FEEDBACK, TaskAction.CONFIRM): TaskState.DONE,
    (TaskState.FEEDBACK, TaskAction.REWORK): TaskState.ON_SITE,
    **{(s, TaskAction.CANCEL): TaskState.CANCELLED for s in TaskState if s not in TERMINAL},
    **{(s, TaskAction.REASSIGN): TaskState.REASSIGNED for s in TaskState if s not in TERMINAL},
    **{(s, TaskAction.ESCALATE): TaskState.REASSIGNED for s in AWAITING_ACK},
}

_DONE_OR_PAST: dict[TaskAction, frozenset[TaskState]] = {
    # states in which the action has already been done: repeating it is a no-op
    TaskAction.DELIVER: frozenset(s for s in TaskState if s is not TaskState.SENT),
    TaskAction.READ: frozenset(
        s for s in TaskState if s not in (TaskState.SENT, TaskState.DELIVERED)
    ),
    TaskAction.ACCEPT: frozenset(
        {TaskState.ACCEPTED, TaskState.ON_SITE, TaskState.FEEDBACK, TaskState.DONE}
    ),
    TaskAction.ARRIVE: frozenset({TaskState.ON_SITE, TaskState.FEEDBACK, TaskState.DONE}),
    TaskAction.CONFIRM: frozenset({TaskState.DONE}),
    TaskAction.CANCEL: frozenset({TaskState.CANCELLED}),
}

_FIELD = frozenset({ActorKind.FIELD})
_OFFICER = frozenset({ActorKind.OFFICER})
_WHO: dict[TaskAction, frozenset[ActorKind]] = {
    TaskAction.DISPATCH: _OFFICER,
    TaskAction.DELIVER: _FIELD | {ActorKind.SYSTEM},
    TaskAction.READ: _FIELD,
    TaskAction.ACCEPT: _FIELD,
    TaskAction.RETURN: _FIELD,
    TaskAction.ARRIVE: _FIELD,
    TaskAction.FEEDBACK: _FIELD,
    TaskAction.CONFIRM: _OFFICER,
    TaskAction.REWORK: _OFFICER,
    TaskAction.CANCEL: _OFFICER,
    TaskAction.REASSIGN: _OFFICER,
    TaskAction.ESCALATE: frozenset({ActorKind.SYSTEM}),
}
_WHO_ZH = {ActorKind.OFFICER: "值班人员", ActorKind.FIELD: "网格员", ActorKind.SYSTEM: "系统"}
_REASON_REQUIRED: dict[TaskAction, str] = {
    TaskAction.RETURN: "退回原因",
    TaskAction.REWORK: "重办要求",
    TaskAction.CANCEL: "撤销原因",
}
_SIMPLE = frozenset(
    {
        TaskAction.DELIVER,
        TaskAction.READ,
        TaskAction.ACCEPT,
        TaskAction.RETURN,
        TaskAction.ARRIVE,
        TaskAction.FEEDBACK,
        TaskAction.CONFIRM,
        TaskAction.REWORK,
        TaskAction.CANCEL,
    }
)


def is_open(task: DispatchTask) -> bool:
    return task.state not in TERMINAL


def awaiting_ack(task: DispatchTask) -> bool:
    """Whether the task still waits for its assignee to accept (or return) it."""
    return task.state in AWAITING_ACK


def _check_now(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware, got {now!r}")


def _error(
    code: str, state: TaskState | None, action: TaskAction, zh: str, en: str
) -> TaskTransitionError:
    if state is None:
        head_zh, head_en = f"不能“{ACTION_LABELS_ZH[action]}”", f"cannot {action}"
    else:
        head_zh = f"任务处于“{STATE_LABELS_ZH[state]}”状态时不能“{ACTION_LABELS_ZH[action]}”"
        head_en = f"cannot {action} a task in state {state}"
    return TaskTransitionError(
        code,
        state=state,
        action=action,
        message_zh=f"{head_zh}：{zh}" if zh else head_zh,
        message_en=f"{head_en}: {en}" if en else head_en,
    )


def _check_who(task: DispatchTask | None, action: TaskAction, by: TaskActor) -> None:
    state = task.state if task is not None else None
    if by.kind not in _WHO[action]:
        raise _error("role", state, action, f"{_WHO_ZH[by.kind]}无此权限", f"a {by.kind} may not")
    if task is not None and by.kind is ActorKind.FIELD and by.id != task.assignee:
        raise _error(
            "not_assignee",
            state,
            action,
            f"此任务派给{task.assignee_name or task.assignee}，不是你",
            f"the task is assigned to {task.assignee}, not to {by.id}",
        )


def _check_text(
    action: TaskAction, state: TaskState | None, text: str, limit: int, what_zh: str
) -> None:
    if len(text) > limit:
        raise _error(
            "bad_note",
            state,
            action,
            f"{what_zh}过长（最多 {limit} 字）",
            f"the text is too long (at most {limit} characters)",
        )
    if _BAD_TEXT.search(text):
        raise _error("bad_note", state, action, f"{what_zh}含有控制字符", "control characters")


def _check_photos(action: TaskAction, state: TaskState, photos: Sequence[str]) -> None:
    if photos and action is not TaskAction.FEEDBACK:
        raise _error("unexpected_argument", state, action, "只有反馈可以附照片", "takes no photos")
    if len(photos) > MAX_FEEDBACK_PHOTOS:
        raise _error(
            "too_many_photos",
            state,
            action,
            f"照片最多 {MAX_FEEDBACK_PHOTOS} 张，收到 {len(photos)} 张",
            f"at most {MAX_FEEDBACK_PHOTOS} photos, got {len(photos)}",
        )
    bad = [p for p in photos if not _PHOTO_ID.match(p)]
    if bad:
        raise _error(
            "bad_photos", state, action, f"照片编号无效：{bad[0]!r}", f"bad photo id {bad[0]!r}"
        )
    if len(set(photos)) != len(photos):
        raise _error("bad_photos", state, action, "照片重复", "the same photo twice")


def _is_noop(task: DispatchTask, action: TaskAction, note: str, photos: Sequence[str]) -> bool:
    if task.state in _DONE_OR_PAST.get(action, frozenset()):
        return True
    return (
        action is TaskAction.FEEDBACK
        and task.state is TaskState.FEEDBACK
        and note.strip() == task.feedback_text
        and tuple(photos) == task.feedback_photos
    )


def _refuse_state(task: DispatchTask, action: TaskAction) -> None:
    if (task.state, action) in _MOVES:
        return
    if task.state in TERMINAL:
        raise _error("closed", task.state, action, "任务已结束", "the task is closed")
    raise _error("state", task.state, action, "", "")


def allowed_actions(task: DispatchTask, by: TaskActor) -> list[TaskAction]:
    """What `by` may do to `task` now that changes it, in `TaskAction` order.

    For buttons: the phone page offers the field actions, the console the officer's ones.
    Reassign and escalate are listed when allowed but are done with `reassign`/`escalate`.
    """
    out: list[TaskAction] = []
    for action in TaskAction:
        if action is TaskAction.DISPATCH or (task.state, action) not in _MOVES:
            continue
        if by.kind not in _WHO[action]:
            continue
        if by.kind is ActorKind.FIELD and by.id != task.assignee:
            continue
        out.append(action)
    return out


def _record(
    task: DispatchTask,
    action: TaskAction,
    to_state: TaskState,
    by: TaskActor,
    now: datetime,
    *,
    from_state: TaskState | None,
    note: str = "",
    photos: tuple[str, ...] = (),
    target: str | None = None,
    step: int | None = None,
) -> TaskTransition:
    return TaskTransition(
        task_id=task.id,
        event_id=task.event_id,
        at=now,
        action=action,
        from_state=from_state,
        to_state=to_state,
        by=by,
        assignee=task.assignee,
        target=target,
        step=task.escalation_step if step is None else step,
        note=note,
        photos=photos,
    )


def _effect(
    task: DispatchTask, action: TaskAction, now: datetime, note: str, photos: tuple[str, ...]
) -> dict[str, object]:
    """The field changes an action makes (besides state, version and updated_at)."""
    acked: dict[str, object] = {
        "delivered_at": task.delivered_at or now,
        "read_at": task.read_at or now,
    }
    match action:
        case TaskAction.DELIVER:
            return {"delivered_at": now}
        case TaskAction.READ:
            return acked
        case TaskAction.ACCEPT:
            return {**acked, "accepted_at": now}
        case TaskAction.RETURN:
            return {**acked, "returned_at": now, "return_reason": note}
        case TaskAction.ARRIVE:
            return {"on_site_at": now}
        case TaskAction.FEEDBACK:
            return {"feedback_at": now, "feedback_text": note, "feedback_photos": photos}
        case TaskAction.CONFIRM:
            return {"done_at": now, "closed_at": now}
        case TaskAction.REWORK:
            return {"reworks": task.reworks + 1}
        case TaskAction.CANCEL:
            return {"closed_at": now, "cancel_reason": note}
        case _:
            return {}


def apply(
    task: DispatchTask,
    action: TaskAction,
    by: TaskActor,
    now: datetime,
    *,
    note: str = "",
    photos: Sequence[str] = (),
) -> Outcome:
    """Take a delivery or handling step; TaskTransitionError when it is not allowed.

    `note` is the reason (return, rework, cancel), the feedback text (feedback) or a
    remark. `photos` are stored photo ids, for feedback only. Dispatch, reassign and
    escalate have their own functions; naming them here, or a naive `now`, is a
    ValueError (a programming error, not a user's).
    """
    _check_now(now)
    action = TaskAction(action)
    if action not in _SIMPLE:
        raise ValueError(f"{action} is done with its own function, not apply()")
    _check_who(task, action, by)
    if _is_noop(task, action, note, photos):
        return Outcome(task, None)
    _refuse_state(task, action)
    limit = MAX_FEEDBACK_LENGTH if action is TaskAction.FEEDBACK else MAX_NOTE_LENGTH
    _check_text(
        action, task.state, note, limit, "反馈内容" if limit == MAX_FEEDBACK_LENGTH else "备注"
    )
    _check_photos(action, task.state, photos)
    text = note.strip()
    if action in _REASON_REQUIRED and not text:
        what = _REASON_REQUIRED[action]
        raise _error(
            "reason_required", task.state, action, f"必须填写{what}", "a reason is required"
        )
    if action is TaskAction.FEEDBACK and not text:
        raise _error(
            "feedback_required", task.state, action, "必须填写反馈内容", "feedback text is required"
        )
    to_state = _MOVES[(task.state, action)]
    pics = tuple(photos)
    updated = task.model_copy(
        update={
            **_effect(task, action, now, text, pics),
            "state": to_state,
            "version": task.version + 1,
            "updated_at": now,
        }
    )
    row = _record(task, action, to_state, by, now, from_state=task.state, note=text, photos=pics)
    return Outcome(updated, row)


def new_task(
    *,
    task_id: str,
    event: Event,
    recipient: Person,
    by: TaskActor,
    now: datetime,
    instruction: str,
    note: str = "",
    grid_id: str | None = None,
) -> Outcome:
    """Dispatch (派单) `event` to `recipient`: a new task in state sent and its first row.

    The escalation ladder starts now. The instruction is usually `instruction_for(...)`,
    possibly edited by the officer; `note` is the officer's addition.
    """
    _check_now(now)
    _check_who(None, TaskAction.DISPATCH, by)
    return _open_task(
        task_id=task_id,
        event_id=event.id,
        category=event.category,
        priority=event.priority,
        recipient=recipient,
        level=level_of(recipient),
        step=0,
        by=by,
        action=TaskAction.DISPATCH,
        now=now,
        ladder_since=now,
        instruction=instruction,
        note=note,
        grid_id=grid_id,
        previous=None,
    )


def _open_task(
    *,
    task_id: str,
    event_id: str,
    category: str,
    priority: Priority,
    recipient: Person,
    level: EscalationLevel,
    step: int,
    by: TaskActor,
    action: TaskAction,
    now: datetime,
    ladder_since: datetime,
    instruction: str,
    note: str,
    grid_id: str | None,
    previous: str | None,
) -> Outcome:
    text = instruction.strip()
    if not text:
        raise _error("instruction_required", None, action, "必须填写指令内容", "no instruction")
    _check_text(action, None, text, MAX_INSTRUCTION_LENGTH, "指令")
    _check_text(action, None, note, MAX_NOTE_LENGTH, "备注")
    task = DispatchTask(
        id=task_id,
        event_id=event_id,
        category=category,
        priority=priority,
        grid_id=grid_id,
        assignee=recipient.id,
        assignee_name=recipient.name,
        assignee_role=recipient.role,
        level=level,
        escalation_step=step,
        instruction=text,
        note=note.strip(),
        state=TaskState.SENT,
        dispatched_by=by.id,
        ladder_since=ladder_since,
        previous_task=previous,
        sent_at=now,
        updated_at=now,
    )
    row = _record(
        task,
        action,
        TaskState.SENT,
        by,
        now,
        from_state=None,
        note=note.strip(),
        target=recipient.id,
        step=step,
    )
    return Outcome(task, row)


def _close_moved(
    task: DispatchTask,
    action: TaskAction,
    by: TaskActor,
    now: datetime,
    *,
    new_task_id: str,
    to: Person,
    note: str,
    step: int,
) -> Outcome:
    updated = task.model_copy(
        update={
            "state": TaskState.REASSIGNED,
            "replaced_by": new_task_id,
            "closed_at": now,
            "version": task.version + 1,
            "updated_at": now,
        }
    )
    row = _record(
        task,
        action,
        TaskState.REASSIGNED,
        by,
        now,
        from_state=task.state,
        note=note,
        target=to.id,
        step=step,
    )
    return Outcome(updated, row)


def reassign(
    task: DispatchTask,
    to: Person,
    by: TaskActor,
    now: datetime,
    *,
    new_task_id: str,
    note: str = "",
    instruction: str | None = None,
) -> tuple[Outcome, Outcome]:
    """An officer moves the task to another person (改派): (the old task closed, the new one).

    The new task starts a fresh escalation ladder at `to`'s own level; it keeps the
    instruction unless a new one is given.
    """
    _check_now(now)
    action = TaskAction.REASSIGN
    _check_who(task, action, by)
    _refuse_state(task, action)
    if to.id == task.assignee:
        raise _error(
            "same_person",
            task.state,
            action,
            f"任务已在{task.assignee_name or task.assignee}手中",
            f"the task is already with {task.assignee}",
        )
    if new_task_id == task.id:
        raise ValueError("the new task needs a new id")
    _check_text(action, task.state, note, MAX_NOTE_LENGTH, "备注")
    text = note.strip()
    new = _open_task(
        task_id=new_task_id,
        event_id=task.event_id,
        category=task.category,
        priority=task.priority,
        recipient=to,
        level=level_of(to),
        step=0,
        by=by,
        action=action,
        now=now,
        ladder_since=now,
        instruction=task.instruction if instruction is None else instruction,
        note=text or task.note,
        grid_id=task.grid_id,
        previous=task.id,
    )
    old = _close_moved(task, action, by, now, new_task_id=new_task_id, to=to, note=text, step=0)
    return old, new


# -- escalation -----------------------------------------------------------------------------


def _current(task: DispatchTask) -> EscalationTarget:
    return EscalationTarget(
        step=task.escalation_step,
        level=task.level,
        person_id=task.assignee,
        person_name=task.assignee_name,
        person_role=task.assignee_role,
    )


def _ladder_people(chain: ResponsibleChain) -> dict[EscalationLevel, Person | None]:
    return {
        EscalationLevel.DEPUTY: chain.deputy,
        EscalationLevel.TOWNSHIP: chain.township_supervisor,
        EscalationLevel.COUNTY: chain.county,
    }


def escalation_target(
    task: DispatchTask,
    chain: ResponsibleChain | None,
    now: datetime,
    ladder: EscalationLadder = DEFAULT_LADDER,
) -> EscalationTarget:
    """Who should have `task` at `now`: its assignee, or the person the ladder has reached.

    Only a task waiting for acknowledgement escalates; for others (and without a chain)
    the answer is the current assignee. Step s wants level s (capped at county); a missing
    person is skipped upwards, else the highest present level below it is taken, never
    one at or below the assignee's own level.
    """
    _check_now(now)
    current = _current(task)
    if not awaiting_ack(task) or chain is None:
        return current
    step = ladder_step(task.priority, task.ladder_since, now, ladder)
    want = EscalationLevel(min(step, EscalationLevel.COUNTY))
    if want <= task.level:
        return current
    people = _ladder_people(chain)
    above = [lv for lv in EscalationLevel if lv >= want]
    below = [lv for lv in reversed(EscalationLevel) if task.level < lv < want]
    for lv in (*above, *below):
        person = people.get(lv)
        if person is not None and person.id != task.assignee:
            return EscalationTarget(
                step=step,
                level=lv,
                person_id=person.id,
                person_name=person.name,
                person_role=person.role,
            )
    return current


def escalate(
    task: DispatchTask,
    chain: ResponsibleChain | None,
    now: datetime,
    *,
    new_task_id: str,
    ladder: EscalationLadder = DEFAULT_LADDER,
) -> tuple[Outcome, Outcome] | None:
    """The hub's timer: move an unacknowledged task up the ladder if a step is due.

    None when nothing is due (acknowledged, closed, or nobody higher to go to). Otherwise
    (the old task closed as reassigned, the new task for the target): the new task keeps
    `ladder_since`, so the following steps come at the ladder's times. Several steps due
    at once (the hub was down) go straight to the person due now.
    """
    if new_task_id == task.id:
        raise ValueError("the new task needs a new id")
    target = escalation_target(task, chain, now, ladder)
    if target.person_id == task.assignee or chain is None:
        return None
    person = next(p for p in chain.people() if p.id == target.person_id)
    action = TaskAction.ESCALATE
    note = f"↑{target.step} → {LEVEL_LABELS_ZH[target.level]} {person.name}"
    new = _open_task(
        task_id=new_task_id,
        event_id=task.event_id,
        category=task.category,
        priority=task.priority,
        recipient=person,
        level=target.level,
        step=target.step,
        by=SYSTEM,
        action=action,
        now=now,
        ladder_since=task.ladder_since,
        instruction=task.instruction,
        note=task.note,
        grid_id=task.grid_id,
        previous=task.id,
    )
    old = _close_moved(
        task, action, SYSTEM, now, new_task_id=new_task_id, to=person, note=note, step=target.step
    )
    return old, new


def ack_deadline(task: DispatchTask, ladder: EscalationLadder = DEFAULT_LADDER) -> datetime | None:
    """When the task escalates unless accepted or returned before: the next ladder step.

    None when it does not wait for acknowledgement or the ladder has no further step.
    """
    if not awaiting_ack(task):
        return None
    steps = ladder[task.priority]
    if task.escalation_step >= len(steps):
        return None
    return task.ladder_since + steps[task.escalation_step]


def next_escalation_at(
    task: DispatchTask, now: datetime, ladder: EscalationLadder = DEFAULT_LADDER
) -> datetime | None:
    """When the hub's timer should next call `escalate` for this task (strictly after now)."""
    _check_now(now)
    if not awaiting_ack(task):
        return None
    return ladder_next(task.priority, task.ladder_since, now, ladder)


def describe(row: TaskTransition, names: Mapping[str, str] | None = None) -> str:
    """A Chinese timeline line for a row, e.g. "张建国 接单" or "系统 超时升级 ↑1 → …"."""
    who = row.by.name or (names or {}).get(row.by.id, row.by.id)
    head = f"{who} {ACTION_LABELS_ZH[row.action]}"
    if row.target is not None and row.action in (TaskAction.DISPATCH, TaskAction.REASSIGN):
        target = (names or {}).get(row.target, row.target)
        head = f"{head} → {target}"
    return f"{head}：{row.note}" if row.note else head


# -- instruction templates ------------------------------------------------------------------

PLACEHOLDERS: frozenset[str] = frozenset(
    {"title", "place", "deadline", "category", "priority", "event_id", "grid"}
)
FALLBACK_CATEGORY = "other"


class TemplateError(ValueError):
    """A template file or template that cannot be used; the message names which."""


class InstructionTemplates(_Frozen):
    """Instruction text per category id; placeholders are checked when parsed."""

    templates: dict[str, str]
    source: str = "<templates>"

    def for_category(self, category: str) -> str:
        if category in self.templates:
            return self.templates[category]
        if FALLBACK_CATEGORY in self.templates:
            return self.templates[FALLBACK_CATEGORY]
        raise TemplateError(
            f"{self.source}: no template for category {category!r} and no "
            f"{FALLBACK_CATEGORY!r} template (缺少派单指令模板)"
        )


def _check_template(source: str, category: str, text: str) -> None:
    where = f"{source}: templates.{category}"
    if not text.strip():
        raise TemplateError(f"{where}: empty template")
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise TemplateError(
            f"{where}: bad braces: {exc} (use {{{{ }}}} for literal braces)"
        ) from None
    for _literal, field, spec, conversion in parts:
        if field is None:
            continue
        if field not in PLACEHOLDERS:
            known = ", ".join("{" + p + "}" for p in sorted(PLACEHOLDERS))
            raise TemplateError(f"{where}: unknown placeholder {{{field}}}; known: {known}")
        if spec or conversion:
            raise TemplateError(f"{where}: placeholder {{{field}}} takes no format or conversion")


def parse_templates(text: str, source: str = "<templates>") -> InstructionTemplates:
    """Parse the TOML text of an instruction template file (`[templates] category = "…"`)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TemplateError(f"{source}: not valid TOML: {exc}") from None
    table = data.get("templates")
    if not isinstance(table, dict) or not table:
        raise TemplateError(f"{source}: needs a non-empty [templates] table")
    out: dict[str, str] = {}
    for category, value in table.items():
        if not isinstance(value, str):
            raise TemplateError(f"{source}: templates.{category}: must be a string")
        _check_template(source, category, value)
        out[category] = value.strip()
    return InstructionTemplates(templates=out, source=source)


def default_templates_path() -> Path:
    return Path(__file__).resolve().parents[3] / "resources" / "templates" / "instructions.toml"


def load_templates(path: str | Path | None = None) -> InstructionTemplates:
    """Read and parse a template file (the packaged one by default): the only I/O here."""
    p = Path(path) if path is not None else default_templates_path()
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateError(f"{p}: cannot read template file: {exc}") from None
    return parse_templates(text, str(p))


def format_deadline(deadline: datetime | None) -> str:
    """ "3月5日14:30前" in the deadline's own time zone, or "尽快" without one."""
    if deadline is None:
        return "尽快"
    return f"{deadline.month}月{deadline.day}日{deadline:%H:%M}前"


def instruction_for(
    category: str,
    event: Event,
    templates: InstructionTemplates,
    *,
    place: str | None = None,
    deadline: datetime | None = None,
    grid: str = "",
    categories: Mapping[str, str] = DEFAULT_CATEGORIES,
) -> str:
    """The instruction for dispatching `event`, from the template of `category`.

    `place` is the place in words (`dispatch.domain.geo.describe_place`), default the event's
    address; `deadline` renders as "3月5日14:30前" (or "尽快" when None) so that a
    template reads "请{deadline}到场核实". A category without a template uses "other".
    """
    values = {
        "title": event.title.strip(),
        "place": (place if place is not None else event.place.address).strip() or "地点待核实",
        "deadline": format_deadline(deadline),
        "category": categories.get(category, category),
        "priority": PRIORITY_LABELS_ZH[event.priority],
        "event_id": event.id,
        "grid": grid,
    }
    return templates.for_category(category).format_map(values)
