"""One-click dispatch and video linkage from the event queue against a real `hall-hub`.

Real hub process (SQLite, demo site), real zmq, real phone HTTP API (aiohttp): the panel's
"派单" creates a task at the hub and shows 已派发; the grid leader accepts through the
phone API and the panel shows 已接单 (TaskChanged, live); "联动视频" puts the event's
nearest cameras on a WallModel (fake frame source, no RTSP) in the 1+5 layout and the
previous layout comes back. Screenshots of both under artifacts/screenshots/.
"""

from __future__ import annotations

import asyncio
import os
import re

import aiohttp
import pytest
from PySide6.QtWidgets import QApplication

from console.events.controller import EventQueueController
from console.events.panel import EventQueuePanel
from console.events.wiring import EventQueue
from console.shell.linkage import LinkageCoordinator
from console.wall.controller import WallController
from console.wall.model import WallModel
from console.wall.view import WallView
from dispatch.client.connection import HubClient
from dispatch.hub.process import HubProcess
from dispatch.tasks.core import TaskState
from tests.integration.console.events.test_event_queue_hub import post_event
from tests.kit import pump_until
from tests.kit.hub import client_keys
from tests.kit.paths import ROOT
from tests.kit.tls import hub_session
from tests.unit.console.wall.test_wall_fakes import FakeStream

pytestmark = pytest.mark.integration

SHOTS = ROOT / "artifacts" / "screenshots"

EVENT: dict[str, object] = {
    "source": "grid_report",
    "source_ref": "G-DISPATCH-1",
    "category": "neighbours",
    "title": "东街十字路口占道经营堵塞交通",
    "place": {"township": "t01", "village": "v01", "lon": 112.5421, "lat": 37.8731},
}


def login(queue: EventQueue) -> None:
    out: list[object] = []
    queue.controller.login("duty", "duty123", "席位-派单", out.append)
    pump_until(lambda: bool(out), 15, what="login answered")


def client_of(ctrl: EventQueueController) -> HubClient:
    client = ctrl._client  # the controller's real HubClient (test only)
    assert isinstance(client, HubClient)
    return client


async def phone_accept(hub: HubProcess, path: str, pin: str, task_id: str) -> int:
    jar = aiohttp.CookieJar(unsafe=True)  # cookies for 127.0.0.1
    async with hub_session(hub, base_url=hub.http_url, cookie_jar=jar) as s:
        async with s.post(f"{path}/login", data={"pin": pin}, allow_redirects=False) as r:
            assert r.status == 303, await r.text()
        async with s.post(f"{path}/api/tasks/{task_id}/accept", json={}) as r:
            return r.status


def test_one_click_dispatch_accept_and_linkage(hub: HubProcess, qapp: QApplication) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    queue = EventQueue.for_hub(hub.req_endpoint, hub.pub_endpoint, keys=client_keys(hub))
    queue.controller.auto_linkage = False
    queue.start()
    panel = EventQueuePanel(queue.model, queue.controller, beep=lambda: None, ask=lambda *a: None)
    panel.resize(1000, 900)
    wall_model = WallModel("4")
    FakeStream.instances.clear()
    names = {f"cam{i}": f"摄像机{i}" for i in range(1, 9)}
    wall = WallController(
        wall_model, FakeStream, evidence_dir=SHOTS / "_unused", names=names, budget=100
    )
    shown: list[str] = []
    coord = LinkageCoordinator(
        queue.controller, wall, post=queue.bridge.post, show_message=shown.append
    )
    coord.start()
    wall.start()
    wall_model.assign_many([(0, "cam2"), (1, "cam3")])
    try:
        login(queue)
        ev = post_event(hub, EVENT)
        event_id = str(ev["id"])
        pump_until(lambda: queue.model.row(event_id) is not None, 10, what="event in the queue")
        pump_until(lambda: panel.table_model.row_of(event_id) >= 0, 5, what="row in the table")
        panel.select_event(event_id)
        pump_until(lambda: queue.model.selected_id == event_id, 5, what="selected")

        # one click: the suggested grid leader of v01g1 (张建国, p00) with the template text
        panel.dispatch_button.click()
        pump_until(lambda: bool(queue.controller.dispatch.tasks(event_id)), 10, what="task back")
        task = queue.controller.dispatch.tasks(event_id)[0]
        assert task.assignee == "p00"
        assert task.state is TaskState.SENT
        assert "已派发" in panel.tasks_view.header_labels[task.id].text()
        assert re.search(
            r"已派发</b> [\d-]+ \d\d:\d\d:\d\d", panel.tasks_view.step_labels[task.id].text()
        )
        at_hub = queue.net.submit(client_of(queue.controller).tasks.tasks(event_id)).result(10)
        assert [t.id for t in at_hub] == [task.id]

        # the grid leader accepts on the phone (HTTP API): the panel shows it live
        c = client_of(queue.controller)
        link = queue.net.submit(c.tasks.issue_phone_link("p00")).result(10)
        status = asyncio.run(phone_accept(hub, link.path, link.pin, task.id))
        assert status == 200
        pump_until(
            lambda: queue.controller.dispatch.tasks(event_id)[0].state is TaskState.ACCEPTED,
            10,
            what="accepted seen by the console",
        )
        pump_until(
            lambda: "已接单" in panel.tasks_view.header_labels[task.id].text(),
            5,
            what="panel shows",
        )
        steps = panel.tasks_view.step_labels[task.id].text()
        assert "已接单</b>" in steps and "已送达</b>" in steps
        # the officer may cancel or reassign an accepted task, not confirm it yet
        actions = {a.value for (tid, a) in panel.tasks_view.buttons if tid == task.id}
        assert actions == {"cancel", "reassign"}
        # the timeline got the dispatch rows in words
        pump_until(
            lambda: any(e.action == "task_accept" for e in (queue.model.timeline(event_id) or [])),
            10,
            what="timeline row",
        )
        panel.resize(1000, 1150)
        panel.show()
        panel.splitter.setSizes([250, 900])
        panel.details.body.setSizes([560, 340])
        for _ in range(20):
            qapp.processEvents()
        panel.grab().save(str(SHOTS / "event_queue_dispatch.png"))
        panel.hide()

        # linkage: L on the selected event → the nearest cameras, 1+5, cam1 (nearest) large
        panel.link_video()
        pump_until(lambda: wall_model.linkage is not None, 10, what="linkage on the wall")
        assert wall_model.shape.name == "1+5"
        assert wall_model.camera(0) == "cam1"
        assert wall_model.linkage is not None
        assert wall_model.linkage.title == EVENT["title"]
        assert set(wall.live_slots()) == set(wall_model.assignments())
        assert any("联动视频" in m for m in shown)
        view = WallView(wall)
        view.resize(1280, 720)
        view.start()
        for _ in range(3):
            view.tick()
            qapp.processEvents()
        view.grab().save(str(SHOTS / "wall_linkage.png"))
        view.stop()
        coord.restore()
        assert wall_model.shape.name == "4"
        assert wall_model.assignments() == {0: "cam2", 1: "cam3"}
    finally:
        coord.stop()
        wall.stop()
        panel.close()
        queue.stop()
