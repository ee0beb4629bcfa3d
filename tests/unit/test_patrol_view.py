"""The camera health view: figures per township and village, faulty cameras with their
pictures, a camera's history; offscreen screenshot (to $HALL_SCREENSHOT_DIR when set)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
from PySide6.QtWidgets import QApplication

from console.health.model import summarise
from console.health.view import HealthView
from dispatch.domain.site import Site, demo_site_path, load_site
from dispatch.patrol.messages import CameraHealth
from streams.patrol.types import CameraCheck, OfflineReason
from streams.simulator.picture import PictureSource

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def picture(path: Path, mode: str, seed: int) -> str:
    """A real simulator picture (I420 -> BGR) saved as JPEG."""
    src = PictureSource(352, 288, seed=seed, strip_rows=14)
    src.set_mode(mode)
    yuv = np.frombuffer(src.frame(30, bytes(352)), np.uint8).reshape(288 * 3 // 2, 352)
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), cv2.cvtColor(yuv, cv2.COLOR_YUV2BGR_I420))
    return str(path)


def fleet(site: Site, tmp: Path) -> list[CameraHealth]:
    """Every camera but the last checked; two with a bad picture, one offline."""
    out = []
    cams = site.cameras[:-1]
    for i, cam in enumerate(cams):
        good = picture(tmp / cam.id / "good.jpg", "normal", i + 1)
        if i == 1:
            check = CameraCheck(
                camera=cam.id,
                at=T0,
                online=True,
                faults={"covered": 1.7},
                snapshot=picture(tmp / cam.id / "now.jpg", "covered", i + 1),
            )
        elif i == 4:
            check = CameraCheck(
                camera=cam.id,
                at=T0,
                online=True,
                faults={"blur": 3.4, "noise": 1.2},
                snapshot=picture(tmp / cam.id / "now.jpg", "blur", i + 1),
            )
        elif i == 6:
            check = CameraCheck(camera=cam.id, at=T0, online=False, reason=OfflineReason.REFUSED)
        else:
            check = CameraCheck(camera=cam.id, at=T0, online=True, snapshot=good)
        out.append(
            CameraHealth(check=check, last_good=good, open_event="E1" if i in (1, 6) else None)
        )
    return out


def test_rates_per_area_match_the_samples(tmp_path: Path) -> None:
    site = load_site(demo_site_path())
    health = fleet(site, tmp_path)
    s = summarise(site, health)
    by_cam = {h.check.camera: h.check for h in health}
    assert s.county.cameras == len(site.cameras)
    assert s.county.checked == len(health)
    for tw in s.townships:
        cams = [c.id for c in site.cameras if c.township == tw.rates.key]
        seen = [by_cam[c] for c in cams if c in by_cam]
        assert tw.rates.checked == len(seen)
        assert tw.rates.online == sum(c.online for c in seen)
        assert tw.rates.healthy == sum(c.healthy for c in seen)
        assert sum(v.cameras for v in tw.villages) <= tw.rates.cameras
    assert [f.camera for f in s.faulty] == sorted(
        h.check.camera for h in health if not h.check.healthy
    )
    trouble = {f.camera: f.trouble for f in s.faulty}
    assert trouble[site.cameras[1].id] == "镜头遮挡"
    assert trouble[site.cameras[4].id] == "画面模糊、噪声过大"
    assert trouble[site.cameras[6].id] == "离线（连接被拒绝）"


def test_health_view_screenshot(qapp: QApplication, tmp_path: Path) -> None:
    site = load_site(demo_site_path())
    health = fleet(site, tmp_path / "pics")
    view = HealthView()
    view.resize(760, 1000)
    picked: list[str] = []
    view.camera_picked.connect(picked.append)
    view.show_summary(summarise(site, health))
    covered = site.cameras[1].id
    view.pick(covered)
    assert picked == [covered]
    assert view.current.image.pixmap() is not None and not view.current.image.pixmap().isNull()
    assert not view.last_good.image.pixmap().isNull()
    history = [
        CameraHealth(
            check=h.check.model_copy(update={"at": T0 - timedelta(minutes=10 * k)}),
            last_good="",
            open_event=None,
        )
        for k, h in enumerate([health[1], health[1], health[0].model_copy()])
    ]
    view.show_history(site.cameras[1].name, history)
    assert view.history.rowCount() == 3
    assert view.faulty.rowCount() == 3
    county = view.areas.topLevelItem(0)
    assert county is not None
    assert county.text(1) == f"{len(health)}/{len(site.cameras)}"
    view.show()
    qapp.processEvents()
    out = Path(os.environ.get("HALL_SCREENSHOT_DIR", tmp_path)) / "camera_health.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    assert view.grab().save(str(out))
    img = cv2.imread(str(out))
    assert img is not None and img.shape[0] >= 900
    view.close()
