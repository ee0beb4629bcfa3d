"""Grid leaders' shared positions as map marks: consented only, faded past half the
age limit, gone past it, times in Beijing time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from console.map.leaders import leader_marks, shown_time
from console.map.model import MapModel, world
from dispatch.domain.site import demo_site_path, load_site
from dispatch.positions.messages import LeaderPosition

NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)  # 16:00 in Beijing


def pos(pid: str, minutes_ago: float, *, consent: bool = True) -> LeaderPosition:
    return LeaderPosition(
        person_id=pid,
        name=f"网格长{pid}",
        lon=112.545,
        lat=37.874,
        at=NOW - timedelta(minutes=minutes_ago),
        accuracy_m=15.0,
        consent=consent,
    )


def test_fresh_faded_and_too_old() -> None:
    marks = leader_marks([pos("a", 5), pos("b", 61), pos("c", 121)], NOW, 7200)
    assert [(m.id, m.faded) for m in marks] == [("a", False), ("b", True)]
    assert marks[0].when == "15:55" and marks[0].at == world(112.545, 37.874)


def test_without_consent_nothing_is_shown() -> None:
    assert leader_marks([pos("a", 1, consent=False)], NOW, 7200) == []


def test_a_configured_age_limit() -> None:
    assert [m.id for m in leader_marks([pos("a", 20), pos("b", 40)], NOW, 1800)] == ["a"]


def test_times_before_today_carry_the_date() -> None:
    assert shown_time(datetime(2026, 12, 1, 10, 5, tzinfo=UTC), NOW) == "12-01 18:05"
    assert shown_time(datetime(2026, 12, 1, 16, 30, tzinfo=UTC), NOW) == "00:30"


def test_the_model_takes_the_marks_and_says_so() -> None:
    model = MapModel(load_site(demo_site_path()))
    seen: list[None] = []
    model.leaders_changed.connect(seen.append)
    model.set_leaders(leader_marks([pos("p00", 1)], NOW, 7200))
    assert list(model.leaders) == ["p00"] and len(seen) == 1
    model.set_leaders(leader_marks([], NOW, 7200))
    assert model.leaders == {} and len(seen) == 2
