"""Escalation of a dispatch task nobody acknowledged: who should have it, and when.

While a task waits for its acknowledgement (sent, delivered, read) the ladder of
`dispatch.domain.rules` (per priority, counted from `ladder_since`, the first dispatch of
this line of tasks) says how many steps are due; step 1 goes to the grid's deputy, 2 to
the township centre, 3 to the county (`EscalationLevel`). A missing person is skipped
upwards (to the next level present, else the highest present level below); a task never
escalates down nor to the person who already has it. Pure: `now` is passed in.
"""

from __future__ import annotations

from datetime import datetime

from dispatch.domain.geo import ResponsibleChain
from dispatch.domain.rules import DEFAULT_LADDER, EscalationLadder
from dispatch.domain.rules import escalation_step as ladder_step
from dispatch.domain.rules import next_escalation_at as ladder_next
from dispatch.domain.site import Person
from dispatch.tasks.core.labels import LEVEL_LABELS_ZH
from dispatch.tasks.core.machine import check_now, close_moved, open_task
from dispatch.tasks.core.task import (
    SYSTEM,
    DispatchTask,
    EscalationLevel,
    EscalationTarget,
    Outcome,
    TaskAction,
    awaiting_ack,
)


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
    check_now(now)
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
    new = open_task(
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
    old = close_moved(
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
    check_now(now)
    if not awaiting_ack(task):
        return None
    return ladder_next(task.priority, task.ladder_since, now, ladder)
