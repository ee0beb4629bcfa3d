"""The roll-call panel docked in the console's main window against a real hub: it is
tabbed with the other right-side panels, waits for the event queue's login, then shows
the roster and schedule through the event queue's own hub client."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QDockWidget, QLabel

from console.events.controller import LoginOutcome
from console.events.model import Session
from console.events.wiring import EventQueue
from console.rollcall.install import install_rollcall
from console.rollcall.strings import t
from tests.integration.dispatch.rollcall.test_rollcall_support import (
    cells,
    pump,
    rollcall_hub,
    write_site,
)
from tests.kit.hub import client_keys
from tests.unit.console.shell.test_console_window import window

pytestmark = [pytest.mark.integration]


def test_docked_panel_wires_itself_at_login(qapp: QApplication, tmp_path: Path) -> None:
    hub = rollcall_hub(tmp_path, write_site(tmp_path / "site.toml", 2, 1))
    hub.start()
    queue = EventQueue.for_hub(hub.req_endpoint, hub.pub_endpoint, keys=client_keys(hub))
    queue.start()
    w = window(tmp_path / "cfg")
    try:
        w.start(default_cameras=[])
        other = QLabel("events")
        w.add_side_panel(other, "事件队列")
        inst = install_rollcall(queue.controller, queue.net, queue.bridge, w.add_side_panel)
        docks = {d.windowTitle(): d for d in w.findChildren(QDockWidget)}
        assert set(docks) >= {"事件队列", t("panel_title")} and t("panel_title") == "视频点名"
        assert w.tabifiedDockWidgets(docks["事件队列"]) == [docks[t("panel_title")]]
        assert w.raise_side_panel(inst.panel) and not w.raise_side_panel(QLabel("none"))
        assert inst.controller.client is None  # nobody logged in yet
        outcomes: list[LoginOutcome] = []
        queue.controller.login("duty", "duty123", "hall-1", outcomes.append)
        pump(lambda: bool(outcomes), what="login")
        assert outcomes[0].session is not None
        pump(lambda: inst.panel.roster_table.rowCount() == 4, what="roster via the queue")
        assert "第1镇" in cells(inst.panel.roster_table, 1)
        assert "下次点名" in inst.panel.schedule.text()
        first = inst.controller
        assert first.client is not None and first.client is queue.controller.client
        # a later session change (re-login) keeps the one controller
        session: Session | None = queue.model.session
        queue.model.set_session(None)
        queue.model.set_session(session)
        assert inst.controller is first and first.client is queue.controller.client
        inst.stop()
        inst.stop()
        assert first.client.rollcall.listening == 0
    finally:
        w.close()
        queue.stop()
        hub.stop()
