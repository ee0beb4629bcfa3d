"""A camera the patrol could not check (未巡检: the relay overloaded or down) is neither
online nor offline nor faulty anywhere: health figures, the faulty list, the map, the
camera tree's online sources and the hub's trouble text."""

from __future__ import annotations

from datetime import UTC, datetime

from console.health.model import summarise
from console.health.strings import t, trouble_name
from console.map.install import camera_states
from dispatch.domain.site import demo_site_path, load_site
from dispatch.patrol.core import trouble_text
from dispatch.patrol.messages import CameraHealth
from streams.patrol.types import CameraCheck, OfflineReason

AT = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


def test_a_camera_not_checked_counts_nowhere() -> None:
    site = load_site(demo_site_path())
    first, second = site.cameras[0].id, site.cameras[1].id
    unchecked = CameraCheck(
        camera=first,
        at=AT,
        online=False,
        reason=OfflineReason.NOT_CHECKED,
        detail="relay: no picture from the camera within 5 s (relay busy: 2.0 s late)",
    )
    offline = CameraCheck(camera=second, at=AT, online=False, reason=OfflineReason.TIMEOUT)
    health = [
        CameraHealth(check=unchecked, last_good="", open_event=None),
        CameraHealth(check=offline, last_good="", open_event=None),
    ]
    summary = summarise(site, health)
    assert summary.county.checked == 1 and summary.county.online == 0
    assert [f.camera for f in summary.faulty] == [second]
    assert camera_states({h.check.camera: h for h in health}).keys() == {second}
    assert trouble_name(unchecked) == t("unchecked")
    assert trouble_text(unchecked) == "未巡检"
    assert not unchecked.checked and offline.checked and not unchecked.healthy
