"""The meetings' pure rules: the plan's checks, the status steps, the record derived
from the log (joined, absent, present, speakers, hands, duration), the floor's mutes,
the console's status line."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from dispatch.domain.calendar import CHINA_TZ
from dispatch.meetings import core as mc
from dispatch.rollcall.core import Centre

T0 = datetime(2026, 12, 2, 9, 0, tzinfo=CHINA_TZ)
ROSTER = [
    Centre("t1", "城关镇", "township", "t1", "城关镇"),
    Centre("t1v1", "王家庄村", "village", "t1", "城关镇"),
    Centre("t2", "河西镇", "township", "t2", "河西镇"),
]


def plan(**kw: object) -> mc.Plan:
    base: dict[str, object] = {
        "title": " 周例会 ",
        "convenor": "duty",
        "invited": ("t1", "t1v1", "t2"),
        "start_at": T0 + timedelta(minutes=10),
        "agenda": "一、安全生产",
    }
    base.update(kw)
    return mc.Plan(**base)  # type: ignore[arg-type]


def test_a_good_plan_is_trimmed() -> None:
    assert mc.validate_plan(plan(), ROSTER, T0).title == "周例会"


@pytest.mark.parametrize(
    ("kw", "text"),
    [
        ({"title": "  "}, "会议名称不能为空"),
        ({"title": "x" * 101}, "会议名称超过"),
        ({"invited": ()}, "至少邀请"),
        ({"invited": ("t1", "t1")}, "重复"),
        ({"invited": ("t1", "nowhere")}, "未知的中心 'nowhere'"),
        ({"start_at": T0 - timedelta(hours=2)}, "开始时间已过"),
        ({"start_at": datetime(2026, 12, 2, 9, 10)}, "带时区"),
        ({"agenda": "x" * (mc.MAX_AGENDA + 1)}, "议程"),
    ],
)
def test_a_bad_plan_says_what_is_wrong(kw: dict[str, object], text: str) -> None:
    with pytest.raises(mc.MeetingError, match=text):
        mc.validate_plan(plan(**kw), ROSTER, T0)


def test_status_steps() -> None:
    m = mc.new_meeting("m1", mc.validate_plan(plan(), ROSTER, T0), T0)
    assert m.status == "planned"
    with pytest.raises(mc.MeetingError, match="不能散会"):
        mc.advance(m, "ended", T0)
    o = mc.advance(m, "open", T0)
    assert o.opened_at == T0
    with pytest.raises(mc.MeetingError, match="不能取消"):
        mc.advance(o, "cancelled", T0)
    e = mc.advance(mc.give_floor(o, "t1"), "ended", T0 + timedelta(minutes=30))
    assert e.floor is None and mc.duration_s(e, T0 + timedelta(days=1)) == 1800
    with pytest.raises(mc.MeetingError):
        mc.advance(e, "open", T0)
    assert mc.advance(m, "cancelled", T0).status == "cancelled"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_attendance_from_the_log() -> None:
    m = mc.advance(mc.new_meeting("m1", plan(), T0), "open", at(0))
    log = [
        mc.LogEntry(at(1), "join", "t1"),
        mc.LogEntry(at(2), "join", "t2"),
        mc.LogEntry(at(3), "hand", "t2"),
        mc.LogEntry(at(3.5), "hand", "t2"),  # twice up is one hand
        mc.LogEntry(at(4), "floor", "t1"),
        mc.LogEntry(at(5), "leave", "t1"),
        mc.LogEntry(at(6), "join", "t1"),  # back: first join kept
        mc.LogEntry(at(7), "floor", "t2"),
    ]
    att = mc.attendance(m, log, at(10))
    assert att.joined == {"t1": at(1), "t2": at(2)}
    assert att.absent == ("t1v1",)
    assert att.present == ("t2", "t1")
    assert att.speakers == ("t1", "t2")
    assert att.hands == ()  # t2's hand was answered by the floor
    assert att.duration_s == 600
    ended = mc.advance(m, "ended", at(20))
    done = mc.attendance(ended, log, at(99))
    assert done.present == () and done.duration_s == 1200 and done.absent == ("t1v1",)


def test_removed_and_locked_centres_may_not_join() -> None:
    m = mc.advance(mc.new_meeting("m1", plan(), T0), "open", at(0))
    log = [mc.LogEntry(at(1), "join", "t1"), mc.LogEntry(at(2), "kick", "t2")]
    mc.may_join(m, log, "t1v1", at(3))
    with pytest.raises(mc.MeetingError, match="移出"):
        mc.may_join(m, log, "t2", at(3))
    locked = mc.set_locked(m, True)
    with pytest.raises(mc.MeetingError, match="锁定"):
        mc.may_join(locked, log, "t1v1", at(3))
    mc.may_join(locked, log, "t1", at(3))  # was in: may rejoin
    with pytest.raises(mc.MeetingError, match="未被邀请"):
        mc.may_join(m, log, "t9", at(3))
    with pytest.raises(mc.MeetingError, match="待召开"):
        mc.may_join(mc.new_meeting("m2", plan(), T0), [], "t1", at(3))


def test_floor_mutes_everybody_but_the_speaker_and_the_hall() -> None:
    feeds = {11: "t1", 12: "t2", 13: mc.HALL, 14: "t1v1"}
    assert mc.mutes_for_floor(feeds, "t2") == {11: True, 12: False, 13: False, 14: True}
    assert mc.mutes_for_floor(feeds, None) == {11: True, 12: True, 13: False, 14: True}


def test_status_line_and_countdown() -> None:
    m = mc.new_meeting("m1", plan(), T0)
    names = {c.id: c.name for c in ROSTER}
    assert mc.status_line(m, ["t1", "t2"], names) == "已入会 2/3，未入会：王家庄村"
    assert mc.status_line(m, ["t1", "t2", "t1v1"], names) == "已入会 3/3"
    assert mc.countdown_s(m, T0) == 600 and mc.countdown_s(m, at(11)) == 0


def test_minutes_and_week() -> None:
    m = mc.new_meeting("m1", plan(), T0)
    assert mc.replace_minutes(m, "纪要").minutes == "纪要"
    with pytest.raises(mc.MeetingError, match="纪要超过"):
        mc.replace_minutes(m, "x" * (mc.MAX_MINUTES + 1))
    start, end = mc.week_bounds(T0.date() - timedelta(days=2))
    assert start.tzinfo is CHINA_TZ and end - start == timedelta(days=7)


def test_the_floor_changes_that_cut_the_recording() -> None:
    def e(minutes: int, kind: mc.Kind, centre: str = "", detail: str = "") -> mc.LogEntry:
        return mc.LogEntry(T0 + timedelta(minutes=minutes), kind, centre, detail)

    log = [
        e(0, "open"),
        e(1, "join", "t1"),
        e(2, "floor", "t1"),
        e(3, "hand", "t2"),
        e(4, "floor", "t2"),
        e(5, "kick", "t1"),  # not the holder: t2 keeps the floor
        e(6, "floor", "t2"),  # given again: a change of its own (the pictures stay)
        e(7, "mute", "", "all"),
        e(8, "unmute", "t2"),
        e(9, "floor", "t1"),
        e(10, "kick", "t1"),  # the holder removed
        e(11, "end"),
    ]
    got = [(int((at - T0).total_seconds() // 60), c) for at, c in mc.floor_changes(log)]
    assert got == [(2, "t1"), (4, "t2"), (6, "t2"), (7, None), (9, "t1"), (10, None)]


def test_the_recording_cut_says_who_speaks_when() -> None:
    from dispatch.meetings.media import RecordingCut

    cut = RecordingCut(names={1: "hall", 2: "t1"}, floor=[(100.0, "t1"), (160.0, None)])
    assert [cut.speaker_at(t) for t in (0.0, 99.9, 100.0, 159.0, 160.0, 1e9)] == [
        None,
        None,
        "t1",
        "t1",
        None,
        None,
    ]
