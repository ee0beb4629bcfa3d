"""The pure roll-call run state: roster, exemptions, schedule, the calling plan, coverage."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta

import pytest

from dispatch.domain.calendar import CHINA_TZ
from dispatch.domain.site import load_site
from dispatch.rollcall.core import (
    OUTCOME_ZH,
    CallRecord,
    Exemption,
    Outcome,
    RollcallError,
    Run,
    Schedule,
    classify,
    coverage,
    due_centres,
    finished,
    new_run,
    next_run,
    plan,
    recalls,
    record,
    resume,
    ring_left,
    roster_from_site,
    set_note,
    stop,
    validate_exemption,
    week_start,
)
from tests.kit import FakeClock
from tests.kit.paths import ROOT

SITE = load_site(ROOT / "resources" / "sites" / "demo.toml")
ROSTER = roster_from_site(SITE)
MON = datetime(2026, 11, 16, 9, 0, tzinfo=CHINA_TZ)  # a Monday


def call(
    centre: str, attempt: int, outcome: Outcome, at: datetime, answer_s: float = 3.0
) -> CallRecord:
    rang = None if outcome == "link_down" else at
    answered = (
        at + timedelta(seconds=answer_s)
        if outcome in ("answered", "no_camera", "technical_fault")
        else None
    )
    return CallRecord(centre, attempt, outcome, rang, answered, at + timedelta(seconds=20))


def test_roster_is_townships_then_their_villages() -> None:
    assert [c.id for c in ROSTER][:4] == ["t01", "v01", "v02", "v03"]
    assert {c.level for c in ROSTER} == {"township", "village"}
    assert len(ROSTER) == len(SITE.townships) + len(SITE.villages)
    v04 = next(c for c in ROSTER if c.id == "v04")
    assert v04.township == "t02" and v04.township_name == SITE.townships[1].name


@pytest.mark.parametrize(
    ("day", "expect_exempt"),
    [
        (date(2026, 11, 15), []),
        (date(2026, 11, 16), ["v02"]),
        (date(2026, 11, 18), ["v02", "t03"]),
        (date(2026, 11, 20), ["t03"]),
        (date(2026, 11, 21), []),
    ],
)
def test_exemptions_by_day(day: date, expect_exempt: list[str]) -> None:
    exs = [
        Exemption("v02", date(2026, 11, 16), date(2026, 11, 18), "holiday"),
        Exemption("t03", date(2026, 11, 18), date(2026, 11, 20), "repair"),
    ]
    due, exempt = due_centres(ROSTER, exs, day)
    assert sorted(exempt) == sorted(expect_exempt)
    assert len(due) + len(exempt) == len(ROSTER)


@pytest.mark.parametrize(
    ("ex", "message"),
    [
        (Exemption("nope", date(2026, 1, 1), date(2026, 1, 2), "holiday"), "unknown centre"),
        (Exemption("v01", date(2026, 1, 3), date(2026, 1, 2), "repair"), "ends before"),
        (Exemption("v01", date(2026, 1, 1), date(2027, 6, 2), "repair"), "one year"),
    ],
)
def test_bad_exemptions_are_refused(ex: Exemption, message: str) -> None:
    with pytest.raises(RollcallError, match=message):
        validate_exemption(ex, ROSTER)


@pytest.mark.parametrize(
    ("now", "last_week", "expect"),
    [
        (MON - timedelta(hours=1), None, MON),
        (MON, None, MON),
        (MON + timedelta(minutes=1), None, MON + timedelta(days=7)),
        (MON - timedelta(hours=1), week_start(MON.date()), MON + timedelta(days=7)),
        (MON + timedelta(days=6), None, MON + timedelta(days=7)),
    ],
)
def test_next_run(now: datetime, last_week: date | None, expect: datetime) -> None:
    assert next_run(Schedule(weekday=0, at=time(9, 0)), now, last_week) == expect


def test_disabled_schedule_has_no_next_run() -> None:
    assert next_run(Schedule(enabled=False), MON) is None


def test_a_run_calls_in_order_then_recalls_the_missed_once() -> None:
    clock = FakeClock(MON)
    run = new_run("r1", ROSTER[:4], [], clock(), ring_s=60)
    outcomes: dict[str, Outcome] = {
        "t01": "answered",
        "v01": "no_answer",
        "v02": "link_down",
        "v03": "declined",
    }
    placed: list[tuple[str, int]] = []
    while not finished(run):
        nxt = plan(run)
        assert len(nxt) == 1
        c, a = nxt[0]
        placed.append((c, a))
        o: Outcome = outcomes[c] if a == 1 else ("answered" if c == "v01" else "no_answer")
        run = record(run, call(c, a, o, clock()), clock.advance(30))
    assert placed == [
        ("t01", 1),
        ("v01", 1),
        ("v02", 1),
        ("v03", 1),
        ("v01", 2),
        ("v02", 2),
        ("v03", 2),
    ]
    assert run.status == "done" and run.ended_at == clock()
    assert recalls(run) == ["v01", "v02", "v03"]
    assert plan(run) == []


def test_batches_do_not_start_recalls_while_first_calls_are_in_flight() -> None:
    run = new_run("r1", ROSTER[:4], [], MON, batch=3)
    first = plan(run)
    assert first == [("t01", 1), ("v01", 1), ("v02", 1)]
    run = record(run, call("t01", 1, "no_answer", MON), MON)
    assert plan(run, in_flight=[("v01", 1), ("v02", 1)]) == [("v03", 1)]
    run = record(run, call("v03", 1, "answered", MON), MON)
    # v01 still ringing: the re-call of t01 waits for the first pass to end
    assert plan(run, in_flight=[("v01", 1), ("v02", 1)]) == []
    run = record(run, call("v01", 1, "answered", MON), MON)
    assert plan(run, in_flight=[("v02", 1)]) == []
    run = record(run, call("v02", 1, "answered", MON), MON)
    assert plan(run) == [("t01", 2)]


def test_stop_and_resume() -> None:
    run = new_run("r1", ROSTER[:2], [], MON)
    run = stop(run)
    assert plan(run) == []
    run = resume(run)
    assert plan(run) == [("t01", 1)]


def test_a_restored_run_continues_where_it_was() -> None:
    run = new_run("r1", ROSTER[:3], [], MON)
    run = record(run, call("t01", 1, "answered", MON), MON)
    run = record(run, call("v01", 1, "no_answer", MON), MON)
    restored = Run(
        id=run.id, week=run.week, started_at=run.started_at, due=run.due, calls=run.calls
    )
    assert plan(restored) == [("v02", 1)]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (lambda r: record(r, call("zz", 1, "answered", MON), MON), "not in this run"),
        (lambda r: record(r, call("t01", 2, "answered", MON), MON), "re-call before"),
        (
            lambda r: record(
                record(r, call("t01", 1, "answered", MON), MON),
                call("t01", 1, "answered", MON),
                MON,
            ),
            "already recorded",
        ),
        (lambda r: set_note(r, "t01", 1, "x"), "no such call"),
        (lambda r: stop(replace(r, status="done")), "finished"),
        (lambda r: resume(replace(r, status="done")), "finished"),
    ],
)
def test_bad_requests_are_refused_and_change_nothing(bad, message: str) -> None:  # type: ignore[no-untyped-def]
    run = new_run("r1", ROSTER[:2], [], MON)
    with pytest.raises(RollcallError, match=message):
        bad(run)
    assert run.calls == () and run.status == "running"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"batch": 0}, "batch"),
        ({"batch": 11}, "batch"),
        ({"ring_s": 0.1}, "ring time"),
        ({"ring_s": 601}, "ring time"),
    ],
)
def test_bad_run_settings(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(RollcallError, match=message):
        new_run("r1", ROSTER, [], MON, **kwargs)  # type: ignore[arg-type]


def test_naive_time_is_refused() -> None:
    with pytest.raises(RollcallError, match="aware"):
        new_run("r1", ROSTER, [], MON.replace(tzinfo=None))


def test_nothing_due_is_refused() -> None:
    exs = [Exemption(c.id, MON.date(), MON.date(), "holiday") for c in ROSTER]
    with pytest.raises(RollcallError, match="no centre is due"):
        new_run("r1", ROSTER, exs, MON)


@pytest.mark.parametrize(
    ("online", "response", "media", "expect"),
    [
        (False, None, False, "link_down"),
        (False, "answer", True, "link_down"),
        (True, None, False, "no_answer"),
        (True, "decline", False, "declined"),
        (True, "answer", False, "technical_fault"),
        (True, "answer", True, "answered"),
    ],
)
def test_classify(online: bool, response, media: bool, expect: str) -> None:  # type: ignore[no-untyped-def]
    assert classify(online=online, response=response, media_ok=media) == expect


def test_an_answer_without_a_camera_is_its_own_outcome_and_reaches_the_centre() -> None:
    assert classify(online=True, response="answer", media_ok=False, no_camera=True) == ("no_camera")
    assert classify(online=True, response="decline", media_ok=False, no_camera=True) == ("declined")
    assert OUTCOME_ZH["no_camera"] == "应答（无画面）"
    clock = FakeClock(MON)
    run = new_run("r1", ROSTER[:2], [], clock(), ring_s=60)
    run = record(run, call("t01", 1, "no_camera", clock()), clock.advance(30))
    run = record(run, call("v01", 1, "no_answer", clock()), clock.advance(30))
    assert recalls(run) == ["v01"] and plan(run) == [("v01", 2)]  # no re-call of t01
    rows = {r.township: r for r in coverage(ROSTER[:2], [], MON.date(), run.calls)}
    assert (rows[""].due, rows[""].reached) == (2, 1)


def test_ring_countdown_with_a_fake_clock() -> None:
    clock = FakeClock(MON)
    rang = clock()
    assert ring_left(rang, 60, clock()) == 60
    assert ring_left(rang, 60, clock.advance(45)) == 15
    assert ring_left(rang, 60, clock.advance(20)) == 0


def test_call_times() -> None:
    c = call("v01", 1, "answered", MON, answer_s=7)
    assert c.answer_s == 7 and c.duration_s == 13
    assert call("v01", 1, "link_down", MON).answer_s is None


def test_coverage_per_township_and_county() -> None:
    exs = [Exemption("v08", MON.date(), MON.date() + timedelta(days=6), "repair")]
    calls = [
        call("t01", 1, "answered", MON),
        call("v01", 1, "no_answer", MON),
        call("v01", 2, "answered", MON),
        call("v02", 1, "declined", MON),
        call("v02", 2, "declined", MON),
        call("v04", 1, "answered", MON),
    ]
    rows = {r.township: r for r in coverage(ROSTER, exs, MON.date(), calls, run_exempt=["v03"])}
    assert (rows["t01"].due, rows["t01"].reached, rows["t01"].exempt) == (3, 2, 1)
    assert (rows["t02"].due, rows["t02"].reached) == (4, 1)
    assert (rows["t03"].due, rows["t03"].reached, rows["t03"].exempt) == (2, 0, 1)
    county = rows[""]
    assert county.due == len(ROSTER) - 2 and county.reached == 3
    assert county.share == pytest.approx(3 / (len(ROSTER) - 2))
