"""Hot-spot detection on synthetic histories (pure)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import pytest

from dispatch.domain.calendar import CHINA_TZ
from dispatch.reports.hotspots import (
    HotspotKind,
    HotspotPolicy,
    Occurrence,
    find_hotspots,
    poisson_sf,
)

NOW = datetime(2026, 10, 31, 12, tzinfo=CHINA_TZ)
WEEK = timedelta(days=7)


def _history(category: str, grid: str | None, weekly: list[int], tag: str) -> list[Occurrence]:
    """weekly[0] events in the last week, weekly[k] k weeks before, spread inside each week."""
    out = []
    for k, n in enumerate(weekly):
        for i in range(n):
            at = NOW - k * WEEK - timedelta(hours=1 + i * (160 / max(n, 1)))
            out.append(Occurrence(f"{tag}-{k}-{i}", at, category, grid))
    return out


def test_spike_is_found_with_its_events() -> None:
    occ = _history("wages", "g1", [12, 2, 3, 1, 2, 2, 3, 1, 2], "w")
    found = find_hotspots(occ, NOW)
    keys = {(h.kind, h.key) for h in found}
    assert keys == {(HotspotKind.CATEGORY, "wages"), (HotspotKind.GRID, "g1")}
    h = found[0]
    assert h.count == 12 and h.history == (2, 3, 1, 2, 2, 3, 1, 2)
    assert h.baseline == pytest.approx(2.0)
    assert set(h.event_ids) == {f"w-0-{i}" for i in range(12)}
    assert h.p_value < 1e-4


def test_steady_high_count_is_not_a_hotspot() -> None:
    occ = _history("neighbours", "g2", [22, 20, 24, 19, 21, 23, 20, 22, 21], "n")
    assert find_hotspots(occ, NOW) == []


def test_small_count_is_not_a_hotspot_even_from_nothing() -> None:
    occ = _history("family", "g3", [4, 0, 0, 0, 0, 0, 0, 0, 0], "f")
    assert find_hotspots(occ, NOW) == []
    # the same jump at the minimum count is one
    occ5 = _history("family", "g3", [5, 0, 0, 0, 0, 0, 0, 0, 0], "f")
    assert {h.key for h in find_hotspots(occ5, NOW)} == {"family", "g3"}


def test_moderate_rise_within_noise_is_not_flagged() -> None:
    # 8 against a mean of 5: below twice the baseline, and P(X>=8|5) ~ 0.13
    occ = _history("land", None, [8, 5, 4, 6, 5, 5, 6, 4, 5], "l")
    assert find_hotspots(occ, NOW) == []


def test_future_and_too_old_events_are_ignored() -> None:
    occ = _history("wages", None, [0, 1, 1, 1, 1, 1, 1, 1, 1], "w")
    occ += [Occurrence(f"f{i}", NOW + timedelta(hours=i), "wages") for i in range(10)]
    occ += [Occurrence(f"o{i}", NOW - 20 * WEEK, "wages") for i in range(10)]
    assert find_hotspots(occ, NOW) == []


def test_poisson_tail_matches_direct_sum() -> None:
    for rate in (0.5, 2.0, 7.5):
        for c in (0, 1, 5, 12, 30):
            direct = 1 - sum(math.exp(-rate) * rate**k / math.factorial(k) for k in range(c))
            assert poisson_sf(c, rate) == pytest.approx(direct, rel=1e-6, abs=1e-15)
    assert 0 < poisson_sf(60, 2.0) < 1e-40  # tiny tails stay positive, no cancellation


@pytest.mark.timeout(20)
def test_a_tail_below_the_smallest_float_is_zero_and_ends() -> None:
    """The soak's hub: 2,000 events of one category in a week over a baseline of 0.5;
    the tail underflows to 0.0 and the sum must end (it looped forever, one hub thread
    per hot-spot request, until every worker of the hub's executor was stuck)."""
    assert poisson_sf(2000, 0.5) == 0.0
    assert poisson_sf(800, 3.0) == 0.0
    occ = [Occurrence(f"e{i}", NOW - timedelta(minutes=i + 1), "wages") for i in range(2000)]
    (hot,) = find_hotspots(occ, NOW, kinds=[HotspotKind.CATEGORY])
    assert hot.count == 2000 and hot.p_value == 0.0


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        find_hotspots([], datetime(2026, 10, 31))
    with pytest.raises(ValueError, match="min_count"):
        HotspotPolicy(min_count=0)
    with pytest.raises(ValueError, match="alpha"):
        HotspotPolicy(alpha=1.5)
    with pytest.raises(ValueError, match="rate"):
        poisson_sf(3, 0.0)


def test_a_flooded_hot_spot_carries_its_newest_ids_and_its_full_count() -> None:
    """A grid with 500 events in a week (ids in no time order): the detector keeps them
    oldest first; the warning on the wire carries the newest `HOTSPOT_IDS_MAX`, and its
    count stays 500, so the reply does not grow with every event of the week."""
    from dispatch.domain.site import demo_site_path, load_site
    from dispatch.reports.core import HOTSPOT_IDS_MAX, hotspot_items

    n = HOTSPOT_IDS_MAX + 300
    occ = [
        Occurrence(f"e{(i * 7919) % n:04d}", NOW - timedelta(minutes=10 * (n - i)), "noise", "g1")
        for i in range(n)
    ]
    occ.reverse()  # the detector must not rely on the order it is given
    hot = {h.kind: h for h in find_hotspots(occ, NOW)}[HotspotKind.GRID]
    by_time = [o.event_id for o in sorted(occ, key=lambda o: o.at)]
    assert hot.count == n and list(hot.event_ids) == by_time
    (item,) = hotspot_items([hot], load_site(demo_site_path()), {})
    assert item.count == n
    assert list(item.event_ids) == by_time[-HOTSPOT_IDS_MAX:]
