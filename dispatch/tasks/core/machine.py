"""The delivery state machine of a dispatch task: dispatch, the steps, reassignment.

Pure: no I/O, no clock reads; `now` is passed in.

    sent ─deliver→ delivered ─read→ read ─accept→ accepted ─arrive→ on_site
    sent | delivered | read ─return (reason)→ returned
    on_site ─feedback→ feedback ─confirm→ done;  feedback ─rework (reason)→ on_site
    any open state ─cancel (reason)→ cancelled;  any open state ─reassign→ reassigned
    sent | delivered | read ─escalate (no acknowledgement in time)→ reassigned
    (escalation: `dispatch.tasks.core.escalation`)

Who: the task's assignee (a field person, from the phone page) delivers, reads, accepts,
returns, arrives and feeds back; the hub (system) may also acknowledge delivery and
escalates; an officer (the console) confirms, asks for rework, cancels and reassigns.

At least once, handled once: `deliver` after the task was delivered (in any later state,
closed ones too) and `read` after it was read are no-ops; so are `accept` and `arrive`
once reached or passed, `confirm` once done, `cancel` once cancelled, and a `feedback`
identical to the one already given. A later step implies the earlier ones: `read` and
`accept` straight from `sent` fill in the missing delivery/read times.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from dispatch.domain.model import Event, Priority
from dispatch.domain.site import Person
from dispatch.tasks.core.labels import ACTION_LABELS_ZH, STATE_LABELS_ZH
from dispatch.tasks.core.task import (
    AWAITING_ACK,
    MAX_FEEDBACK_LENGTH,
    MAX_FEEDBACK_PHOTOS,
    MAX_INSTRUCTION_LENGTH,
    MAX_NOTE_LENGTH,
    PHOTO_ID_PATTERN,
    TERMINAL,
    ActorKind,
    DispatchTask,
    EscalationLevel,
    Outcome,
    TaskAction,
    TaskActor,
    TaskState,
    TaskTransition,
    TaskTransitionError,
    level_of,
)

_BAD_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PHOTO_ID = re.compile(PHOTO_ID_PATTERN)

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


def check_now(now: datetime) -> None:
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
    check_now(now)
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
    check_now(now)
    _check_who(None, TaskAction.DISPATCH, by)
    return open_task(
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


def open_task(
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


def close_moved(
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
    check_now(now)
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
    new = open_task(
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
    old = close_moved(task, action, by, now, new_task_id=new_task_id, to=to, note=text, step=0)
    return old, new
