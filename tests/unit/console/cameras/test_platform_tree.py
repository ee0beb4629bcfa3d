"""A platform's cameras (as the hub sends them) join the console's camera tree."""

from __future__ import annotations

from console.cameras.tree import UNPLACED, NodeKind, build_tree
from dispatch.domain.platform import merge_catalogue
from dispatch.platform.messages import PlatformCameraInfo
from streams.platform.models import Channel
from tests.kit.platform import county_channels
from tests.kit.platform_site import platform_site


def test_1000_platform_cameras_hang_under_their_township_and_village() -> None:
    site = platform_site("http://127.0.0.1:1")
    chans = [
        Channel(c.device_id, c.channel_id, c.name, c.civil_code, c.online)
        for c in county_channels(1000, 5, 4)
    ]
    merged = merge_catalogue(site, site.platforms[0], chans)
    infos = [
        PlatformCameraInfo(
            id=c.id, name=c.name, township=c.township, village=c.village, online=c.online
        )
        for c in merged.cameras
    ] + [PlatformCameraInfo(id="x", name="elsewhere", township="zz", village=None, online=True)]
    root = build_tree(site, infos)
    assert len(root.camera_ids()) == 1000  # the one of an unknown township is not shown
    towns = {t.id: t for t in root.children}
    assert sorted(towns) == ["t1", "t2", "t3", "t4", "t5"]
    t1 = towns["t1"]
    assert [v.id for v in t1.children] == ["t1v1", "t1v2", "t1v3", "t1v4"]
    assert len(t1.children[1].camera_ids()) == 50
    assert all(n.kind == "camera" for n in towns["t5"].children)  # by township prefix only
    assert build_tree(site).camera_ids() == []  # without the platform: no cameras


def test_unplaced_platform_cameras_hang_under_their_own_last_branch() -> None:
    site = platform_site("http://127.0.0.1:1")
    placed = [PlatformCameraInfo(id="p1", name="桥头", township="t2", village=None, online=True)]
    loose = [PlatformCameraInfo(id="x1", name="河道", township="", village=None, online=True)]
    root = build_tree(site, placed, loose, "Unplaced")
    last = root.children[-1]
    assert (last.kind, last.id, last.name) == (NodeKind.TOWNSHIP, UNPLACED, "Unplaced")
    assert last.camera_ids() == ["x1"] and root.camera_ids() == ["p1", "x1"]
    assert UNPLACED not in {n.id for n in build_tree(site, placed).children}  # pruned: empty
