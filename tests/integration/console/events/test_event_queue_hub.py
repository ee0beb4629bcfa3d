"""The event queue panel against a real `hall-hub` subprocess over real zmq and HTTP.

Events are posted through the intake API; the panel logs in with a demo operator; an
action from one panel reaches the hub and comes back to both panels; a hub killed with
SIGKILL and restarted on the same database and ports: banner shown, contents kept,
caught up afterwards.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QApplication, QTableWidget

from console.events.controller import LoginOutcome
from console.events.panel import EventQueuePanel
from console.events.strings import tr
from console.events.table import Col
from console.events.wiring import EventQueue
from dispatch.domain.model import Action, EventState
from dispatch.hub.process import TEST_CONSOLE, HubProcess
from tests.kit import pump_for, pump_until
from tests.kit.hub import HUB_API_KEY, StartHub, fixed_ports

pytestmark = pytest.mark.integration


def cell(table: QTableWidget, row: int, col: int) -> str:
    item = table.item(row, col)
    return item.text() if item is not None else ""


def post_event(hub: HubProcess, body: dict[str, object]) -> dict[str, object]:
    req = urllib.request.Request(
        f"{hub.http_url}/api/v1/events",
        data=json.dumps(body).encode("utf-8"),
        headers={"Content-Type": "application/json", "X-Api-Key": HUB_API_KEY},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=10, context=hub.ssl_context()) as resp:
        assert resp.status == 201
        out: dict[str, object] = json.loads(resp.read())
        return out


def get_event(hub: HubProcess, event_id: str) -> dict[str, object]:
    req = urllib.request.Request(
        f"{hub.http_url}/api/v1/events/{event_id}", headers={"X-Api-Key": HUB_API_KEY}
    )
    with urllib.request.urlopen(req, timeout=10, context=hub.ssl_context()) as resp:
        out: dict[str, object] = json.loads(resp.read())
        return out


REPORTS: list[dict[str, object]] = [
    {
        "source": "grid_report",
        "source_ref": "G-001",
        "category": "neighbours",
        "title": "楼上住户深夜装修噪音扰民",
        "place": {"township": "t01", "address": "东街社区3号楼"},
        "reporter": {"name": "刘女士", "phone": "13912345678"},
    },
    {
        "source": "hotline_12345",
        "source_ref": "12345-0002",
        "category": "wages",
        "priority": "urgent",
        "title": "建筑工地拖欠农民工工资",
        "place": {"township": "t02", "address": "河西村工业园"},
    },
    {
        "source": "camera_alarm",
        "source_ref": "CAM-3",
        "category": "safety_hazard",
        "priority": "emergency",
        "title": "河堤有人员聚集",
        "place": {"township": "t03"},
    },
]


class Console:
    """One console: an EventQueue with its panel, logged in."""

    def __init__(self, proc: HubProcess, workstation: str) -> None:
        # each console enrolled under its own workstation name: the hub opens the
        # session as the enrolled name (a console cannot claim another's)
        self.queue = EventQueue.for_hub(
            proc.req_endpoint, proc.pub_endpoint, keys=proc.enrol_console(workstation)
        )
        self.queue.start()
        self.panel = EventQueuePanel(
            self.queue.model, self.queue.controller, beep=lambda: None, ask=lambda *a: None
        )
        self.panel.resize(900, 700)
        self.workstation = workstation

    def login(self, operator: str = "duty", password: str = "duty123") -> LoginOutcome:
        """Logs in; while the hub has not yet reread its enrolment book (every 0.5 s) the
        workstation is refused, so a refusal is retried for a bounded time."""
        deadline = time.monotonic() + 15
        while True:
            out: list[LoginOutcome] = []
            self.queue.controller.login(operator, password, self.workstation, out.append)
            pump_until(lambda out=out: bool(out), 15, what="login answered")  # type: ignore[misc]
            if out[0].error != tr("login.refused") or time.monotonic() > deadline:
                return out[0]
            pump_for(0.5)

    def ids(self) -> list[str]:
        tm = self.panel.table_model
        return [str(tm.event_id(r)) for r in range(tm.rowCount())]

    def state_of(self, event_id: str) -> str:
        tm = self.panel.table_model
        r = tm.row_of(event_id)
        return "" if r < 0 else str(tm.data(tm.index(r, Col.STATE)))

    def close(self) -> None:
        self.queue.stop()
        self.panel.close()
        self.panel.deleteLater()
        assert not self.queue.bridge.errors


@pytest.fixture
def consoles(qapp: QApplication) -> Iterator[list[Console]]:
    made: list[Console] = []
    yield made
    for c in made:
        c.close()


def test_panels_show_intake_and_share_an_action(hub: HubProcess, consoles: list[Console]) -> None:
    a = Console(hub, "席位A")
    b = Console(hub, "席位B")
    consoles += [a, b]
    out = a.login()
    assert out.ok and a.panel.session_label.text() == "duty（值班员）@ 席位A"
    assert b.login("leader", "leader123").ok
    ids = [str(post_event(hub, r)["id"]) for r in REPORTS]
    for c in (a, b):
        pump_until(lambda c=c: sorted(c.ids()) == sorted(ids), 10, what="events shown")  # type: ignore[misc]
    # action from panel A
    a.panel.select_event(ids[0])
    pump_until(lambda: a.queue.model.selected_id == ids[0])
    pump_until(lambda: Action.REGISTER in a.panel.details.buttons)
    a.panel.details.buttons[Action.REGISTER].click()
    t0 = time.monotonic()
    pump_until(lambda: b.state_of(ids[0]) == "登记", 10, what="change reached panel B")
    took = time.monotonic() - t0
    pump_until(lambda: a.state_of(ids[0]) == "登记", 5, what="change back in panel A")
    assert get_event(hub, ids[0])["state"] == EventState.REGISTERED.value
    print(f"\naction in A -> shown in B: {took * 1000:.0f} ms (incl. the hub's commit)")
    # the timeline in A has the row with A's workstation
    d = a.panel.details
    pump_until(lambda: any(cell(d.timeline, r, 2) == "席位A" for r in range(d.timeline.rowCount())))


def test_wrong_password_against_the_real_hub(hub: HubProcess, consoles: list[Console]) -> None:
    a = Console(hub, "席位A")
    consoles.append(a)
    out = a.login("duty", "not-the-password")
    assert not out.ok and out.error == "用户名或密码错误，请重新输入。"


def test_hub_killed_and_restarted_banner_kept_contents_caught_up(
    consoles: list[Console], start_hub: StartHub
) -> None:
    proc = start_hub(demo=True, **fixed_ports())
    a = Console(proc, TEST_CONSOLE)  # enrolled before the hub started: admitted at once
    consoles.append(a)
    assert a.login().ok
    ids = [str(post_event(proc, r)["id"]) for r in REPORTS]
    pump_until(lambda: sorted(a.ids()) == sorted(ids), 10, what="events shown")
    proc.kill()
    pump_until(lambda: not a.panel.conn_banner.isHidden(), 15, what="lost banner")
    assert a.panel.conn_banner.text().startswith("与指挥中心服务连接中断 — 显示的是 ")
    assert sorted(a.ids()) == sorted(ids)  # contents kept
    assert all(not b.isEnabled() for b in a.panel.details.buttons.values())
    proc.start(timeout_s=60)
    new = str(
        post_event(
            proc,
            {
                "source": "walk_in",
                "source_ref": "W-9",
                "category": "family",
                "title": "夫妻离婚财产分割纠纷",
            },
        )["id"]
    )
    pump_until(lambda: a.panel.conn_banner.isHidden(), 20, what="banner gone after restart")
    pump_until(lambda: new in a.ids(), 10, what="caught up with the event posted meanwhile")
    assert set(ids) <= set(a.ids())
    # and actions work again after the reconnect
    a.panel.select_event(new)
    pump_until(lambda: Action.REGISTER in a.panel.details.buttons)
    a.panel.details.buttons[Action.REGISTER].click()
    pump_until(lambda: a.state_of(new) == "登记", 10, what="action after restart")
