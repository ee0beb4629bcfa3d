"""A red event published by a real hub appears on the map and flashes.

Red is overdue (`dispatch.domain.rules`: an accepted event's routing stage ends an hour
after acceptance), so the hub runs on a test wall clock (`HubProcess(clock_offset_file=…)`,
`dispatch.hub.clock`): the event is posted through the intake API over HTTPS and shows
green; then the hub's clock is moved 61 minutes on, the hub's deadline timer publishes it
red, the console's own queue (HubClient with the enrolled console's CURVE keys) raises the
alarm, and the map panel (offscreen, linked with `link_map`) flashes its marker: the ring
is painted red around it in one phase and not in the other, and the flashing stops.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication

from console.events.controller import LoginOutcome
from console.events.wiring import EventQueue
from console.map.install import link_map
from console.map.items import WARNING
from console.map.model import MapModel
from console.map.panel import MapPanel
from console.map.view import MapView
from dispatch.domain.model import Colour
from dispatch.domain.site import demo_site_path, load_site
from dispatch.hub.process import HubProcess
from tests.integration.console.events.test_event_queue_hub import post_event
from tests.kit import pump_until
from tests.kit.hub import StartHub, client_keys

pytestmark = pytest.mark.integration

EVENT: dict[str, object] = {
    "source": "camera_alarm",
    "source_ref": "CAM-MAP-RED",
    "category": "safety_hazard",
    "priority": "emergency",
    "title": "河堤有人员聚集",
    "place": {"township": "t01", "lon": 112.5425, "lat": 37.8740},
}
OVERDUE_S = 61 * 60
"""Past the routing stage's hour."""


@pytest.fixture
def hub(start_hub: StartHub, tmp_path: Path) -> HubProcess:
    clock = tmp_path / "clock-offset"
    clock.write_text("0\n")
    return start_hub(demo=True, clock_offset_file=clock)


@pytest.fixture
def queue(qapp: QApplication, hub: HubProcess) -> Iterator[EventQueue]:
    q = EventQueue.for_hub(hub.req_endpoint, hub.pub_endpoint, keys=client_keys(hub))
    q.start()
    yield q
    q.stop()
    assert not q.bridge.errors


def ring_is_red(view: MapView, at: QPointF) -> bool:
    """Whether the flash's filled disc covers a point 12 px beside the marker (the
    marker itself is 7 px, the ring of the dark phase ends at 10.5 px)."""
    image = view.viewport().grab().toImage()
    p = view.mapFromScene(at)
    c = image.pixelColor(p.x() + 12, p.y())
    want: QColor = WARNING[0]
    diff = abs(c.red() - want.red()) + abs(c.green() - want.green())
    return diff + abs(c.blue() - want.blue()) < 60


def test_red_event_from_the_hub_appears_and_flashes(
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
    event_id = str(post_event(hub, EVENT)["id"])
    pump_until(lambda: event_id in model.events, 10, what="the event on the map")
    assert model.events[event_id].colour is Colour.GREEN and not view.flashing()
    at = QPointF(model.events[event_id].at[0], -model.events[event_id].at[1])
    view.centre_on_world(*model.events[event_id].at, scale=0.5)
    qapp.processEvents()
    assert not ring_is_red(view, at)

    hub.set_clock_offset(OVERDUE_S)
    pump_until(
        lambda: model.events[event_id].colour is Colour.RED, 15, what="the hub publishes it red"
    )
    pump_until(lambda: event_id in view.flashing(), 5, what="the red marker flashing")
    phases: set[bool] = set()

    def both_phases_seen() -> bool:
        phases.add(ring_is_red(view, at))
        return phases == {True, False}

    pump_until(both_phases_seen, 5, interval=0.05, what="the flash's red disc on and off")
    pump_until(lambda: not view.flashing(), 15, what="the flashing ends")
    assert not ring_is_red(view, at)
    links.stop()
    panel.close()
