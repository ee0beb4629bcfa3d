"""The console's report tab and hot-spot panel against a real hub process (issue 7).

Events go in through the hub's intake; the console (event queue + report controller)
logs in as a supervisor over zmq; the report view must show the month's figures, a
click on the hot spot must narrow the queue to its events and select one, and the PDF
export must write a real PDF fetched from the hub.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtWidgets import QApplication, QWidget

from console.events.model import EventQueueModel
from console.events.panel import EventQueuePanel
from console.events.wiring import EventQueue
from console.reports.controller import ReportsInstall, install_reports
from dispatch.hub.process import HubProcess
from tests.kit import pump_until
from tests.kit.hub import HUB_API_KEY, client_keys
from tests.kit.tls import hub_session

pytestmark = pytest.mark.integration

SPIKE = "environment"


async def post_all(hub: HubProcess, bodies: list[dict[str, Any]]) -> list[str]:
    ids = []
    async with hub_session(hub) as s:
        for body in bodies:
            async with s.post(
                f"{hub.http_url}/api/v1/events", json=body, headers={"X-Api-Key": HUB_API_KEY}
            ) as r:
                assert r.status in (200, 201), await r.text()
                ids.append(str((await r.json())["id"]))
    return ids


def body(n: int, category: str) -> dict[str, Any]:
    return {
        "source": "grid_report",
        "source_ref": f"console-{category}-{n}",
        "category": category,
        "title": f"控制台测试 {n}",
        "place": {"township": "t01"},
    }


class Setup:
    def __init__(self, hub: HubProcess, save_dir: Path) -> None:
        self.queue = EventQueue.for_hub(hub.req_endpoint, hub.pub_endpoint, keys=client_keys(hub))
        self.queue.start()
        self.panel = EventQueuePanel(
            self.queue.model, self.queue.controller, beep=lambda: None, ask=lambda *a: None
        )
        self.docks: list[tuple[str, QWidget]] = []
        self.raised = 0

        def add(widget: QWidget, title: str) -> None:
            self.docks.append((title, widget))

        def raise_panel() -> None:
            self.raised += 1

        self.reports: ReportsInstall = install_reports(
            add,
            self.queue,
            hub.http_url,
            save_dir=save_dir,
            raise_panel=raise_panel,
            http_ssl=hub.ssl_context(),
        )

    @property
    def model(self) -> EventQueueModel:
        return self.queue.model

    def login(self, operator: str, password: str) -> None:
        out: list[object] = []
        self.queue.controller.login(operator, password, "席位R", out.append)
        pump_until(lambda: bool(out), 15, what="login")

    def close(self) -> None:
        self.reports.stop()
        self.queue.stop()
        self.panel.close()
        for _t, w in self.docks:
            w.close()
        assert not self.queue.bridge.errors


@pytest.fixture
def setup(hub: HubProcess, tmp_path: Path, qapp: QApplication) -> Iterator[Setup]:
    s = Setup(hub, tmp_path / "reports")
    try:
        yield s
    finally:
        s.close()


def table(view: Any) -> dict[str, str]:
    t = view.table
    return {t.item(r, 0).text(): t.item(r, 1).text() for r in range(t.rowCount())}


def test_report_tab_and_hot_spot_click(hub: HubProcess, setup: Setup, tmp_path: Path) -> None:
    spike = asyncio.run(post_all(hub, [body(i, SPIKE) for i in range(6)]))
    other = asyncio.run(post_all(hub, [body(i, "neighbours") for i in range(2)]))
    assert [t for t, _w in setup.docks] == ["热点预警", "信息月报"]
    setup.login("leader", "leader123")
    pump_until(lambda: len(setup.model.rows()) == 8, 20, what="the queue holds the 8 events")

    # the hot spots arrive after login
    panel = setup.reports.panel
    pump_until(lambda: setup.reports.model.hotspots is not None, 20, what="hot spots")
    texts = [panel.list.item(i).text() for i in range(panel.list.count())]
    assert any("环境污染" in t and "6 件" in t for t in texts), texts

    # the report of this month
    view = setup.reports.view
    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    view.set_month(now.date())
    view.load_button.click()
    pump_until(lambda: setup.reports.model.reply is not None, 30, what="the report")
    pump_until(lambda: "受理事件数" in table(view), 5, what="the report table")
    figures = table(view)
    assert figures["受理事件数"] == "8"
    assert figures["热点预警"] == "1"
    assert f"{now.year}年{now.month}月" in view.title.text()
    charts = view.charts.layout()
    assert charts is not None and charts.count() == 2
    assert view.export_button.isEnabled()

    # one click on the hot spot: the queue shows only its events, one selected
    rows = [panel.list.item(i) for i in range(panel.list.count())]
    item = next(r for r in rows if "环境污染" in r.text())
    panel.list.itemClicked.emit(item)
    assert setup.model.only == frozenset(spike)
    assert {r.event.id for r in setup.model.visible()} == set(spike)
    assert setup.model.selected_id in spike
    assert setup.raised == 1
    assert not setup.panel.only_banner.isHidden()
    assert "6" in setup.panel.only_text.text()
    setup.panel.only_clear.click()
    assert setup.model.only is None
    assert {r.event.id for r in setup.model.visible()} == set(spike) | set(other)
    assert setup.panel.only_banner.isHidden()

    # export: the PDF comes from the hub over HTTP with the session's token
    view.export_button.click()
    pump_until(lambda: bool(setup.reports.model.saved), 60, what="the PDF")
    pdf = setup.reports.model.saved[0]
    assert pdf.read_bytes().startswith(b"%PDF")
    assert pdf.parent == tmp_path / "reports"


def test_duty_officer_sees_hot_spots_but_not_the_report(hub: HubProcess, setup: Setup) -> None:
    setup.login("duty", "duty123")
    pump_until(lambda: setup.reports.model.hotspots is not None, 20, what="hot spots")
    setup.reports.view.load_button.click()
    pump_until(lambda: "出错" in setup.reports.view.status.text(), 20, what="the refusal")
    assert "supervisor" in setup.reports.view.status.text()
    assert setup.reports.model.reply is None
