"""The camera health panel: figures per township and village, faulty cameras with their
pictures, a camera's history; the model emits each change, the view follows it until it
is closed, and picking a camera asks the controller for its history (read through an
in-process patrol client on the real network thread); offscreen screenshot (to
$HALL_SCREENSHOT_DIR when set)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QCoreApplication, QEvent, Qt
from PySide6.QtWidgets import QApplication

from console.health.controller import HealthClient, HealthController
from console.health.model import CameraHistory, HealthModel, HealthSummary, summarise
from console.health.strings import t
from console.health.view import HealthView
from console.kit.net import NetThread, QtBridge
from console.kit.plain import inert_bidi
from dispatch.domain.site import Site, demo_site_path, load_site
from dispatch.patrol.messages import CameraHealth, CameraHealthReply, CameraHistoryReply
from streams.patrol.types import CameraCheck, OfflineReason
from streams.simulator.picture import PictureSource
from tests.kit import pump_until
from tests.kit.hostile import HOSTILE, assert_literal, assert_no_risky_labels

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


class FleetPatrol:
    """The hub's patrol answers, in process: the newest samples and, per camera, the
    history it was given; records the cameras whose history was asked for."""

    def __init__(self, cameras: list[CameraHealth], history: dict[str, list[CameraHealth]]):
        self.cameras = cameras
        self.histories = history
        self.asked: list[str] = []

    async def camera_health(self) -> CameraHealthReply:
        return CameraHealthReply(rid="h", cameras=self.cameras)

    async def camera_history(self, camera: str, limit: int = 200) -> CameraHistoryReply:
        self.asked.append(camera)
        return CameraHistoryReply(rid="c", camera=camera, checks=self.histories.get(camera, []))


@pytest.fixture
def net() -> Iterator[NetThread]:
    n = NetThread()
    n.start()
    try:
        yield n
    finally:
        n.stop()


def history_of(health: list[CameraHealth]) -> list[CameraHealth]:
    return [
        CameraHealth(
            check=h.check.model_copy(update={"at": T0 - timedelta(minutes=10 * k)}),
            last_good="",
            open_event=None,
        )
        for k, h in enumerate([health[1], health[1], health[0].model_copy()])
    ]


def test_the_model_emits_each_change(tmp_path: Path) -> None:
    site = load_site(demo_site_path())
    health = fleet(site, tmp_path)
    model = HealthModel(site)
    summaries: list[HealthSummary] = []
    histories: list[CameraHistory] = []
    notices: list[str] = []
    model.summary_changed.connect(summaries.append)
    model.history_changed.connect(histories.append)
    model.notices.connect(notices.append)
    assert model.summary is None and model.history is None
    model.show_cameras(health)
    assert summaries == [summarise(site, health)] and model.summary == summaries[0]
    cam = site.cameras[1]
    model.show_history(cam.id, history_of(health))
    model.show_history("cam-unknown", [])
    assert [(h.camera, h.name, len(h.checks)) for h in histories] == [
        (cam.id, cam.name, 3),
        ("cam-unknown", "cam-unknown", 0),
    ]
    assert model.history == histories[-1]
    model.failed("timeout")
    assert notices == ["设备巡检数据读取失败 / camera health: timeout"]


def test_a_closed_view_is_disconnected(qapp: QApplication, tmp_path: Path) -> None:
    site = load_site(demo_site_path())
    health = fleet(site, tmp_path)
    model = HealthModel(site)
    model.show_cameras(health)
    ctl = HealthController(
        model, client=lambda: None, submit=NetThread().submit, post=QtBridge().post
    )
    view = HealthView(model, ctl)  # built after the data came: shows it at once
    assert view.faulty.rowCount() == 3
    assert len(model.summary_changed) == len(model.history_changed) == 1
    model.show_history(site.cameras[1].id, history_of(health))
    assert view.history.rowCount() == 3
    assert view.history_label.text() == t("history", name=site.cameras[1].name)
    model.show_cameras(health[:1])
    assert view.faulty.rowCount() == 0
    view.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    view.close()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert len(model.summary_changed) == len(model.history_changed) == 0
    model.show_cameras(health)  # nobody is called: the deleted view would raise
    model.show_history(site.cameras[1].id, [])


def test_health_view_screenshot(qapp: QApplication, tmp_path: Path, net: NetThread) -> None:
    site = load_site(demo_site_path())
    health = fleet(site, tmp_path / "pics")
    covered = site.cameras[1].id
    patrol = FleetPatrol(health, {covered: history_of(health)})
    assert isinstance(patrol, HealthClient)
    model = HealthModel(site)
    bridge = QtBridge()
    ctl = HealthController(model, client=lambda: patrol, submit=net.submit, post=bridge.post)
    view = HealthView(model, ctl)
    view.resize(760, 1000)
    ctl.start()
    try:
        pump_until(lambda: view.faulty.rowCount() == 3, what="the faulty cameras")
        view.pick(covered)
        assert view.current.image.pixmap() is not None
        assert not view.current.image.pixmap().isNull()
        assert not view.last_good.image.pixmap().isNull()
        pump_until(lambda: view.history.rowCount() == 3, what="the picked camera's history")
    finally:
        ctl.stop()
        ctl.stop()  # safe twice
    assert patrol.asked == [covered]
    assert view.history_label.text() == t("history", name=site.cameras[1].name)
    county = view.areas.topLevelItem(0)
    assert county is not None
    assert county.text(1) == f"{len(health)}/{len(site.cameras)}"
    assert not bridge.errors
    view.show()
    qapp.processEvents()
    out = Path(os.environ.get("HALL_SCREENSHOT_DIR", tmp_path)) / "camera_health.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    assert view.grab().save(str(out))
    img = cv2.imread(str(out))
    assert img is not None and img.shape[0] >= 900
    view.close()


def test_camera_names_from_site_files_are_shown_as_typed(
    qapp: QApplication, tmp_path: Path
) -> None:
    """Hole 3: camera names (and so the faulty list and the history heading) come from
    site files; the history heading reads them literally, no label guesses markup."""
    site = load_site(demo_site_path())
    cams = [c.model_copy(update={"name": HOSTILE[i % 5]}) for i, c in enumerate(site.cameras)]
    site = site.model_copy(update={"cameras": cams})
    health = fleet(site, tmp_path)
    model = HealthModel(site)
    model.show_cameras(health)
    ctl = HealthController(
        model, client=lambda: None, submit=NetThread().submit, post=QtBridge().post
    )
    view = HealthView(model, ctl)
    model.show_history(site.cameras[1].id, history_of(health))
    assert_literal(view.history_label, t("history", name=site.cameras[1].name), one_line=True)
    faulty = [view.faulty.item(r, 0).text() for r in range(view.faulty.rowCount())]
    assert set(faulty) <= {inert_bidi(h) for h in HOSTILE} and faulty  # RTL shown, not obeyed
    assert_no_risky_labels(view)
    view.deleteLater()
