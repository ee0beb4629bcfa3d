"""The roll-call panel's video area against a real hub and a real (aiortc) station that
sends camera and tone and receives the hall: the panel joins the answered call by
itself, shows the station's frames (tile) and who is speaking, sends the demo hall
camera and tone (the station receives them), says why when it cannot join (hub
refused, connection failed — Chinese sentences, no traceback), leaves and rejoins by
hand without ending the call, and shows 通话已结束 when the officer ends it. While joined,
the 本端 / Me tile (bottom-right of the picture) shows what the hall sends; it is hidden
and gets no more frames once the panel has left.
Offscreen screenshot: artifacts/screenshots/rollcall-call.png."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from console.kit.net import QtBridge
from console.rollcall.call_view import SELF_SIZE
from tests.integration.dispatch.mediation.test_mediation_support import SHOTS
from tests.integration.dispatch.rollcall.test_rollcall_support import (
    LOOPBACK,
    hall,
    pump,
    rollcall_panel,
)

pytestmark = [pytest.mark.integration]

MIN_FRAMES = 20


def test_panel_sees_and_hears_the_station(qapp: QApplication, tmp_path: Path) -> None:
    app = qapp
    SHOTS.mkdir(parents=True, exist_ok=True)
    with hall(tmp_path, 1, 0) as h:
        hub, net, client = h.hub, h.net, h.client
        (station,) = h.open_stations({"t01": "answer"}, full=True)
        bridge = QtBridge()
        panel, ctl = rollcall_panel(
            client,
            net,
            bridge,
            http_url=hub.http_url,
            keep_hosts=LOOPBACK,
            http_ssl=hub.ssl_context(),
        )
        panel.resize(900, 900)
        panel.show()
        area, call = panel.call_area, ctl.call
        ctl.start()
        pump(lambda: panel.roster_table.rowCount() == 1, what="roster shown")
        assert area.auto.isChecked() and area.join_button.text() == "接入画面"
        # no call: the hub refuses, the panel says so
        area.join_button.click()
        pump(lambda: "中枢拒绝接入" in area.status.text(), what="refusal shown")
        assert "没有进行中的通话" in area.status.text() and not area.joined
        # the first automatic join goes to a dead address: the failure is shown, no retry
        call.http_url = "https://127.0.0.1:9"
        pump(lambda: station.hello.is_set(), what="station online")
        net.submit(client.rollcall.start(ring_s=30.0, talk_s=600.0)).result(30)
        pump(lambda: "连接中枢失败" in area.status.text(), what="connection failure shown")
        assert "Traceback" not in area.status.text() and not area.joined
        assert call.left_by_hand == {"t01"} and call.joins == 2  # by hand + automatic
        # by hand, with the right address: joins, both ways, video and sound
        call.http_url = hub.http_url
        area.join_button.click()
        pump(lambda: call.frames > MIN_FRAMES, what="station frames in the tile")
        pump(lambda: call.audio_frames > MIN_FRAMES, what="station audio")
        pump(lambda: area.video.frames > MIN_FRAMES, what="tile painted frames")
        assert area.joined and area.join_button.text() == "退出画面"
        # loopback host candidates: not relayed, and the status line does not say so
        assert call.star is not None and call.star.selected_pairs()
        assert not call.model.relayed and "中继" not in area.status.text()
        assert area.title.text() == "第1镇" and area.video.caption == "第1镇"
        assert area.video.image is not None
        h, w = area.video.image.shape[:2]
        assert (w, h) == area.video.picture_size() and w >= 320
        # 本端 / Me: the hall's own outgoing frames, 160x120, bottom-right of the area
        me = area.self_view
        assert not bridge.errors
        pump(lambda: me.frames > MIN_FRAMES, what="hall frames in the 本端 tile")
        assert me.isVisible() and call.self_frames == me.frames
        assert me.image is not None and me.image.shape == (SELF_SIZE[1], SELF_SIZE[0], 4)
        assert int(me.image[..., :3].max()) - int(me.image[..., :3].min()) > 30  # a picture
        geo, box = me.geometry(), area.video.rect()
        assert box.contains(geo) and geo.right() > box.width() - 40 and geo.top() > 0
        assert geo.bottom() > box.height() - 60
        pump(lambda: station.received["video"] > MIN_FRAMES, what="hall video at the station")
        pump(lambda: station.received["audio"] > MIN_FRAMES, what="hall audio at the station")
        pump(lambda: area.speaker.text().startswith("【发言】"), what="station speaking")
        pump(lambda: area.duration.text().startswith("接通时长 0:0"), what="duration shown")
        assert any(m.get("type") == "hall" and m["present"] for m in station.messages)
        assert "通话中" in [panel.run_table.item(0, 2).text()]
        pump(lambda: call.frames > 3 * MIN_FRAMES, what="a settled picture for the shot")
        panel.grab().save(str(SHOTS / "rollcall-call.png"))

        # leave by hand: the call goes on, no automatic rejoin; then join again
        area.join_button.click()
        assert not area.joined and "通话继续" in area.status.text()
        assert not me.isVisible() and me.image is None
        me_at_leave = me.frames
        pump(
            lambda: any(m.get("type") == "hall" and not m["present"] for m in station.messages),
            what="station told the hall left",
        )
        assert me.frames == me_at_leave and not me.isVisible()  # no late frames shown
        assert panel.model.run is not None and panel.model.run.in_call == ["t01"]
        before = station.received["video"]
        area.join_button.click()
        pump(lambda: call.frames > MIN_FRAMES and area.joined, what="rejoined")
        pump(lambda: station.received["video"] > before + MIN_FRAMES, what="hall video again")
        pump(lambda: me.frames > me_at_leave + MIN_FRAMES, what="本端 tile again")
        assert me.isVisible()

        # the officer ends the call: the area says so and leaves
        panel.end_call_button.click()
        pump(lambda: not area.joined, what="left at the end of the call")
        assert not me.isVisible() and me.image is None
        assert area.status.text().startswith("通话已结束"), area.status.text()
        pump(lambda: "已完成" in panel.summary.text(), what="run done")
        assert area.status.text().startswith("通话已结束")
        run = panel.model.run
        assert run is not None and run.calls[0].outcome == "answered" and run.calls[0].snapshot
        assert not bridge.errors
        ctl.stop()
        ctl.stop()
        panel.close()
    del app
