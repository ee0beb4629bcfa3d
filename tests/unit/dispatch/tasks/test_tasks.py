"""The dispatch task: delivery states, idempotent acknowledgements, escalation, templates."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from dispatch.domain.geo import ResponsibleChain, responsible_people
from dispatch.domain.model import (
    DEFAULT_CATEGORIES,
    Actor,
    Event,
    EventSource,
    Place,
    Priority,
    Role,
)
from dispatch.domain.rules import DEFAULT_LADDER
from dispatch.domain.site import Person, Site, parse_site
from dispatch.tasks.core import (
    MAX_FEEDBACK_PHOTOS,
    SYSTEM,
    ActorKind,
    DispatchTask,
    EscalationLevel,
    InstructionTemplates,
    Outcome,
    TaskAction,
    TaskActor,
    TaskState,
    TaskTransition,
    TaskTransitionError,
    TemplateError,
    ack_deadline,
    allowed_actions,
    apply,
    describe,
    escalate,
    escalation_target,
    format_deadline,
    instruction_for,
    load_templates,
    new_task,
    next_escalation_at,
    parse_templates,
    reassign,
)

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2024, 3, 5, 9, 0, tzinfo=SH)
S = TaskState
A = TaskAction


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def person(pid: str, name: str, role: str) -> Person:
    return Person(id=pid, name=name, role=role)


LEADER = person("L", "张建国", "grid_leader")
DEPUTY = person("D", "王秀英", "deputy")
OTHER = person("X", "李志强", "grid_leader")
TOWNSHIP = person("TS", "城关镇综治中心", "township_supervisor")
COUNTY = person("C", "县综治中心", "county")

OFFICER = TaskActor.officer(Actor(operator="op1", role=Role.DUTY_OFFICER, workstation="ws1"))
AS_LEADER = TaskActor.field(LEADER)
AS_DEPUTY = TaskActor.field(DEPUTY)
AS_OTHER = TaskActor.field(OTHER)


def make_event(priority: Priority = Priority.URGENT, **fields: Any) -> Event:
    data: dict[str, Any] = {
        "id": "E-20240305-0001",
        "source": EventSource.GRID_REPORT,
        "category": "neighbours",
        "priority": priority,
        "title": "东街12号两户因占道堆物发生争吵",
        "place": Place(address="城关镇东街12号"),
        "reported_at": T0 - timedelta(minutes=10),
        "accepted_at": T0 - timedelta(minutes=9),
        "updated_at": T0 - timedelta(minutes=9),
    }
    data.update(fields)
    return Event(**data)


def dispatched(
    to: Person = LEADER, priority: Priority = Priority.URGENT, now: datetime = T0
) -> DispatchTask:
    out = new_task(
        task_id="K1",
        event=make_event(priority),
        recipient=to,
        by=OFFICER,
        now=now,
        instruction="请尽快到场处置",
        grid_id="g1",
    )
    return out.task


def changed(out: Outcome) -> TaskTransition:
    assert out.transition is not None
    return out.transition


# -- dispatch -----------------------------------------------------------------------------


def test_new_task_is_sent_with_its_first_row() -> None:
    out = new_task(
        task_id="K1",
        event=make_event(),
        recipient=LEADER,
        by=OFFICER,
        now=T0,
        instruction="  请尽快到场处置 \n",
        note=" 当事人情绪激动 ",
        grid_id="g1",
    )
    task, row = out.task, changed(out)
    assert task.state is S.SENT and task.sent_at == T0 and task.ladder_since == T0
    assert (task.assignee, task.assignee_name, task.assignee_role) == ("L", "张建国", "grid_leader")
    assert task.instruction == "请尽快到场处置" and task.note == "当事人情绪激动"
    assert task.level is EscalationLevel.ASSIGNEE and task.escalation_step == 0
    assert task.dispatched_by == "op1" and task.version == 1 and task.priority is Priority.URGENT
    assert row.action is A.DISPATCH and row.from_state is None and row.to_state is S.SENT
    assert row.by == OFFICER and row.target == "L" and row.at == T0


@pytest.mark.parametrize("by", [AS_LEADER, SYSTEM])
def test_only_an_officer_dispatches(by: TaskActor) -> None:
    with pytest.raises(TaskTransitionError) as exc:
        new_task(task_id="K1", event=make_event(), recipient=LEADER, by=by, now=T0, instruction="x")
    assert exc.value.code == "role"


@pytest.mark.parametrize(
    ("instruction", "note", "code"),
    [
        ("   ", "", "instruction_required"),
        ("x" * 2001, "", "bad_note"),
        ("ok\x00", "", "bad_note"),
        ("ok", "y" * 2001, "bad_note"),
    ],
)
def test_bad_dispatch_arguments(instruction: str, note: str, code: str) -> None:
    with pytest.raises(TaskTransitionError) as exc:
        new_task(
            task_id="K1",
            event=make_event(),
            recipient=LEADER,
            by=OFFICER,
            now=T0,
            instruction=instruction,
            note=note,
        )
    assert exc.value.code == code


def test_bad_task_id_is_refused_by_the_model() -> None:
    with pytest.raises(ValidationError):
        new_task(
            task_id="bad id",
            event=make_event(),
            recipient=LEADER,
            by=OFFICER,
            now=T0,
            instruction="x",
        )


# -- the table of allowed and forbidden transitions ---------------------------------------

FEEDBACK_TEXT = "已到场劝解，双方同意各自清理堆物"


def in_state(state: TaskState) -> DispatchTask:
    """A task brought to `state` through real transitions."""
    task = dispatched()
    path: dict[TaskState, list[tuple[TaskAction, TaskActor, str]]] = {
        S.SENT: [],
        S.DELIVERED: [(A.DELIVER, SYSTEM, "")],
        S.READ: [(A.DELIVER, SYSTEM, ""), (A.READ, AS_LEADER, "")],
        S.ACCEPTED: [(A.ACCEPT, AS_LEADER, "")],
        S.RETURNED: [(A.RETURN, AS_LEADER, "不属于本网格")],
        S.ON_SITE: [(A.ACCEPT, AS_LEADER, ""), (A.ARRIVE, AS_LEADER, "")],
        S.FEEDBACK: [
            (A.ACCEPT, AS_LEADER, ""),
            (A.ARRIVE, AS_LEADER, ""),
            (A.FEEDBACK, AS_LEADER, FEEDBACK_TEXT),
        ],
        S.DONE: [
            (A.ACCEPT, AS_LEADER, ""),
            (A.ARRIVE, AS_LEADER, ""),
            (A.FEEDBACK, AS_LEADER, FEEDBACK_TEXT),
            (A.CONFIRM, OFFICER, ""),
        ],
        S.CANCELLED: [(A.CANCEL, OFFICER, "重复派单")],
    }
    if state is S.REASSIGNED:
        old, _new = reassign(task, OTHER, OFFICER, at(1), new_task_id="K2")
        return old.task
    for i, (action, by, note) in enumerate(path[state]):
        task = apply(task, action, by, at(i + 1), note=note).task
    assert task.state is state
    return task


def who_for(action: TaskAction) -> TaskActor:
    return OFFICER if action in (A.CONFIRM, A.REWORK, A.CANCEL) else AS_LEADER


def note_for(action: TaskAction) -> str:
    return {
        A.RETURN: "人手不足",
        A.REWORK: "照片不清楚",
        A.CANCEL: "误派",
        A.FEEDBACK: "已处理",
    }.get(action, "")


NOOP = "noop"
STATE = "state"
CLOSED = "closed"
ACTIONS = [
    A.DELIVER,
    A.READ,
    A.ACCEPT,
    A.RETURN,
    A.ARRIVE,
    A.FEEDBACK,
    A.CONFIRM,
    A.REWORK,
    A.CANCEL,
]
# one row per state, one column per action above: the new state, NOOP, or an error code
TABLE: dict[TaskState, list[TaskState | str]] = {
    #            deliver      read     accept      return      arrive     feedback    confirm  rework     cancel  # noqa: E501
    S.SENT:      [S.DELIVERED, S.READ, S.ACCEPTED, S.RETURNED, STATE,     STATE,      STATE,   STATE,     S.CANCELLED],  # noqa: E501
    S.DELIVERED: [NOOP,        S.READ, S.ACCEPTED, S.RETURNED, STATE,     STATE,      STATE,   STATE,     S.CANCELLED],  # noqa: E501
    S.READ:      [NOOP,        NOOP,   S.ACCEPTED, S.RETURNED, STATE,     STATE,      STATE,   STATE,     S.CANCELLED],  # noqa: E501
    S.ACCEPTED:  [NOOP,        NOOP,   NOOP,       STATE,      S.ON_SITE, STATE,      STATE,   STATE,     S.CANCELLED],  # noqa: E501
    S.RETURNED:  [NOOP,        NOOP,   STATE,      STATE,      STATE,     STATE,      STATE,   STATE,     S.CANCELLED],  # noqa: E501
    S.ON_SITE:   [NOOP,        NOOP,   NOOP,       STATE,      NOOP,      S.FEEDBACK, STATE,   STATE,     S.CANCELLED],  # noqa: E501
    S.FEEDBACK:  [NOOP,        NOOP,   NOOP,       STATE,      NOOP,      STATE,      S.DONE,  S.ON_SITE, S.CANCELLED],  # noqa: E501
    S.DONE:      [NOOP,        NOOP,   NOOP,       CLOSED,     NOOP,      CLOSED,     NOOP,    CLOSED,    CLOSED],  # noqa: E501
    S.CANCELLED: [NOOP,        NOOP,   CLOSED,     CLOSED,     CLOSED,    CLOSED,     CLOSED,  CLOSED,    NOOP],  # noqa: E501
    S.REASSIGNED:[NOOP,        NOOP,   CLOSED,     CLOSED,     CLOSED,    CLOSED,     CLOSED,  CLOSED,    CLOSED],  # noqa: E501
}  # fmt: skip
CASES = [(s, a, TABLE[s][i]) for s in TABLE for i, a in enumerate(ACTIONS)]


def test_the_table_covers_every_state() -> None:
    assert set(TABLE) == set(TaskState)
    assert all(len(row) == len(ACTIONS) for row in TABLE.values())


@pytest.mark.parametrize(("state", "action", "expected"), CASES)
def test_transition_table(state: TaskState, action: TaskAction, expected: TaskState | str) -> None:
    task = in_state(state)
    now = at(30)
    try:
        out = apply(task, action, who_for(action), now, note=note_for(action))
    except TaskTransitionError as exc:
        assert expected in (STATE, CLOSED), f"{state} {action}: {exc}"
        assert exc.code == expected
        assert exc.state is state and exc.action is action
        return
    if expected == NOOP:
        assert out.transition is None and out.task is task
        return
    assert isinstance(expected, TaskState), f"{state} {action} went to {out.task.state}"
    row = changed(out)
    assert out.task.state is expected
    assert (row.from_state, row.to_state, row.action, row.at) == (state, expected, action, now)
    assert out.task.version == task.version + 1 and out.task.updated_at == now
    assert row.by == who_for(action) and row.assignee == "L" and row.task_id == task.id


def test_a_refused_transition_changes_nothing() -> None:
    task = in_state(S.SENT)
    before = task.model_dump()
    with pytest.raises(TaskTransitionError):
        apply(task, A.CONFIRM, OFFICER, at(1))
    assert task.model_dump() == before


def test_the_error_names_state_and_action_in_both_languages() -> None:
    with pytest.raises(TaskTransitionError) as exc:
        apply(in_state(S.SENT), A.ARRIVE, AS_LEADER, at(1))
    err = exc.value
    assert err.message_zh == "任务处于“已派发”状态时不能“到场”"
    assert err.message_en == "cannot arrive a task in state sent"
    assert str(err) == f"{err.message_zh} / {err.message_en}"
    assert err.message("en_US") == err.message_en and err.message() == err.message_zh
    with pytest.raises(TaskTransitionError) as closed:
        apply(in_state(S.DONE), A.CANCEL, OFFICER, at(9), note="x")
    assert closed.value.message_zh.endswith("：任务已结束")


# -- who may ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "action", "by", "code"),
    [
        (S.SENT, A.ACCEPT, AS_OTHER, "not_assignee"),
        (S.SENT, A.DELIVER, AS_OTHER, "not_assignee"),
        (S.DONE, A.DELIVER, AS_OTHER, "not_assignee"),  # not even a no-op for a stranger
        (S.SENT, A.ACCEPT, OFFICER, "role"),
        (S.SENT, A.ACCEPT, SYSTEM, "role"),
        (S.SENT, A.READ, SYSTEM, "role"),
        (S.FEEDBACK, A.CONFIRM, AS_LEADER, "role"),
        (S.FEEDBACK, A.REWORK, AS_LEADER, "role"),
        (S.SENT, A.CANCEL, AS_LEADER, "role"),
        (S.SENT, A.DELIVER, OFFICER, "role"),
    ],
)
def test_who_may_do_what(state: TaskState, action: TaskAction, by: TaskActor, code: str) -> None:
    with pytest.raises(TaskTransitionError) as exc:
        apply(in_state(state), action, by, at(30), note=note_for(action))
    assert exc.value.code == code


def test_the_hub_may_acknowledge_delivery_for_the_phone() -> None:
    out = apply(in_state(S.SENT), A.DELIVER, SYSTEM, at(1))
    assert out.task.state is S.DELIVERED and changed(out).by.kind is ActorKind.SYSTEM


def test_a_system_actor_from_the_model_is_the_system() -> None:
    hub = TaskActor.officer(Actor(operator="system", role=Role.SYSTEM, workstation="hub"))
    assert hub.kind is ActorKind.SYSTEM
    assert OFFICER.kind is ActorKind.OFFICER and AS_LEADER.via == "phone"


def test_allowed_actions_for_buttons() -> None:
    assert allowed_actions(in_state(S.SENT), AS_LEADER) == [A.DELIVER, A.READ, A.ACCEPT, A.RETURN]
    assert allowed_actions(in_state(S.SENT), AS_OTHER) == []
    assert allowed_actions(in_state(S.SENT), OFFICER) == [A.CANCEL, A.REASSIGN]
    assert allowed_actions(in_state(S.SENT), SYSTEM) == [A.DELIVER, A.ESCALATE]
    assert allowed_actions(in_state(S.ACCEPTED), AS_LEADER) == [A.ARRIVE]
    assert allowed_actions(in_state(S.FEEDBACK), OFFICER) == [
        A.CONFIRM,
        A.REWORK,
        A.CANCEL,
        A.REASSIGN,
    ]
    assert allowed_actions(in_state(S.DONE), OFFICER) == []


# -- arguments ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "action", "by"),
    [
        (S.READ, A.RETURN, AS_LEADER),
        (S.FEEDBACK, A.REWORK, OFFICER),
        (S.ACCEPTED, A.CANCEL, OFFICER),
    ],
)
@pytest.mark.parametrize("note", ["", "   \n "])
def test_a_reason_is_required(
    state: TaskState, action: TaskAction, by: TaskActor, note: str
) -> None:
    with pytest.raises(TaskTransitionError) as exc:
        apply(in_state(state), action, by, at(30), note=note)
    assert exc.value.code == "reason_required"


def test_return_keeps_its_reason_and_fills_in_the_acknowledgements() -> None:
    out = apply(in_state(S.SENT), A.RETURN, AS_LEADER, at(3), note="  本人在外地培训  ")
    task = out.task
    assert task.state is S.RETURNED and task.return_reason == "本人在外地培训"
    assert task.returned_at == task.delivered_at == task.read_at == at(3)
    assert changed(out).note == "本人在外地培训"


def test_cancel_keeps_its_reason_and_closes() -> None:
    task = apply(in_state(S.ON_SITE), A.CANCEL, OFFICER, at(30), note="当事人已自行和解").task
    assert task.cancel_reason == "当事人已自行和解" and task.closed_at == at(30)


def test_feedback_with_photos_then_rework_then_confirm() -> None:
    task = in_state(S.ON_SITE)
    with pytest.raises(TaskTransitionError) as exc:
        apply(task, A.FEEDBACK, AS_LEADER, at(10), note="  ", photos=["p1.jpg"])
    assert exc.value.code == "feedback_required"
    fb = apply(task, A.FEEDBACK, AS_LEADER, at(10), note=" 已清理 ", photos=["p1.jpg", "p2"])
    assert fb.task.feedback_text == "已清理" and fb.task.feedback_photos == ("p1.jpg", "p2")
    assert changed(fb).photos == ("p1.jpg", "p2") and fb.task.feedback_at == at(10)
    again = apply(fb.task, A.FEEDBACK, AS_LEADER, at(11), note="已清理", photos=["p1.jpg", "p2"])
    assert again.transition is None  # the same feedback retried: handled once
    with pytest.raises(TaskTransitionError) as other:
        apply(fb.task, A.FEEDBACK, AS_LEADER, at(11), note="另一条反馈")
    assert other.value.code == "state"  # a different one is not silently dropped
    with pytest.raises(TaskTransitionError) as more:
        apply(fb.task, A.FEEDBACK, AS_LEADER, at(11), note="已清理", photos=["p1.jpg"])
    assert more.value.code == "state"
    rework = apply(fb.task, A.REWORK, OFFICER, at(12), note="请补拍清理后的照片")
    assert rework.task.state is S.ON_SITE and rework.task.reworks == 1
    fb2 = apply(rework.task, A.FEEDBACK, AS_LEADER, at(20), note="已补拍", photos=["p3"])
    done = apply(fb2.task, A.CONFIRM, OFFICER, at(25))
    assert done.task.state is S.DONE and done.task.done_at == done.task.closed_at == at(25)
    assert done.task.feedback_photos == ("p3",) and done.task.version == fb.task.version + 3


@pytest.mark.parametrize(
    ("action", "photos", "code"),
    [
        (A.FEEDBACK, ["../etc/passwd"], "bad_photos"),
        (A.FEEDBACK, [""], "bad_photos"),
        (A.FEEDBACK, ["a b.jpg"], "bad_photos"),
        (A.FEEDBACK, ["p1", "p1"], "bad_photos"),
        (A.FEEDBACK, [f"p{i}" for i in range(MAX_FEEDBACK_PHOTOS + 1)], "too_many_photos"),
        (A.ARRIVE, ["p1"], "unexpected_argument"),
    ],
)
def test_bad_photos_are_refused(action: TaskAction, photos: list[str], code: str) -> None:
    state = S.ACCEPTED if action is A.ARRIVE else S.ON_SITE
    with pytest.raises(TaskTransitionError) as exc:
        apply(in_state(state), action, AS_LEADER, at(30), note="已处理", photos=photos)
    assert exc.value.code == code


@pytest.mark.parametrize("note", ["x" * 2001, "含\x07控制字符", "\x00"])
def test_bad_notes_are_refused(note: str) -> None:
    with pytest.raises(TaskTransitionError) as exc:
        apply(in_state(S.SENT), A.RETURN, AS_LEADER, at(1), note=note)
    assert exc.value.code == "bad_note"


def test_programming_errors_are_value_errors() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        apply(in_state(S.SENT), A.DELIVER, SYSTEM, datetime(2024, 3, 5, 9, 1))
    with pytest.raises(ValueError, match="own function"):
        apply(in_state(S.SENT), A.REASSIGN, OFFICER, at(1))
    with pytest.raises(ValueError):
        apply(in_state(S.SENT), "fly", SYSTEM, at(1))  # type: ignore[arg-type]


# -- at least once, handled once ----------------------------------------------------------


def test_second_delivery_is_a_no_op() -> None:
    first = apply(in_state(S.SENT), A.DELIVER, AS_LEADER, at(1))
    assert first.changed and first.task.delivered_at == at(1)
    second = apply(first.task, A.DELIVER, AS_LEADER, at(2))
    assert not second.changed and second.task is first.task
    assert second.task.delivered_at == at(1) and second.task.version == 2
    # a late delivery acknowledgement after the task moved on is a no-op as well
    done = in_state(S.DONE)
    assert apply(done, A.DELIVER, SYSTEM, at(40)).task is done


def test_read_straight_from_sent_implies_delivery() -> None:
    out = apply(in_state(S.SENT), A.READ, AS_LEADER, at(2))
    assert out.task.state is S.READ and out.task.delivered_at == out.task.read_at == at(2)
    late = apply(out.task, A.DELIVER, SYSTEM, at(3))
    assert late.transition is None and late.task.delivered_at == at(2)


def test_accept_keeps_earlier_acknowledgement_times() -> None:
    task = apply(in_state(S.SENT), A.DELIVER, SYSTEM, at(1)).task
    task = apply(task, A.READ, AS_LEADER, at(2)).task
    task = apply(task, A.ACCEPT, AS_LEADER, at(4)).task
    assert (task.delivered_at, task.read_at, task.accepted_at) == (at(1), at(2), at(4))


PHONE_STEPS = st.lists(
    st.sampled_from([A.DELIVER, A.READ, A.ACCEPT, A.ARRIVE]), min_size=1, max_size=30
)


@settings(max_examples=200)
@given(steps=PHONE_STEPS, system_acks=st.lists(st.booleans(), min_size=30, max_size=30))
def test_any_replay_of_phone_acknowledgements_is_handled_once(
    steps: list[TaskAction], system_acks: list[bool]
) -> None:
    """Whatever order and however often the acknowledgements arrive, each state is entered
    at most once, times never go back, and nothing but the state-machine codes is raised."""
    task = in_state(S.SENT)
    entered: list[TaskState] = []
    for i, action in enumerate(steps):
        by = SYSTEM if action is A.DELIVER and system_acks[i] else AS_LEADER
        try:
            out = apply(task, action, by, at(i + 1))
        except TaskTransitionError as exc:
            assert exc.code == "state"
            assert (action, task.state) in {(A.ARRIVE, s) for s in (S.SENT, S.DELIVERED, S.READ)}
            continue
        if out.transition is not None:
            entered.append(out.task.state)
            assert out.task.version == task.version + 1
        task = out.task
    assert len(entered) == len(set(entered))
    order = [S.SENT, S.DELIVERED, S.READ, S.ACCEPTED, S.ON_SITE]
    ranks = [order.index(s) for s in entered]
    assert ranks == sorted(ranks)
    times = [task.delivered_at, task.read_at, task.accepted_at, task.on_site_at]
    present = [t for t in times if t is not None]
    assert present == sorted(present)


# -- reassign -----------------------------------------------------------------------------


def test_reassign_closes_the_old_task_and_opens_a_new_one() -> None:
    returned = in_state(S.RETURNED)
    old, new = reassign(
        returned, DEPUTY, OFFICER, at(20), new_task_id="K2", note="改由副网格长处理"
    )
    assert old.task.state is S.REASSIGNED and old.task.replaced_by == "K2"
    assert old.task.closed_at == at(20)
    assert changed(old).action is A.REASSIGN and changed(old).target == "D"
    assert new.task.state is S.SENT and new.task.previous_task == "K1" and new.task.id == "K2"
    assert new.task.assignee == "D" and new.task.level is EscalationLevel.DEPUTY
    assert new.task.ladder_since == at(20) and new.task.escalation_step == 0
    assert new.task.instruction == returned.instruction and new.task.note == "改由副网格长处理"
    assert changed(new).from_state is None and changed(new).to_state is S.SENT
    # the old assignee's late acknowledgements are no-ops, its actions are refused
    assert apply(old.task, A.READ, AS_LEADER, at(21)).transition is None
    with pytest.raises(TaskTransitionError) as exc:
        apply(old.task, A.ACCEPT, AS_LEADER, at(21))
    assert exc.value.code == "closed"


def test_reassign_refusals() -> None:
    with pytest.raises(TaskTransitionError) as same:
        reassign(in_state(S.SENT), LEADER, OFFICER, at(1), new_task_id="K2")
    assert same.value.code == "same_person"
    with pytest.raises(TaskTransitionError) as closed:
        reassign(in_state(S.DONE), DEPUTY, OFFICER, at(9), new_task_id="K2")
    assert closed.value.code == "closed"
    with pytest.raises(TaskTransitionError) as role:
        reassign(in_state(S.SENT), DEPUTY, AS_LEADER, at(1), new_task_id="K2")
    assert role.value.code == "role"
    with pytest.raises(ValueError, match="new id"):
        reassign(in_state(S.SENT), DEPUTY, OFFICER, at(1), new_task_id="K1")


# -- escalation ---------------------------------------------------------------------------

FULL = ResponsibleChain(
    grid_id="g1",
    village_id="v1",
    township_id="t1",
    leader=LEADER,
    deputy=DEPUTY,
    township_supervisor=TOWNSHIP,
    county=COUNTY,
)


def test_urgent_ladder_matches_the_rules() -> None:
    # the expectations below are written against these numbers
    assert DEFAULT_LADDER[Priority.URGENT] == tuple(timedelta(minutes=m) for m in (5, 15, 30))
    assert DEFAULT_LADDER[Priority.EMERGENCY] == tuple(timedelta(minutes=m) for m in (2, 5, 10))


@pytest.mark.parametrize(
    ("minutes", "who", "step", "level"),
    [
        (0, "L", 0, EscalationLevel.ASSIGNEE),
        (4.99, "L", 0, EscalationLevel.ASSIGNEE),
        (5, "D", 1, EscalationLevel.DEPUTY),
        (14.99, "D", 1, EscalationLevel.DEPUTY),
        (15, "TS", 2, EscalationLevel.TOWNSHIP),
        (30, "C", 3, EscalationLevel.COUNTY),
        (600, "C", 3, EscalationLevel.COUNTY),
    ],
)
def test_escalation_target_over_time(
    minutes: float, who: str, step: int, level: EscalationLevel
) -> None:
    target = escalation_target(dispatched(), FULL, at(minutes))
    assert (target.person_id, target.step, target.level) == (who, step, level)


def test_escalation_walks_the_ladder_step_by_step() -> None:
    task = dispatched()
    assert ack_deadline(task) == at(5)
    assert next_escalation_at(task, at(0)) == at(5)
    assert escalate(task, FULL, at(4), new_task_id="K2") is None
    moved = escalate(task, FULL, at(5), new_task_id="K2")
    assert moved is not None
    old, new = moved
    assert old.task.state is S.REASSIGNED and old.task.replaced_by == "K2"
    assert changed(old).action is A.ESCALATE and changed(old).by == SYSTEM
    assert changed(old).note == "↑1 → 副网格长 王秀英" and changed(old).step == 1
    k2 = new.task
    assert (k2.assignee, k2.escalation_step, k2.level, k2.previous_task) == (
        "D",
        1,
        EscalationLevel.DEPUTY,
        "K1",
    )
    assert k2.ladder_since == T0 and k2.sent_at == at(5) and changed(new).action is A.ESCALATE
    assert ack_deadline(k2) == at(15) and next_escalation_at(k2, at(5)) == at(15)
    # the deputy's phone acknowledges delivery, which does not stop the ladder
    k2 = apply(k2, A.DELIVER, AS_DEPUTY, at(6)).task
    assert escalate(k2, FULL, at(14), new_task_id="K3") is None
    moved = escalate(k2, FULL, at(15), new_task_id="K3")
    assert moved is not None and moved[1].task.assignee == "TS"
    k3 = moved[1].task
    moved = escalate(k3, FULL, at(30), new_task_id="K4")
    assert moved is not None and moved[1].task.assignee == "C"
    k4 = moved[1].task
    assert k4.level is EscalationLevel.COUNTY and k4.escalation_step == 3
    assert ack_deadline(k4) is None and next_escalation_at(k4, at(30)) is None
    assert escalate(k4, FULL, at(600), new_task_id="K5") is None


def test_acceptance_or_return_stops_escalation() -> None:
    accepted = apply(dispatched(), A.ACCEPT, AS_LEADER, at(4)).task
    assert escalation_target(accepted, FULL, at(60)).person_id == "L"
    assert escalate(accepted, FULL, at(60), new_task_id="K2") is None
    assert ack_deadline(accepted) is None and next_escalation_at(accepted, at(4)) is None
    returned = apply(dispatched(), A.RETURN, AS_LEADER, at(4), note="不在本网格").task
    assert escalate(returned, FULL, at(60), new_task_id="K2") is None


def test_a_hub_that_was_down_goes_straight_to_the_step_due() -> None:
    moved = escalate(dispatched(), FULL, at(40), new_task_id="K2")
    assert moved is not None
    assert moved[1].task.assignee == "C" and moved[1].task.escalation_step == 3


def test_emergency_escalates_faster() -> None:
    task = dispatched(priority=Priority.EMERGENCY)
    assert ack_deadline(task) == at(2)
    assert escalation_target(task, FULL, at(2)).person_id == "D"
    assert escalation_target(task, FULL, at(5)).person_id == "TS"
    assert escalation_target(task, FULL, at(10)).person_id == "C"


def chain(**people: Person | None) -> ResponsibleChain:
    return ResponsibleChain(grid_id="g1", village_id="v1", township_id="t1", **people)


@pytest.mark.parametrize(
    ("people", "expected"),
    [
        # minutes 5, 15, 30 -> who should have it
        ({"leader": LEADER, "township_supervisor": TOWNSHIP, "county": COUNTY}, ["TS", "TS", "C"]),
        ({"leader": LEADER, "deputy": DEPUTY, "county": COUNTY}, ["D", "C", "C"]),
        ({"leader": LEADER, "deputy": DEPUTY, "township_supervisor": TOWNSHIP}, ["D", "TS", "TS"]),
        ({"leader": LEADER, "deputy": DEPUTY}, ["D", "D", "D"]),
        ({"leader": LEADER}, ["L", "L", "L"]),
        ({}, ["L", "L", "L"]),
        ({"county": COUNTY}, ["C", "C", "C"]),
    ],
)
def test_missing_people_are_skipped_upwards(people: dict[str, Person], expected: list[str]) -> None:
    task = dispatched()
    got = [escalation_target(task, chain(**people), at(m)).person_id for m in (5, 15, 30)]
    assert got == expected


def test_missing_people_do_not_make_extra_moves() -> None:
    no_township = chain(leader=LEADER, deputy=DEPUTY, county=COUNTY)
    moved = escalate(dispatched(), no_township, at(5), new_task_id="K2")
    assert moved is not None
    k2 = moved[1].task
    # step 2 wants the township centre, which is missing: straight on to the county
    moved = escalate(k2, no_township, at(15), new_task_id="K3")
    assert moved is not None and moved[1].task.assignee == "C"
    assert moved[1].task.escalation_step == 2
    only_deputy = chain(leader=LEADER, deputy=DEPUTY)
    k2 = escalate(dispatched(), only_deputy, at(5), new_task_id="K2")[1].task  # type: ignore[index]
    assert escalate(k2, only_deputy, at(15), new_task_id="K3") is None
    assert escalate(k2, only_deputy, at(30), new_task_id="K3") is None


def test_never_escalates_down_nor_without_a_chain() -> None:
    to_township = dispatched(to=TOWNSHIP)
    assert to_township.level is EscalationLevel.TOWNSHIP
    assert escalation_target(to_township, FULL, at(5)).person_id == "TS"
    assert escalation_target(to_township, FULL, at(15)).person_id == "TS"
    assert escalation_target(to_township, FULL, at(30)).person_id == "C"
    to_deputy = dispatched(to=DEPUTY)
    assert escalation_target(to_deputy, FULL, at(5)).person_id == "D"
    assert escalation_target(to_deputy, FULL, at(15)).person_id == "TS"
    assert escalate(dispatched(), None, at(60), new_task_id="K2") is None
    with pytest.raises(ValueError, match="new id"):
        escalate(dispatched(), FULL, at(60), new_task_id="K1")
    # dispatched to someone outside the chain: step 1 still goes to the grid's deputy
    assert escalation_target(dispatched(to=OTHER), FULL, at(5)).person_id == "D"


def test_the_assignee_is_skipped_where_it_stands_in_the_chain() -> None:
    # a grid whose deputy is another grid's leader, dispatched to that person directly
    odd = chain(leader=LEADER, deputy=OTHER, township_supervisor=TOWNSHIP)
    task = dispatched(to=OTHER)
    assert task.level is EscalationLevel.ASSIGNEE
    assert escalation_target(task, odd, at(5)).person_id == "TS"


def test_reassignment_restarts_the_ladder() -> None:
    _old, new = reassign(dispatched(), OTHER, OFFICER, at(20), new_task_id="K2")
    assert escalation_target(new.task, FULL, at(24)).person_id == "X"
    assert escalation_target(new.task, FULL, at(25)).person_id == "D"


def test_escalation_with_a_chain_from_a_site() -> None:
    site: Site = parse_site(
        {
            "name": "测试县",
            "townships": [{"id": "t1", "name": "城关镇"}],
            "villages": [{"id": "v1", "name": "东街社区", "township": "t1"}],
            "people": [p.model_dump() for p in (LEADER, DEPUTY, TOWNSHIP, COUNTY)],
            "grids": [
                {"id": "g1", "name": "第1网格", "village": "v1", "leader": "L", "deputy": "D"}
            ],
        }
    )
    site_chain = responsible_people(site, "g1")
    assert site_chain == FULL
    assert [
        escalation_target(dispatched(), site_chain, at(m)).person_id for m in (0, 5, 15, 30)
    ] == [
        "L",
        "D",
        "TS",
        "C",
    ]


def test_naive_times_are_refused_by_the_escalation_functions() -> None:
    naive = datetime(2024, 3, 5, 9, 5)
    with pytest.raises(ValueError, match="timezone-aware"):
        escalation_target(dispatched(), FULL, naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        next_escalation_at(dispatched(), naive)


# -- models -------------------------------------------------------------------------------


def test_models_are_frozen_strict_and_round_trip() -> None:
    task = in_state(S.FEEDBACK)
    assert DispatchTask.model_validate_json(task.model_dump_json()) == task
    with pytest.raises(ValidationError):
        DispatchTask.model_validate({**task.model_dump(), "colour": "red"})
    with pytest.raises(ValidationError):
        task.state = S.DONE  # type: ignore[misc]
    with pytest.raises(ValidationError):
        DispatchTask.model_validate({**task.model_dump(), "sent_at": datetime(2024, 1, 1)})
    row = changed(apply(task, A.CONFIRM, OFFICER, at(30)))
    assert TaskTransition.model_validate_json(row.model_dump_json()) == row


def test_describe_rows_for_the_timeline() -> None:
    out = new_task(
        task_id="K1", event=make_event(), recipient=LEADER, by=OFFICER, now=T0, instruction="x"
    )
    assert describe(changed(out), {"op1": "值班员刘", "L": "张建国"}) == "值班员刘 派单 → 张建国"
    acc = apply(out.task, A.RETURN, AS_LEADER, at(1), note="不在本网格")
    assert describe(changed(acc)) == "张建国 退回：不在本网格"


# -- instruction templates ----------------------------------------------------------------


@pytest.fixture(scope="module")
def templates() -> InstructionTemplates:
    return load_templates()


def test_every_default_category_has_its_own_template(templates: InstructionTemplates) -> None:
    assert set(DEFAULT_CATEGORIES) <= set(templates.templates)
    assert len(set(templates.templates.values())) == len(templates.templates)


@pytest.mark.parametrize("category", sorted(DEFAULT_CATEGORIES))
def test_render_every_category(templates: InstructionTemplates, category: str) -> None:
    event = make_event(category=category, priority=Priority.EMERGENCY)
    deadline = datetime(2024, 3, 5, 14, 30, tzinfo=SH)
    text = instruction_for(category, event, templates, place="城关镇东街12号", deadline=deadline)
    assert event.title in text and "城关镇东街12号" in text
    assert "请3月5日14:30前" in text and "特急" in text and DEFAULT_CATEGORIES[category] in text
    assert event.id in text
    assert "{" not in text and "}" not in text
    assert len(text) <= 2000
    # the result is a valid instruction for a task
    out = new_task(
        task_id="K1", event=event, recipient=LEADER, by=OFFICER, now=T0, instruction=text
    )
    assert out.task.instruction == text


def test_render_defaults_and_fallback(templates: InstructionTemplates) -> None:
    event = make_event(title="有人反映{place}被占用")
    text = instruction_for("neighbours", event, templates)
    assert "请尽快到场" in text and "城关镇东街12号" in text  # the event's own address
    assert "有人反映{place}被占用" in text  # braces in data are data, not placeholders
    bare = make_event(place=Place())
    assert "地点待核实" in instruction_for("neighbours", bare, templates)
    unknown = instruction_for("noise_at_night", event, templates)
    assert unknown.startswith("【紧急】noise_at_night：")
    other = instruction_for("other", event, templates)
    assert unknown.splitlines()[1:] == other.splitlines()[1:]


def test_format_deadline_uses_the_deadlines_own_zone() -> None:
    utc = datetime(2024, 12, 31, 16, 5, tzinfo=ZoneInfo("UTC"))
    assert format_deadline(utc) == "12月31日16:05前"
    assert format_deadline(utc.astimezone(SH)) == "1月1日00:05前"
    assert format_deadline(None) == "尽快"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[templates]\nland = "去{where}"', "unknown placeholder {where}"),
        ('[templates]\nland = "去{place!r}"', "no format or conversion"),
        ('[templates]\nland = "去{deadline:>10}"', "no format or conversion"),
        ('[templates]\nland = "去{place.__class__}"', "unknown placeholder"),
        ('[templates]\nland = "去{0}"', "unknown placeholder {0}"),
        ('[templates]\nland = "去{}"', "unknown placeholder"),
        ('[templates]\nland = "去{place"', "bad braces"),
        ('[templates]\nland = "去}"', "bad braces"),
        ('[templates]\nland = "  "', "empty template"),
        ("[templates]\nland = 3", "must be a string"),
        ("[templates]\n", "non-empty [templates]"),
        ('land = "x"', "non-empty [templates]"),
        ("[templates\n", "not valid TOML"),
    ],
)
def test_bad_templates_are_refused_with_the_place_named(text: str, message: str) -> None:
    with pytest.raises(TemplateError, match=r"my\.toml") as exc:
        parse_templates(text, "my.toml")
    assert message in str(exc.value)


def test_literal_braces_and_missing_fallback() -> None:
    tpl = parse_templates('[templates]\nland = "{{注意}} {title}"')
    assert instruction_for("land", make_event(), tpl) == "{注意} 东街12号两户因占道堆物发生争吵"
    with pytest.raises(TemplateError, match="no template for category 'wages'"):
        instruction_for("wages", make_event(), tpl)


def test_load_templates_reports_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="cannot read"):
        load_templates(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_bytes(b"\xff\xfe")
    with pytest.raises(TemplateError, match="cannot read"):
        load_templates(bad)
    good = tmp_path / "good.toml"
    good.write_text('[templates]\nother = "请{deadline}处理：{title}"\n', encoding="utf-8")
    tpl = load_templates(good)
    assert (
        instruction_for("land", make_event(), tpl) == "请尽快处理：东街12号两户因占道堆物发生争吵"
    )
