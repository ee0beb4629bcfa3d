"""The closed-loop workflow: every state × action × role, arguments, audit rows, intake."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.domain.model import Action, Actor, Event, EventIntake, EventSource, EventState, Role
from dispatch.events.core import (
    ACCEPT,
    ACTION_LABELS_ZH,
    MAX_CLOCK_SKEW_S,
    MAX_ESCALATION_LEVEL,
    MAX_EXTENSION_DAYS,
    STATE_LABELS_ZH,
    IntakeError,
    TransitionError,
    allowed_actions,
    apply,
    new_event,
)

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2025, 9, 30, 9, 0, tzinfo=SH)
NOW = T0 + timedelta(hours=2)

S = EventState
A = Action
DUTY, SUP, ADMIN, SYS = Role.DUTY_OFFICER, Role.SUPERVISOR, Role.ADMIN, Role.SYSTEM
HUMANS = frozenset({DUTY, SUP, ADMIN})
LEADS = frozenset({SUP, ADMIN})
ALWAYS = {A.ESCALATE: HUMANS | {SYS}, A.NOTE: HUMANS | {SYS}, A.REMIND: LEADS | {SYS}}


def actor(role: Role) -> Actor:
    return Actor(operator=f"op-{role.value}", role=role, workstation="席位-03")


def make_event(state: EventState, **fields: Any) -> Event:
    """An event as the workflow would leave it in `state` (fields consistent with it)."""
    data: dict[str, Any] = {
        "id": "E-1",
        "source": EventSource.GRID_REPORT,
        "category": "neighbours",
        "title": "邻里纠纷",
        "state": state,
        "reported_at": T0,
        "accepted_at": T0,
        "updated_at": T0,
        "version": 5,
    }
    if state in (S.ROUTED, S.HANDLING, S.FEEDBACK, S.ARCHIVED):
        data |= {"assignee": "城关镇司法所", "routed_at": T0}
    if state in (S.FEEDBACK, S.ARCHIVED):
        data["resolved_at"] = T0
    if state is S.ARCHIVED:
        data |= {"archived_at": T0, "verified": True, "called_back": True}
    data.update(fields)
    return Event(**data)


# What the rules say, written out independently of the implementation's tables:
# situation -> {action: roles allowed}. Everything not listed is forbidden.
Spec = dict[Action, frozenset[Role]]
SITUATIONS: dict[str, tuple[Callable[[], Event], Spec]] = {
    "accepted": (lambda: make_event(S.ACCEPTED), {A.REGISTER: HUMANS, **ALWAYS}),
    "registered": (lambda: make_event(S.REGISTERED), {A.ROUTE: HUMANS, **ALWAYS}),
    "routed": (
        lambda: make_event(S.ROUTED),
        {A.START_HANDLING: HUMANS, A.RETURN: HUMANS, A.REQUEST_EXTENSION: HUMANS, **ALWAYS},
    ),
    "routed, extension pending": (
        lambda: make_event(S.ROUTED, extension_requested=True, extension_requested_days=2),
        {A.START_HANDLING: HUMANS, A.RETURN: HUMANS, A.GRANT_EXTENSION: LEADS, **ALWAYS},
    ),
    "handling": (
        lambda: make_event(S.HANDLING),
        {A.FEEDBACK: HUMANS, A.RETURN: HUMANS, A.REQUEST_EXTENSION: HUMANS, **ALWAYS},
    ),
    "handling, extension pending": (
        lambda: make_event(S.HANDLING, extension_requested=True, extension_requested_days=3),
        {A.FEEDBACK: HUMANS, A.RETURN: HUMANS, A.GRANT_EXTENSION: LEADS, **ALWAYS},
    ),
    "feedback": (
        lambda: make_event(S.FEEDBACK),
        {A.VERIFY: HUMANS, A.CALL_BACK: HUMANS, A.ARCHIVE: LEADS, **ALWAYS},
    ),
    "feedback, verified": (
        lambda: make_event(S.FEEDBACK, verified=True),
        {A.CALL_BACK: HUMANS, A.ARCHIVE: LEADS, **ALWAYS},
    ),
    "feedback, called back": (
        lambda: make_event(S.FEEDBACK, called_back=True),
        {A.VERIFY: HUMANS, A.ARCHIVE: LEADS, **ALWAYS},
    ),
    "feedback, verified and called back": (
        lambda: make_event(S.FEEDBACK, verified=True, called_back=True),
        {A.ARCHIVE: HUMANS, **ALWAYS},
    ),
    "handling, top escalation": (
        lambda: make_event(S.HANDLING, escalation_level=MAX_ESCALATION_LEVEL),
        {
            A.FEEDBACK: HUMANS,
            A.RETURN: HUMANS,
            A.REQUEST_EXTENSION: HUMANS,
            A.NOTE: HUMANS | {SYS},
            A.REMIND: LEADS | {SYS},
        },
    ),
    "archived": (lambda: make_event(S.ARCHIVED), {}),
}

TARGET = {
    A.REGISTER: S.REGISTERED,
    A.ROUTE: S.ROUTED,
    A.START_HANDLING: S.HANDLING,
    A.FEEDBACK: S.FEEDBACK,
    A.ARCHIVE: S.ARCHIVED,
    A.RETURN: S.REGISTERED,
}

VALID_ARGS: dict[Action, dict[str, Any]] = {
    A.ROUTE: {"assignee": "城关镇综治办"},
    A.RETURN: {"note": "不属于本单位职责"},
    A.NOTE: {"note": "当事人已到场"},
    A.REQUEST_EXTENSION: {"note": "需协调国土部门", "extension_days": 2},
    A.GRANT_EXTENSION: {"note": "同意"},
}

CASES = [
    pytest.param(name, action, role, id=f"{name}-{action.value}-{role.value}")
    for name in SITUATIONS
    for action in Action
    for role in Role
]


@pytest.mark.parametrize(("situation", "action", "role"), CASES)
def test_transition_matrix(situation: str, action: Action, role: Role) -> None:
    build, spec = SITUATIONS[situation]
    event = build()
    allowed = role in spec.get(action, frozenset())
    assert (action in allowed_actions(event, role)) is allowed
    if allowed:
        tr = apply(event, action, actor(role), NOW, **VALID_ARGS.get(action, {}))
        expected_state = TARGET.get(action, event.state)
        assert tr.event.state is expected_state
        assert tr.event.version == event.version + 1
        assert tr.event.updated_at == NOW
        assert tr.audit.event_id == event.id
        assert (tr.audit.from_state, tr.audit.to_state) == (event.state, expected_state)
        assert (tr.audit.operator, tr.audit.role, tr.audit.workstation, tr.audit.at) == (
            f"op-{role.value}",
            role,
            "席位-03",
            NOW,
        )
        assert tr.audit.action == action
        assert event == build(), "apply must not change its input"
    else:
        with pytest.raises(TransitionError) as info:
            apply(event, action, actor(role), NOW, **VALID_ARGS.get(action, {}))
        err = info.value
        assert (err.state, err.action, err.role) == (event.state, action, role)
        assert err.code in {
            "state",
            "role",
            "verification_required",
            "no_extension_requested",
            "extension_pending",
            "already_verified",
            "already_called_back",
            "max_escalation",
        }
        assert_names_state_and_action(err, event.state, action)


def assert_names_state_and_action(err: TransitionError, state: EventState, action: Action) -> None:
    assert err.message_en.startswith(f"cannot {action.value} an event in state {state.value}")
    zh = f"事件处于“{STATE_LABELS_ZH[state]}”状态时不能“{ACTION_LABELS_ZH[action]}”"
    assert err.message_zh.startswith(zh)
    assert str(err) == f"{err.message_zh} / {err.message_en}"


def test_matrix_covers_every_state() -> None:
    states = {build().state for build, _ in SITUATIONS.values()}
    assert states == set(EventState)


def test_error_codes_distinguish_state_from_role() -> None:
    with pytest.raises(TransitionError) as info:
        apply(make_event(S.ACCEPTED), A.ARCHIVE, actor(SUP), NOW)
    assert info.value.code == "state"
    assert info.value.message("en") == "cannot archive an event in state accepted"
    assert info.value.message() == "事件处于“已受理”状态时不能“归档”"
    with pytest.raises(TransitionError) as info:
        apply(make_event(S.ROUTED, extension_requested=True), A.GRANT_EXTENSION, actor(DUTY), NOW)
    assert info.value.code == "role"
    assert info.value.message_en == (
        "cannot grant_extension an event in state routed: the duty_officer role may not"
    )
    assert info.value.message_zh == "事件处于“已分流”状态时不能“批准延期”：值班员无此权限"


@pytest.mark.parametrize(
    ("flags", "missing_zh", "missing_en"),
    [
        ({}, ["核查", "回访"], ["verification", "call-back"]),
        ({"verified": True}, ["回访"], ["call-back"]),
        ({"called_back": True}, ["核查"], ["verification"]),
    ],
)
def test_duty_officer_archives_only_after_verification_and_call_back(
    flags: dict[str, bool], missing_zh: list[str], missing_en: list[str]
) -> None:
    event = make_event(S.FEEDBACK, **flags)
    with pytest.raises(TransitionError) as info:
        apply(event, A.ARCHIVE, actor(DUTY), NOW)
    assert info.value.code == "verification_required"
    for word in missing_zh:
        assert word in info.value.message_zh
    for word in missing_en:
        assert word in info.value.message_en
    done = apply(event, A.ARCHIVE, actor(SUP), NOW).event
    assert done.state is S.ARCHIVED and done.archived_at == NOW


@pytest.mark.parametrize("action", [A.RETURN, A.NOTE, A.REQUEST_EXTENSION])
@pytest.mark.parametrize("note", ["", "   ", "\n\t"])
def test_reason_required(action: Action, note: str) -> None:
    state = S.HANDLING
    args = {**VALID_ARGS[action], "note": note}
    with pytest.raises(TransitionError) as info:
        apply(make_event(state), action, actor(DUTY), NOW, **args)
    assert info.value.code == "reason_required"
    assert_names_state_and_action(info.value, state, action)


@pytest.mark.parametrize(
    ("assignee", "code"),
    [
        (None, "assignee_required"),
        ("", "assignee_required"),
        ("   ", "assignee_required"),
        ("x" * 65, "bad_assignee"),
        ("城关\n派出所", "bad_assignee"),
    ],
)
def test_route_requires_a_proper_assignee(assignee: str | None, code: str) -> None:
    with pytest.raises(TransitionError) as info:
        apply(make_event(S.REGISTERED), A.ROUTE, actor(DUTY), NOW, assignee=assignee)
    assert info.value.code == code
    assert_names_state_and_action(info.value, S.REGISTERED, A.ROUTE)


def test_route_sets_assignee_and_starts_the_clock() -> None:
    tr = apply(make_event(S.REGISTERED), A.ROUTE, actor(DUTY), NOW, assignee="  城关派出所 ")
    assert tr.event.assignee == "城关派出所"
    assert tr.event.routed_at == NOW
    assert tr.audit.note == "→ 城关派出所"
    tr = apply(make_event(S.REGISTERED), A.ROUTE, actor(DUTY), NOW, assignee="A", note="急")
    assert tr.audit.note == "→ A | 急"


@pytest.mark.parametrize(
    ("action", "kwargs"),
    [
        (A.START_HANDLING, {"assignee": "someone"}),
        (A.START_HANDLING, {"extension_days": 2}),
        (A.ROUTE, {"assignee": "A", "extension_days": 1}),
    ],
)
def test_arguments_an_action_does_not_take_are_refused(
    action: Action, kwargs: dict[str, Any]
) -> None:
    state = S.REGISTERED if action is A.ROUTE else S.ROUTED
    with pytest.raises(TransitionError) as info:
        apply(make_event(state), action, actor(DUTY), NOW, **kwargs)
    assert info.value.code == "unexpected_argument"


@pytest.mark.parametrize("days", [0, -1, MAX_EXTENSION_DAYS + 1])
def test_extension_request_days_are_bounded(days: int) -> None:
    with pytest.raises(TransitionError) as info:
        apply(
            make_event(S.HANDLING),
            A.REQUEST_EXTENSION,
            actor(DUTY),
            NOW,
            note="原因",
            extension_days=days,
        )
    assert info.value.code == "bad_extension_days"


def test_extension_request_and_grant_accumulate() -> None:
    ev = make_event(S.HANDLING)
    ev = apply(ev, A.REQUEST_EXTENSION, actor(DUTY), NOW, note="需鉴定", extension_days=2).event
    assert (ev.extension_requested, ev.extension_requested_days, ev.extension_days) == (True, 2, 0)
    tr = apply(ev, A.GRANT_EXTENSION, actor(SUP), NOW)  # 0: the requested days
    assert tr.audit.note == "+2"
    ev = tr.event
    assert (ev.extension_requested, ev.extension_requested_days, ev.extension_days) == (False, 0, 2)
    ev = apply(ev, A.REQUEST_EXTENSION, actor(DUTY), NOW, note="再延", extension_days=5).event
    ev = apply(ev, A.GRANT_EXTENSION, actor(ADMIN), NOW, extension_days=3, note="只批3天").event
    assert ev.extension_days == 5
    with pytest.raises(TransitionError) as info:
        apply(ev, A.GRANT_EXTENSION, actor(SUP), NOW, extension_days=1)
    assert info.value.code == "no_extension_requested"


def test_return_goes_back_for_rerouting_and_resets_the_clock() -> None:
    ev = make_event(S.HANDLING, extension_days=2, extension_requested=True)
    tr = apply(ev, A.RETURN, actor(DUTY), NOW, note="  不属于本单位职责 ")
    assert tr.event.state is S.REGISTERED
    assert tr.event.assignee is None and tr.event.routed_at is None
    assert tr.event.returned_at == NOW
    assert (tr.event.extension_days, tr.event.extension_requested) == (0, False)
    assert tr.audit.note == "城关镇司法所 ← | 不属于本单位职责"
    later = NOW + timedelta(minutes=20)
    again = apply(tr.event, A.ROUTE, actor(DUTY), later, assignee="城关镇国土所").event
    assert (again.state, again.assignee, again.routed_at) == (S.ROUTED, "城关镇国土所", later)


def test_escalate_raises_the_level_up_to_the_top() -> None:
    ev = make_event(S.ACCEPTED)
    for level in range(1, MAX_ESCALATION_LEVEL + 1):
        tr = apply(ev, A.ESCALATE, actor(SYS), NOW)
        ev = tr.event
        assert ev.escalation_level == level
        assert tr.audit.note == f"↑ {level}"
    with pytest.raises(TransitionError) as info:
        apply(ev, A.ESCALATE, actor(SUP), NOW, note="再升")
    assert info.value.code == "max_escalation"


def test_remind_counts_and_stamps() -> None:
    ev = make_event(S.ROUTED)
    ev = apply(ev, A.REMIND, actor(SYS), NOW, note="已超期").event
    later = NOW + timedelta(days=1)
    tr = apply(ev, A.REMIND, actor(SYS), later)
    assert (tr.event.reminders, tr.event.last_reminder_at) == (2, later)
    assert tr.audit.note == "#2"


def test_verify_and_call_back_only_once() -> None:
    ev = apply(make_event(S.FEEDBACK), A.VERIFY, actor(DUTY), NOW, note="现场已恢复").event
    assert ev.verified and ev.state is S.FEEDBACK
    with pytest.raises(TransitionError) as info:
        apply(ev, A.VERIFY, actor(SUP), NOW)
    assert info.value.code == "already_verified"
    ev = apply(ev, A.CALL_BACK, actor(DUTY), NOW, note="群众满意").event
    with pytest.raises(TransitionError) as info:
        apply(ev, A.CALL_BACK, actor(DUTY), NOW)
    assert info.value.code == "already_called_back"
    assert apply(ev, A.ARCHIVE, actor(DUTY), NOW).event.state is S.ARCHIVED


@pytest.mark.parametrize("note", ["x" * 2001, "bell\x07", "nul\x00"])
def test_bad_notes_are_refused(note: str) -> None:
    with pytest.raises(TransitionError) as info:
        apply(make_event(S.ACCEPTED), A.NOTE, actor(DUTY), NOW, note=note)
    assert info.value.code == "bad_note"


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        apply(make_event(S.ACCEPTED), A.REGISTER, actor(DUTY), datetime(2025, 1, 1, 9))


def intake(**changes: Any) -> EventIntake:
    data: dict[str, Any] = {
        "source": "grid_report",
        "source_ref": "GR-77",
        "category": "wages",
        "title": "  欠薪讨要  ",
        "multi_department": True,
        "photos": ["https://img.example.cn/1.jpg"],
    }
    data.update(changes)
    return EventIntake.model_validate(data)


def test_new_event_is_accepted_with_one_audit_row() -> None:
    ev, audit = new_event(intake(), event_id="E-20250930-0001", now=NOW)
    assert (ev.id, ev.state, ev.version) == ("E-20250930-0001", S.ACCEPTED, 1)
    assert (ev.accepted_at, ev.updated_at, ev.reported_at) == (NOW, NOW, NOW)
    assert (ev.title, ev.category, ev.multi_department) == ("欠薪讨要", "wages", True)
    assert ev.photos == ("https://img.example.cn/1.jpg",)
    assert audit.action == ACCEPT
    assert (audit.from_state, audit.to_state, audit.at) == (None, S.ACCEPTED, NOW)
    assert (audit.role, audit.note) == (Role.SYSTEM, "grid_report GR-77")
    desk = Actor(operator="王值班", role=DUTY, workstation="接待台")
    _, walk_in = new_event(intake(source="walk_in"), event_id="E-2", now=NOW, actor=desk)
    assert (walk_in.operator, walk_in.workstation) == ("王值班", "接待台")


def test_new_event_keeps_reported_at_and_allows_small_skew() -> None:
    earlier = NOW - timedelta(hours=3)
    ev, _ = new_event(intake(reported_at=earlier), event_id="E-1", now=NOW)
    assert ev.reported_at == earlier
    skewed = NOW + timedelta(seconds=MAX_CLOCK_SKEW_S)
    assert new_event(intake(reported_at=skewed), event_id="E-1", now=NOW)[0].reported_at == skewed


def test_new_event_refuses_a_report_from_the_future() -> None:
    future = NOW + timedelta(seconds=MAX_CLOCK_SKEW_S + 1)
    with pytest.raises(IntakeError) as info:
        new_event(intake(reported_at=future), event_id="E-1", now=NOW)
    assert info.value.field == "reported_at"
    assert "future" in str(info.value)


@pytest.mark.parametrize("event_id", ["", "x" * 65, "E\n1"])
def test_new_event_refuses_bad_ids(event_id: str) -> None:
    with pytest.raises(ValueError, match="bad event id"):
        new_event(intake(), event_id=event_id, now=NOW)


def test_the_whole_loop_leaves_a_consistent_timeline() -> None:
    ev, first = new_event(intake(), event_id="E-9", now=T0)
    audit = [first]
    steps: list[tuple[Action, Role, dict[str, Any]]] = [
        (A.REGISTER, DUTY, {}),
        (A.ROUTE, DUTY, {"assignee": "县人社局"}),
        (A.RETURN, DUTY, {"note": "应由乡镇先行调处"}),
        (A.ROUTE, SUP, {"assignee": "城关镇劳动保障所"}),
        (A.START_HANDLING, DUTY, {}),
        (A.REQUEST_EXTENSION, DUTY, {"note": "需核实工时", "extension_days": 2}),
        (A.GRANT_EXTENSION, SUP, {}),
        (A.REMIND, SYS, {}),
        (A.FEEDBACK, DUTY, {"note": "已支付工资"}),
        (A.VERIFY, DUTY, {"note": "现场核查属实"}),
        (A.CALL_BACK, DUTY, {"note": "当事人满意"}),
        (A.ARCHIVE, DUTY, {}),
    ]
    for i, (action, role, kwargs) in enumerate(steps, start=1):
        tr = apply(ev, action, actor(role), T0 + timedelta(minutes=i), **kwargs)
        ev = tr.event
        audit.append(tr.audit)
    assert ev.state is S.ARCHIVED
    assert ev.version == len(audit)
    assert ev.updated_at == T0 + timedelta(minutes=len(steps))
    for before, after in itertools.pairwise(audit):
        assert after.from_state == before.to_state
        assert after.at > before.at
    assert [a.action for a in audit] == [ACCEPT, *(s[0] for s in steps)]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.sampled_from(list(Role))), max_size=40))
def test_random_walks_keep_the_event_consistent(picks: list[tuple[int, Role]]) -> None:
    ev, _ = new_event(intake(), event_id="E-H", now=T0)
    now = T0
    for pick, role in picks:
        options = allowed_actions(ev, role)
        if not options:
            continue
        action = options[pick % len(options)]
        kwargs = dict(VALID_ARGS.get(action, {}))
        if action is A.GRANT_EXTENSION:
            kwargs["extension_days"] = 1 + pick % 3
        now += timedelta(minutes=7)
        tr = apply(ev, action, actor(role), now, **kwargs)
        assert tr.event.version == ev.version + 1
        assert tr.audit.from_state == ev.state and tr.audit.to_state == tr.event.state
        ev = tr.event
        routed = ev.state in (S.ROUTED, S.HANDLING, S.FEEDBACK, S.ARCHIVED)
        assert (ev.assignee is not None) is routed
        assert (ev.routed_at is not None) is routed
        assert (ev.resolved_at is not None) is (ev.state in (S.FEEDBACK, S.ARCHIVED))
        assert ev.extension_requested is (ev.extension_requested_days > 0)
        assert 0 <= ev.escalation_level <= MAX_ESCALATION_LEVEL
        if ev.state is S.ARCHIVED:
            assert allowed_actions(ev, role) == []
