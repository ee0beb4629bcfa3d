"""The map against a real `hall-hub`: an event published by the hub appears in the warning
colour the hub gave it, where its coordinates say; clicking it selects it in the queue.

The hub colours by deadline (red = overdue), so a fresh event is green; the red flash
from a real hub (its test wall clock moved past the deadline) is
test_map_red_flash.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QApplication

from console.events.controller import LoginOutcome
from console.events.wiring import EventQueue
from console.map.install import link_map
from console.map.model import MapModel
from console.map.panel import MapPanel
from console.map.projection import lonlat_to_world
from dispatch.domain.model import Colour
from dispatch.domain.site import demo_site_path, load_site
from dispatch.hub.process import HubProcess
from tests.integration.console.events.test_event_queue_hub import post_event
from tests.kit import pump_until
from tests.kit.hub import client_keys

pytestmark = pytest.mark.integration

EVENT: dict[str, object] = {
    "source": "camera_alarm",
    "source_ref": "CAM-MAP-1",
    "category": "safety_hazard",
    "priority": "emergency",
    "title": "河堤有人员聚集",
    "place": {"township": "t01", "lon": 112.5425, "lat": 37.8740},
}


@pytest.fixture
def queue(qapp: QApplication, hub: HubProcess) -> Iterator[EventQueue]:
    q = EventQueue.for_hub(hub.req_endpoint, hub.pub_endpoint, keys=client_keys(hub))
    q.start()
    yield q
    q.stop()
    assert not q.bridge.errors


def test_event_from_the_hub_appears_and_is_selected_by_a_click(
    qapp: QApplication, hub: HubProcess, queue: EventQueue
) -> None:
    panel = MapPanel(MapModel(load_site(demo_site_path())))
    panel.resize(900, 600)
    panel.show()
    links = link_map(panel, queue.model, queue.controller)
    out: list[LoginOutcome] = []
    queue.controller.login("duty", "duty123", "席位A", out.append)
    pump_until(lambda: bool(out), 15, what="login answered")
    assert out[0].ok
    model, view = panel.model, panel.view
    qapp.processEvents()
    painted = view.events.painted
    event_id = str(post_event(hub, EVENT)["id"])
    pump_until(lambda: event_id in model.events, 10, what="red event on the map")
    marker = model.events[event_id]
    row = queue.model.row(event_id)
    assert row is not None and marker.colour is row.colour is Colour.GREEN
    assert marker.at == pytest.approx(lonlat_to_world(112.5425, 37.8740))
    pump_until(lambda: view.events.painted > painted, 5, what="marker painted")
    view.centre_on_world(*marker.at, scale=0.5)
    qapp.processEvents()
    assert view.click(QPointF(view.mapFromScene(QPointF(marker.at[0], -marker.at[1]))))
    pump_until(lambda: queue.model.selected_id == event_id, 5, what="selected in the queue")
    assert model.highlighted == {event_id}
    links.stop()
    panel.close()
