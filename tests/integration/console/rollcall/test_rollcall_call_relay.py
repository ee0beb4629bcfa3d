"""The roll-call panel's video area says when the call's media goes through the TURN
relay: a hub running its own coturn with `relay_only`, a real (aiortc) station, and the
panel joining the answered call; its status line reads 已接入：第1镇（经中继服务器 TURN
转发） (the loopback panel test checks that a direct call does not say so)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from console.kit.net import NetThread, QtBridge
from dispatch.hub.turn import plan_of
from tests.integration.dispatch.rollcall.test_rollcall_support import (
    Hall,
    logged_in,
    pump,
    rollcall_panel,
    write_site,
)
from tests.integration.dispatch.rollcall.test_rollcall_turn import turn_hub

pytestmark = [pytest.mark.integration]


def test_panel_says_the_call_is_relayed(qapp: QApplication, tmp_path: Path) -> None:
    hub, _port = turn_hub(tmp_path, write_site(tmp_path / "site.toml", 1, 0))
    hub.start()
    net = NetThread()
    net.start()
    h = Hall(hub, net, net.submit(logged_in(hub, request_timeout_s=30)).result(30), [])
    try:
        # the station's peer through the hub's coturn too (coturn relays no loopback host)
        ice = plan_of(net.submit(h.client.ice()).result(30)).configuration()
        (station,) = h.open_stations({"t01": "answer"}, ice=ice)
        panel, ctl = rollcall_panel(
            h.client, net, QtBridge(), http_url=hub.http_url, http_ssl=hub.ssl_context()
        )
        panel.show()
        ctl.start()
        pump(lambda: station.hello.is_set(), what="station online")
        net.submit(h.client.rollcall.start(ring_s=30.0, talk_s=600.0)).result(30)
        area, call = panel.call_area, ctl.call
        pump(lambda: call.frames > 10, what="station frames through TURN")
        pump(lambda: "经中继服务器" in area.status.text(), what="relay said")
        assert area.status.text() == "已接入：第1镇（经中继服务器 TURN 转发）"
        assert call.model.relayed and call.star is not None
        assert ("relay", "relay") in call.star.selected_pairs()
        panel.close()
        ctl.stop()
    finally:
        for s in h.stations:
            net.submit(s.stop()).result(30)
        net.submit(h.client.stop()).result(30)
        net.stop()
        hub.stop()
