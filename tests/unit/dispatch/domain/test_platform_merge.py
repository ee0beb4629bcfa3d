"""The catalogue merge into the county tree (pure) and the platform site entries."""

from __future__ import annotations

import pytest

from dispatch.domain.platform import merge_catalogue
from dispatch.domain.site import SiteConfigError, parse_site
from streams.platform.models import Channel
from tests.kit.platform import county_channels
from tests.kit.platform_site import platform_site


def _channels(n: int) -> list[Channel]:
    return [
        Channel(c.device_id, c.channel_id, c.name, c.civil_code, c.online)
        for c in county_channels(n, townships=5, villages_per_town=4)
    ]


def test_1000_channels_merge_into_townships_and_villages() -> None:
    site = platform_site("http://127.0.0.1:1")
    tree = merge_catalogue(site, site.platforms[0], _channels(1000))
    assert len(tree.cameras) == 1000 and not tree.unplaced
    by_town = tree.by_township()
    assert sorted(by_town) == ["t1", "t2", "t3", "t4", "t5"]
    assert sum(len(c) for c in by_town["t1"].values()) == 200
    assert sorted(k for k in by_town["t1"] if k) == ["t1v1", "t1v2", "t1v3", "t1v4"]
    assert list(by_town["t5"]) == [None]  # township prefix only: at the township itself
    assert len({c.id for c in tree.cameras}) == 1000
    cam = tree.cameras[5]  # channel 5: township 1, village 2 (5 // 5 = 1)
    assert (cam.township, cam.village) == ("t1", "t1v2")


def test_mapping_table_wins_and_unknown_codes_are_unplaced() -> None:
    site = platform_site("http://127.0.0.1:1", channels={"C9": "t3v1"})
    chans = [
        Channel("D1", "C9", "by table", "330521001001", True),
        Channel("D1", "C8", "stranger", "110101000000", True),
        Channel("D1", "C7", "no code", "", False),
    ]
    tree = merge_catalogue(site, site.platforms[0], chans)
    assert [(c.channel_id, c.township, c.village) for c in tree.cameras] == [("C9", "t3", "t3v1")]
    assert [c.id for c in tree.unplaced] == ["C8", "C7"]
    # the unplaced are still cameras the console lists (未归属), with no township
    assert [(c.channel_id, c.township, c.village) for c in tree.loose] == [
        ("C8", "", None),
        ("C7", "", None),
    ]


def test_bad_platform_entries_are_refused_with_the_field() -> None:
    good = platform_site("http://127.0.0.1:1").model_dump(mode="json")
    good["credentials"]["wvp"]["password"] = "x"
    bad = dict(good, platforms=[dict(good["platforms"][0], credentials="nope")])
    with pytest.raises(SiteConfigError, match=r"platforms\.gaw\.credentials"):
        parse_site(bad)
    bad = dict(good, platforms=[dict(good["platforms"][0], channels={"C1": "nowhere"})])
    with pytest.raises(SiteConfigError, match="unknown village 'nowhere'"):
        parse_site(bad)
    bad = dict(good, platforms=[dict(good["platforms"][0], url="ftp://x")])
    with pytest.raises(SiteConfigError, match=r"platforms\.0\.url"):
        parse_site(bad)
