"""The roll-call tables (migration 0004) on SQLite and PostgreSQL: a run and its log
round-trip with times intact, the open run is found after a reopen, a call cannot be
logged twice, exemptions, schedule and station links round-trip."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError

from dispatch.db.migrations import current_revision
from dispatch.db.store import Store
from dispatch.domain.calendar import CHINA_TZ
from dispatch.rollcall import core as rc
from dispatch.rollcall import store as rs

pytestmark = [pytest.mark.integration]
NOW = datetime(2026, 11, 16, 9, 0, 0, 123000, tzinfo=CHINA_TZ)
ROSTER = [
    rc.Centre("t01", "城关镇", "township", "t01", "城关镇"),
    rc.Centre("v01", "东街社区", "village", "t01", "城关镇"),
]


@pytest.fixture
def db(migrated_store: Store) -> Store:
    return migrated_store


def test_run_and_log_round_trip(db: Store) -> None:
    with db.engine.connect() as conn:
        assert (current_revision(conn) or "") >= "0004"
    assert {t.name for t in rs.metadata.sorted_tables} <= set(inspect(db.engine).get_table_names())
    run = rc.new_run("rc-1", ROSTER, [], NOW, ring_s=30, talk_s=5, started_by="duty")
    with db.transaction() as conn:
        rs.add_run(conn, run)
    call = rc.CallRecord(
        "t01",
        1,
        "answered",
        NOW,
        NOW + timedelta(seconds=4),
        NOW + timedelta(seconds=30),
        snapshot="/x/a.png",
        answered_by="城关镇",
    )
    run = rc.record(run, call, NOW)
    with db.transaction() as conn:
        rs.add_call(conn, run, ROSTER[0], call)
    # the same call cannot be logged twice
    with pytest.raises(IntegrityError), db.transaction() as conn:
        rs.add_call(conn, run, ROSTER[0], call)
    db.close()
    db.open()
    got = rs.open_run(db.engine)
    assert got == run  # times come back equal (stored in UTC)
    assert got is not None and got.calls[0].answer_s == pytest.approx(4.0)
    assert rc.plan(got) == [("v01", 1)]
    assert [r.id for r in rs.week_runs(db.engine, run.week)] == ["rc-1"]
    assert rs.weeks(db.engine) == [date(2026, 11, 16)]
    with db.transaction() as conn:
        rs.set_status(conn, "rc-1", "done", NOW)
    assert rs.open_run(db.engine) is None


def test_exemptions_schedule_and_stations(db: Store) -> None:
    ex = rc.Exemption("v01", date(2026, 11, 16), date(2026, 11, 18), "holiday", "调休")
    with db.transaction() as conn:
        i = rs.add_exemption(conn, ex, "duty", NOW)
    assert rs.list_exemptions(db.engine) == [(i, ex)]
    with db.transaction() as conn:
        assert rs.remove_exemption(conn, i)
        assert not rs.remove_exemption(conn, i)
    assert rs.load_schedule(db.engine) is None
    s = rc.Schedule(weekday=2, at=time(14, 30), ring_s=45, batch=3, enabled=False)
    for last in (None, date(2026, 11, 16)):
        with db.transaction() as conn:
            rs.save_schedule(conn, s, last)
        assert rs.load_schedule(db.engine) == (s, last)
    with db.transaction() as conn:
        rs.save_station(conn, "v01", "h1", "pin", NOW)
        rs.save_station(conn, "v01", "h2", "pin2", NOW)  # re-issued: the old one is gone
    assert rs.station_by_token(db.engine, "h1") is None
    assert rs.station_by_token(db.engine, "h2") == ("v01", "pin2", NOW, 0)


def _write_run(db: Store) -> None:
    """One run in week 47: t01 answers, v01 misses then answers on the re-call."""
    run = rc.new_run("rc-1", ROSTER, [], NOW)
    calls = [
        rc.CallRecord("t01", 1, "answered", NOW, NOW + timedelta(seconds=6), NOW),
        rc.CallRecord("v01", 1, "no_answer", NOW, None, NOW),
        rc.CallRecord("v01", 2, "answered", NOW, NOW + timedelta(seconds=2), NOW),
    ]
    with db.transaction() as conn:
        rs.add_run(conn, run)
    for c in calls:
        run = rc.record(run, c, NOW)
        with db.transaction() as conn:
            rs.add_call(conn, run, ROSTER[0], c)


def test_month_section_for_the_report(db: Store) -> None:
    from dispatch.reports.sections.rollcall import RollcallSection

    start = datetime(2026, 11, 1, tzinfo=CHINA_TZ)
    end = datetime(2026, 12, 1, tzinfo=CHINA_TZ)
    assert RollcallSection().section(db.engine, start, end) is None
    _write_run(db)
    got = RollcallSection().section(db.engine, start, end)
    assert got is not None and got.available
    figs = {f.label: f.value for f in got.figures}
    assert figs == {
        "点名次数": "1",
        "第47周（11月16日起）": "2/2（100%）",
        "全覆盖周数": "1/1",
        "首次呼叫接通率": "50.0%",
        "平均接听用时": "4.0 秒",
    }
    assert RollcallSection().section(db.engine, end, end + timedelta(days=30)) is None


def test_an_answer_without_video_is_stored_and_counted_as_reached(db: Store) -> None:
    """`no_camera` fits the log's outcome column on both databases; the month's section
    counts the centre as reached and the answer as one without video."""
    from dispatch.reports.sections.rollcall import RollcallSection

    run = rc.new_run("rc-nc", ROSTER, [], NOW)
    calls = [
        rc.CallRecord(
            "t01", 1, "no_camera", NOW, NOW + timedelta(seconds=3), NOW, note="摄像头被拒绝使用"
        ),
        rc.CallRecord("v01", 1, "answered", NOW, NOW + timedelta(seconds=5), NOW),
    ]
    with db.transaction() as conn:
        rs.add_run(conn, run)
    for c in calls:
        run = rc.record(run, c, NOW)
        with db.transaction() as conn:
            rs.add_call(conn, run, ROSTER[0], c)
    got = rs.load_run(db.engine, "rc-nc")
    assert got is not None and got.status == "done" and got.calls == run.calls
    section = RollcallSection().section(
        db.engine, datetime(2026, 11, 1, tzinfo=CHINA_TZ), datetime(2026, 12, 1, tzinfo=CHINA_TZ)
    )
    assert section is not None
    figs = {f.label: f.value for f in section.figures}
    assert figs["第47周（11月16日起）"] == "2/2（100%）" and figs["首次呼叫接通率"] == "100.0%"
    assert figs["应答（无画面）次数"] == "1" and figs["平均接听用时"] == "4.0 秒"


def test_monthly_report_shows_the_weeks_coverage_by_default(db: Store) -> None:
    """The report's default providers include the roll call: a month with a run shows
    its coverage figures, a month without one says it has no data."""
    from dispatch.domain.calendar import WorkCalendar
    from dispatch.domain.site import demo_site_path, load_site
    from dispatch.reports.store import monthly_report

    site, cal = load_site(demo_site_path()), WorkCalendar()
    _write_run(db)
    rep = monthly_report(db, date(2026, 11, 1), site, cal)
    assert rep.rollcall.available and rep.rollcall.title == "点名覆盖"
    figs = {f.label: f.value for f in rep.rollcall.figures}
    assert figs["第47周（11月16日起）"] == "2/2（100%）"
    assert figs["全覆盖周数"] == "1/1"
    assert figs["点名次数"] == "1"
    other = monthly_report(db, date(2026, 10, 1), site, cal)
    assert not other.rollcall.available and other.rollcall.figures == ()
    assert "本月无数据" in other.rollcall.note
