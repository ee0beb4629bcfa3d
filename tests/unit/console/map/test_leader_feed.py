"""The map's leader layer follows the hub's positions: a position heard on the network
thread reaches the model on the Qt thread, fades past half the age limit and goes past
it without anything new arriving (the feed's timer looks again)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from PySide6.QtWidgets import QApplication

from console.kit.net import NetThread, QtBridge
from console.map.feed import LeaderFeed
from console.map.model import MapModel
from dispatch.domain.site import demo_site_path, load_site
from dispatch.positions.messages import LeaderPosition
from tests.kit.wait import pump_until

T0 = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)


def test_heard_faded_and_gone(qapp: QApplication) -> None:
    now = [T0]
    model = MapModel(load_site(demo_site_path()))
    feed = LeaderFeed(model, lambda: None, NetThread(), QtBridge(), now=lambda: now[0])
    assert not feed.start()  # not logged in: nothing to follow yet
    pos = LeaderPosition(
        person_id="p00", name="张建国", lon=112.5425, lat=37.8741, at=T0, accuracy_m=12.0
    )
    heard = threading.Thread(target=feed._heard, args=([pos], 3600.0))  # the network thread
    heard.start()
    heard.join()
    pump_until(lambda: "p00" in model.leaders, 5.0)
    assert model.leaders["p00"].when == "10:00" and not model.leaders["p00"].faded
    now[0] = T0 + timedelta(minutes=31)
    feed.refresh()
    assert model.leaders["p00"].faded
    now[0] = T0 + timedelta(minutes=61)
    feed.refresh()
    assert model.leaders == {}
    feed.stop()
    feed.stop()
