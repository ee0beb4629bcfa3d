"""The event queue's Qt-free model: sorting, filters, search, countdowns, alarms, actions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from console.events.actions import ActionRequest, operator_actions, validate_request
from console.events.format import format_clock, format_countdown, format_duration
from console.events.model import Change, ConnKind, EventQueueModel, Filters, Session
from console.events.strings import EN, ZH, key_sets, normalise_language, tr
from dispatch.domain.model import Action, Colour, EventSource, EventState, Role
from dispatch.events.core import allowed_actions
from tests.kit import FakeClock
from tests.unit.console.events.test_event_queue_support import T0, audit, deadline_in, make_event

DUTY = Session("zhang", Role.DUTY_OFFICER, "ws1")
SUPER = Session("li", Role.SUPERVISOR, "ws2")


def new_model(clock: FakeClock, hours: dict[str, float] | None = None) -> EventQueueModel:
    return EventQueueModel(
        clock=clock,
        deadline_fn=deadline_in(hours or {}),
        allowed_fn=allowed_actions,
        township_names={"t01": "城关镇", "t02": "河西乡", "t03": "青山镇"},
    )


def ids(model: EventQueueModel) -> list[str]:
    return [r.event.id for r in model.visible()]


# ---------------------------------------------------------------- sorting


def test_sorted_red_then_yellow_then_green_each_by_deadline() -> None:
    clock = FakeClock()
    m = new_model(clock, {"g1": 5, "g2": 1, "y1": 9, "y2": 3, "r1": -1, "r2": -5})
    m.apply_changes(
        [
            Change(1, make_event("g1"), Colour.GREEN),
            Change(2, make_event("y1"), Colour.YELLOW),
            Change(3, make_event("r1"), Colour.RED),
            Change(4, make_event("g2"), Colour.GREEN),
            Change(5, make_event("nodl"), Colour.GREEN),
            Change(6, make_event("y2"), Colour.YELLOW),
            Change(7, make_event("r2"), Colour.RED),
        ]
    )
    assert ids(m) == ["r2", "r1", "y2", "y1", "g2", "g1", "nodl"]


def test_colour_change_moves_the_row_and_older_changes_are_ignored() -> None:
    clock = FakeClock()
    m = new_model(clock, {"a": 1, "b": 2})
    m.apply_changes(
        [Change(1, make_event("a"), Colour.GREEN), Change(2, make_event("b"), Colour.GREEN)]
    )
    assert ids(m) == ["a", "b"]
    # the hub's timer turns b red (same version, higher seq)
    m.apply_changes([Change(3, make_event("b"), Colour.RED)])
    assert ids(m) == ["b", "a"]
    # a stale copy of b (lower seq, same version) must not undo it
    m.apply_changes([Change(2, make_event("b"), Colour.GREEN)])
    assert m.row("b") is not None and m.row("b").colour is Colour.RED  # type: ignore[union-attr]
    # a newer version always wins, an older one never
    m.apply_changes(
        [Change(9, make_event("a", version=3, state=EventState.REGISTERED), Colour.GREEN)]
    )
    m.apply_changes([Change(10, make_event("a", version=2), Colour.GREEN)])
    row = m.row("a")
    assert row is not None and row.event.version == 3 and row.event.state is EventState.REGISTERED
    assert m.last_seq == 10


# ---------------------------------------------------------------- filters and search


def _fill(m: EventQueueModel) -> None:
    m.apply_changes(
        [
            Change(
                1,
                make_event("e1", title="欠薪讨要", category="wages", township="t01"),
                Colour.GREEN,
            ),
            Change(
                2,
                make_event(
                    "e2",
                    title="河道排污",
                    category="environment",
                    township="t02",
                    source=EventSource.HOTLINE_12345,
                    description="化工厂夜间偷排",
                    phone="13812345678",
                ),
                Colour.YELLOW,
            ),
            Change(
                3,
                make_event(
                    "e3",
                    title="宅基地边界",
                    category="land",
                    township="t03",
                    state=EventState.ROUTED,
                ),
                Colour.RED,
            ),
            Change(
                4,
                make_event(
                    "e4", title="已办结的物业纠纷", category="property", state=EventState.ARCHIVED
                ),
                Colour.GREEN,
            ),
        ]
    )


def test_default_filter_shows_open_events_only() -> None:
    m = new_model(FakeClock())
    _fill(m)
    assert sorted(ids(m)) == ["e1", "e2", "e3"]
    assert m.total() == 4


def test_filters_by_state_source_category_and_township() -> None:
    m = new_model(FakeClock())
    _fill(m)
    m.set_filters(Filters(states=frozenset({EventState.ARCHIVED})))
    assert ids(m) == ["e4"]
    m.set_filters(Filters(sources=frozenset({EventSource.HOTLINE_12345})))
    assert ids(m) == ["e2"]
    m.set_filters(Filters(categories=frozenset({"land", "wages"})))
    assert sorted(ids(m)) == ["e1", "e3"]
    m.set_filters(Filters(townships=frozenset({"t03"})))
    assert ids(m) == ["e3"]
    m.set_filters(Filters(townships=frozenset({"t01"}), categories=frozenset({"land"})))
    assert ids(m) == []


def test_search_matches_all_terms_in_text_and_township_names_but_not_phone_numbers() -> None:
    m = new_model(FakeClock())
    _fill(m)
    m.set_search("偷排")
    assert ids(m) == ["e2"]
    m.set_search("河西乡 排污")  # township name + title
    assert ids(m) == ["e2"]
    m.set_search("河西乡 欠薪")
    assert ids(m) == []
    m.set_search("E3")  # ids, case-insensitive
    assert ids(m) == ["e3"]
    m.set_search("13812345678")
    assert ids(m) == []
    m.set_search("  ")
    assert len(ids(m)) == 3


def test_filter_change_notifies_once_and_same_filter_not_at_all() -> None:
    m = new_model(FakeClock())
    calls: list[None] = []
    m.rows_changed.connect(calls.append)
    m.set_search("x")
    m.set_search("x")
    assert len(calls) == 1


# ---------------------------------------------------------------- countdown


def test_countdown_follows_the_clock_and_goes_negative_when_overdue() -> None:
    clock = FakeClock()
    m = new_model(clock, {"a": 1})
    m.apply_changes(
        [Change(1, make_event("a"), Colour.GREEN), Change(2, make_event("b"), Colour.GREEN)]
    )
    assert m.countdown("a") == timedelta(hours=1)
    clock.advance(minutes=59, seconds=30)
    assert m.countdown("a") == timedelta(seconds=30)
    assert format_countdown(m.countdown("a"), ZH) == "剩余 00:00:30"
    clock.advance(seconds=95)
    assert format_countdown(m.countdown("a"), ZH) == "超时 00:01:05"
    assert format_countdown(m.countdown("a"), EN) == "00:01:05 overdue"
    assert m.countdown("b") is None and format_countdown(None, ZH) == "—"
    assert m.countdown("unknown") is None


def test_duration_with_days_and_clock_in_beijing_time() -> None:
    assert format_duration(timedelta(days=2, hours=3, minutes=4, seconds=5), ZH) == "2天 03:04:05"
    assert format_duration(-timedelta(seconds=59.9), ZH) == "00:00:59"
    assert format_clock(T0) == "09:00:00"  # 01:00 UTC


# ---------------------------------------------------------------- red alarms


def test_new_red_event_raises_an_alarm_until_acknowledged() -> None:
    clock = FakeClock()
    m = new_model(clock)
    seen: list[list[str]] = []
    m.alarms_changed.connect(seen.append)
    m.apply_changes(
        [Change(1, make_event("a"), Colour.GREEN), Change(2, make_event("b"), Colour.RED)]
    )
    assert m.unacknowledged() == ["b"]
    m.apply_changes([Change(3, make_event("a"), Colour.RED)])  # turned red
    assert m.unacknowledged() == ["a", "b"]  # newest first
    m.apply_changes([Change(4, make_event("a", version=2), Colour.RED)])  # still red: no new alarm
    assert m.unacknowledged() == ["a", "b"]
    assert m.acknowledge("a") == ["a"]
    assert m.unacknowledged() == ["b"]
    assert m.acknowledge("a") == []
    m.apply_changes([Change(5, make_event("a", version=3), Colour.RED)])
    assert m.unacknowledged() == ["b"]  # acknowledged red staying red stays quiet
    assert m.acknowledge() == ["b"]
    assert m.unacknowledged() == []
    assert seen == [["b"], ["a", "b"], ["b"], []]


def test_alarm_clears_itself_when_the_event_is_no_longer_red_and_archived_never_alarms() -> None:
    m = new_model(FakeClock())
    m.apply_changes([Change(1, make_event("a"), Colour.RED)])
    m.apply_changes([Change(2, make_event("a", version=2), Colour.YELLOW)])  # extension granted
    assert m.unacknowledged() == []
    m.apply_changes([Change(3, make_event("z", state=EventState.ARCHIVED), Colour.RED)])
    assert m.unacknowledged() == []


# ---------------------------------------------------------------- actions by role (the core's)


def test_allowed_actions_depend_on_role_and_state() -> None:
    m = new_model(FakeClock())
    fb = make_event("fb", state=EventState.FEEDBACK, verified=False, called_back=False)
    ext = make_event("ext", state=EventState.HANDLING, extension_requested=True)
    m.apply_changes([Change(1, fb, Colour.GREEN), Change(2, ext, Colour.YELLOW)])
    assert m.allowed_actions("fb") == []  # nobody logged in
    m.set_session(DUTY)
    duty_fb = m.allowed_actions("fb")
    assert Action.ARCHIVE not in duty_fb and Action.VERIFY in duty_fb
    assert Action.GRANT_EXTENSION not in m.allowed_actions("ext")
    assert Action.REMIND not in m.allowed_actions("ext")  # the hub's timers only
    m.set_session(SUPER)
    assert Action.ARCHIVE in m.allowed_actions("fb")
    assert Action.GRANT_EXTENSION in m.allowed_actions("ext")
    # what the console offers is exactly the core's list minus the system-only actions
    for role in (Role.DUTY_OFFICER, Role.SUPERVISOR, Role.ADMIN):
        m.set_session(Session("x", role, "ws"))
        for e in (fb, ext):
            assert m.allowed_actions(e.id) == operator_actions(allowed_actions(e, role))


def test_action_requests_are_checked_before_sending() -> None:
    assert "note" in validate_request(ActionRequest("a", Action.RETURN, note="  "))
    assert validate_request(ActionRequest("a", Action.RETURN, note="地址不在本乡镇")) == {}
    assert "assignee" in validate_request(ActionRequest("a", Action.ROUTE))
    assert "extension_days" in validate_request(
        ActionRequest("a", Action.REQUEST_EXTENSION, note="需要协调", extension_days=0)
    )
    assert validate_request(ActionRequest("a", Action.GRANT_EXTENSION)) == {}
    assert "extension_days" in validate_request(
        ActionRequest("a", Action.REGISTER, extension_days=2)
    )
    with pytest.raises(KeyError, match="remind"):
        validate_request(ActionRequest("a", Action.REMIND))


# ---------------------------------------------------------------- timeline, connection, selection


def test_timeline_takes_new_audit_rows_only_once_loaded_and_without_duplicates() -> None:
    clock = FakeClock()
    m = new_model(clock)
    r1 = audit("a", "accept", T0)
    r2 = audit("a", "register", T0 + timedelta(minutes=5))
    r3 = audit("a", "note", T0 + timedelta(minutes=9), "电话联系")
    m.apply_changes([Change(1, make_event("a"), Colour.GREEN, (r1,))])
    assert m.timeline("a") is None
    m.set_timeline("a", [r1])
    m.apply_changes([Change(2, make_event("a", version=2), Colour.GREEN, (r2,))])
    m.apply_changes([Change(3, make_event("a", version=3), Colour.GREEN, (r3, r2))])
    assert m.timeline("a") == [r1, r2, r3]
    m.set_timeline("a", [r1, r2])  # a refetch that races with a change keeps both
    assert m.timeline("a") == [r1, r2, r3]


def test_connection_lost_keeps_rows_and_remembers_when() -> None:
    clock = FakeClock()
    m = new_model(clock)
    m.set_connection(ConnKind.CONNECTED)
    m.apply_changes([Change(1, make_event("a"), Colour.GREEN)])
    assert not m.stale
    clock.advance(minutes=3)
    m.set_connection(ConnKind.LOST)
    assert m.stale and m.data_as_of() == T0 + timedelta(minutes=3)
    assert ids(m) == ["a"]
    m.set_connection(ConnKind.CONNECTED)
    assert not m.stale and m.connection.since is None


def test_select_unknown_event_is_refused_and_selection_follows_changes() -> None:
    m = new_model(FakeClock())
    m.apply_changes([Change(1, make_event("a"), Colour.GREEN)])
    with pytest.raises(KeyError, match="nope"):
        m.select("nope")
    seen: list[str | None] = []
    m.selection_changed.connect(seen.append)
    m.select("a")
    m.apply_changes([Change(2, make_event("a", version=2), Colour.YELLOW)])
    assert seen == ["a", "a"]
    assert m.apply_event(make_event("a", version=3)) is True
    assert m.apply_event(make_event("a", version=3)) is False
    row = m.row("a")
    assert row is not None and row.colour is Colour.YELLOW and row.event.version == 3


# ---------------------------------------------------------------- strings


def test_string_tables_agree_and_languages_normalise() -> None:
    zh, en = key_sets()
    assert zh == en
    assert normalise_language("en_US") == EN
    assert normalise_language("zh-CN") == ZH and normalise_language(None) == ZH
    assert tr("banner.lost", ZH, time="10:00:00").startswith("与指挥中心服务连接中断")
    with pytest.raises(KeyError, match=r"no\.such"):
        tr("no.such", ZH)


def test_events_closed_while_away_are_dropped_after_a_resync() -> None:
    m = new_model(FakeClock())
    m.apply_changes(
        [
            Change(1, make_event("a"), Colour.RED),
            Change(2, make_event("b"), Colour.GREEN),
            Change(3, make_event("c", state=EventState.ARCHIVED), Colour.GREEN),
        ]
    )
    m.select("a")
    assert m.forget_missing({"b"}) == ["a"]
    assert m.row("a") is None and m.row("c") is not None  # closed ones stay for the filter
    assert m.selected_id is None and m.unacknowledged() == []
    assert m.forget_missing({"b"}) == []
