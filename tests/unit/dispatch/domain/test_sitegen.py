"""The generated county site: valid, deterministic, shaped like a county, a valid TOML file."""

from __future__ import annotations

import random
import tomllib
from collections import Counter
from dataclasses import replace

import pytest

from dispatch.domain.relay import relay_for
from dispatch.domain.site import parse_site
from dispatch.domain.sitegen import CountySpec, county_site, share, site_toml, split_box

SPEC = CountySpec(cameras=5000)


@pytest.fixture(scope="module")
def data() -> dict[str, object]:
    return county_site(SPEC)


def test_a_county_of_5000_cameras_is_a_valid_site(data: dict[str, object]) -> None:
    site = parse_site(data)
    assert len(site.cameras) == 5000
    assert len(site.townships) == 20 and len(site.villages) == 300 and len(site.grids) == 900
    per_village = Counter(c.village for c in site.cameras)
    assert len(per_village) == 300 and min(per_village.values()) >= 5  # every village has some
    assert max(per_village.values()) > min(per_village.values())  # and not all alike
    leaders = {g.leader for g in site.grids}
    assert len(leaders) == 900 and "maint" in {p.id for p in site.people}
    grids = {g.id: g for g in site.grids}
    for c in site.cameras:
        ring = grids[c.grid or ""].polygon
        lons, lats = [p[0] for p in ring], [p[1] for p in ring]
        assert min(lons) < c.lon < max(lons) and min(lats) < c.lat < max(lats), c.id
        assert grids[c.grid or ""].village == c.village
    ports = {int(c.main.url.split(":")[2].split("/")[0]) for c in site.cameras}
    assert ports == set(range(8601, 8617))  # 16 simulator cameras behind them
    assert all(c.third is not None and c.credentials == "camsim" for c in site.cameras)


def test_deterministic_for_a_seed(data: dict[str, object]) -> None:
    assert county_site(SPEC) == data
    assert county_site(replace(SPEC, seed=2)) != data


def test_written_as_toml_it_reads_back_the_same() -> None:
    data = county_site(CountySpec(cameras=300, relays=2))  # small: TOML parsing is slow
    text = site_toml(data, "a header\nof two lines")
    assert text.startswith("# a header\n# of two lines\n")
    assert parse_site(tomllib.loads(text)) == parse_site(data)


def test_relays_serve_every_township_once() -> None:
    site = parse_site(county_site(CountySpec(cameras=200, relays=4)))
    served = [t for r in site.relays for t in r.townships]
    assert sorted(served) == sorted(t.id for t in site.townships)
    assert all(relay_for(site, c) is not None for c in site.cameras)


def test_helpers() -> None:
    assert sum(share(5000, 300, random.Random(1))) == 5000
    boxes = split_box((0.0, 0.0, 5.0, 4.0), 20)
    assert len(boxes) == 20 and boxes[0] == (0.0, 3.0, 1.0, 4.0)
    with pytest.raises(ValueError, match="townships"):
        county_site(CountySpec(townships=0))
