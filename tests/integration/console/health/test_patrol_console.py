"""The health panel reads a real hub over zmq (the event queue's logged-in client):
samples posted over HTTP show up in the view after the login, delivered on the Qt
thread; a camera's history comes back when it is picked."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtWidgets import QApplication

from console.events.wiring import EventQueue
from console.health.controller import install_health
from console.health.model import HealthSummary
from console.health.view import HealthView
from dispatch.domain.site import demo_site_path, load_site
from dispatch.hub.process import HubProcess
from streams.patrol.runner import HubSink
from streams.patrol.types import CameraCheck, OfflineReason
from tests.kit import pump_until
from tests.kit.hub import HUB_API_KEY, client_keys

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def test_panel_shows_hub_figures_and_history(qapp: QApplication, hub: HubProcess) -> None:
    site = load_site(demo_site_path())
    cams = [c.id for c in site.cameras]
    checks = [
        CameraCheck(camera=c, at=T0 + timedelta(minutes=m), online=True)
        for m in (0, 5)
        for c in cams[2:]
    ]
    checks += [
        CameraCheck(camera=cams[0], at=T0, online=False, reason=OfflineReason.TIMEOUT),
        CameraCheck(camera=cams[1], at=T0, online=True, faults={"frozen": 99.0}),
        CameraCheck(camera=cams[1], at=T0 + timedelta(minutes=5), online=True, faults={"black": 9}),
    ]
    HubSink(hub.http_url, HUB_API_KEY, ssl_context=hub.ssl_context()).post(checks)

    queue = EventQueue.for_hub(hub.req_endpoint, hub.pub_endpoint, keys=client_keys(hub))
    queue.start()
    views: list[HealthView] = []
    health = install_health(lambda v, _title: views.append(v), site, queue)
    view = views[0]
    threads: list[bool] = []

    def on_summary(_summary: HealthSummary) -> None:
        threads.append(threading.current_thread() is threading.main_thread())

    health.model.summary_changed.connect(on_summary)
    logged_in: list[object] = []
    queue.controller.login("duty", "duty123", "席位H", logged_in.append)
    try:
        pump_until(lambda: view.faulty.rowCount() == 2)
        assert threads and all(threads)
        county = view.areas.topLevelItem(0)
        assert county is not None
        assert county.text(1) == f"{len(cams)}/{len(cams)}"
        assert county.text(2) == f"{100 * (len(cams) - 1) / len(cams):.1f}%"
        view.pick(cams[1])
        pump_until(lambda: view.history.rowCount() == 2)
        item = view.history.item(0, 2)
        assert item is not None and item.text() == "黑屏"  # newest first
        health.stop()
        health.stop()  # safe twice
    finally:
        health.stop()
        queue.stop()
        view.close()
    assert not queue.bridge.errors
