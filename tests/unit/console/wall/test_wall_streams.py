"""Which stream each tile of a 1920x1080 wall decodes: the smallest that covers the tile."""

from __future__ import annotations

import pytest

from console.wall.shapes import cell_rects, shape
from console.wall.sources import profiles_for
from dispatch.domain.site import Site, demo_site_path, load_site
from streams.ingest.profiles import choose_profile

SITE = load_site(demo_site_path())
WALL = (1920, 1080)


def without_third(site: Site) -> Site:
    cams = [c.model_copy(update={"third": None}) for c in site.cameras]
    return site.model_copy(update={"cameras": cams})


def streams_on(site: Site, layout: str) -> list[str]:
    """The stream each tile of `layout` decodes, tile by tile (the first camera on all)."""
    profiles = profiles_for(site, site.cameras[0])
    return [choose_profile(profiles, w, h).name for _, _, w, h in cell_rects(shape(layout), *WALL)]


def test_profiles_list_the_cameras_streams_smallest_first() -> None:
    cam = SITE.cameras[0]
    assert cam.third is not None
    assert [(p.name, p.width, p.height) for p in profiles_for(SITE, cam)] == [
        ("third", 640, 360),
        ("sub", 704, 576),
        ("main", 1280, 720),
    ]
    plain = without_third(SITE)
    assert [p.name for p in profiles_for(plain, plain.cameras[0])] == ["sub", "main"]


@pytest.mark.parametrize(
    ("layout", "with_third", "without"),
    [
        ("1", "main", "main"),  # full screen: nothing covers 1920x1080, the largest
        ("4", "main", "main"),  # 960x540: wider than the sub-stream
        ("1+5", "main third", "main sub"),  # the large tile 1280x720, five 640x360
        ("1+7", "main third", "main sub"),  # 1440x810 and seven 480x270
        ("9", "third", "sub"),  # 640x360: the third stream covers it exactly
        ("16", "third", "sub"),  # 480x270
        ("25", "third", "sub"),  # 384x216
        ("36", "third", "sub"),  # 320x180
    ],
)
def test_each_layout_decodes_the_smallest_covering_stream(
    layout: str, with_third: str, without: str
) -> None:
    assert sorted(set(streams_on(SITE, layout))) == sorted(with_third.split())
    assert sorted(set(streams_on(without_third(SITE), layout))) == sorted(without.split())
    assert streams_on(SITE, layout)[0] == with_third.split()[0]  # the large tile comes first
