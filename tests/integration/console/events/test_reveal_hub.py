"""The details pane's 查看完整号码 against a real `hall-hub` (issue 12, hole 2): the
numbers arrive masked; a duty officer has no button; a supervisor gives a reason, sees
the whole numbers for a while, then masked again, and the timeline shows the request."""

from __future__ import annotations

import pytest

from console.events import details
from console.events.strings import tr
from dispatch.hub.process import HubProcess
from tests.integration.console.events.test_event_queue_hub import Console, consoles, post_event
from tests.kit import pump_until

pytestmark = pytest.mark.integration

__all__ = ["consoles"]  # the fixture, used below by name

REPORT: dict[str, object] = {
    "source": "hotline_12345",
    "source_ref": "12345-R1",
    "category": "neighbours",
    "title": "邻里纠纷",
    "place": {"township": "t01", "address": "东街"},
    "reporter": {"name": "刘女士", "phone": "13912345678", "id_number": "41010219800101123X"},
}


def test_a_supervisor_reveals_with_a_reason_a_duty_officer_cannot(
    hub: HubProcess, consoles: list[Console], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(details, "REVEAL_SHOW_S", 1)
    duty, leader = Console(hub, "席位A"), Console(hub, "席位B")
    consoles += [duty, leader]
    assert duty.login().ok and leader.login("leader", "leader123").ok
    eid = str(post_event(hub, REPORT)["id"])
    phone, idn = tr("details.reporter_phone"), tr("details.reporter_id")
    for c in (duty, leader):
        pump_until(lambda c=c: eid in c.ids(), 10, what="event shown")  # type: ignore[misc]
        c.panel.select_event(eid)
        pump_until(lambda c=c: c.queue.model.selected_id == eid, 5, what="selected")  # type: ignore[misc]
        assert c.panel.details.field_text(phone) == "139****5678"
        assert c.panel.details.field_text(idn) == "410102********123X"
    assert duty.panel.details.reveal_button.isHidden()
    pane = leader.panel.details
    assert not pane.reveal_button.isHidden()
    pane.ask_reason = lambda: None  # cancelled: nothing asked
    pane.reveal_button.click()
    assert pane.field_text(phone) == "139****5678"
    pane.ask_reason = lambda: "回访核实"
    pane.reveal_button.click()
    pump_until(lambda: pane.field_text(phone) == "13912345678", 10, what="whole number shown")
    assert pane.field_text(idn) == "41010219800101123X"
    assert "审计" in leader.panel.status.text()
    pump_until(lambda: pane.field_text(phone) == "139****5678", 5, what="masked again")
    assert pane.field_text(idn) == "410102********123X"
    rows = leader.panel.details.timeline
    pump_until(
        lambda: any(
            (it := rows.item(r, 5)) is not None and it.text() == "查看完整联系电话：回访核实"
            for r in range(rows.rowCount())
        ),
        10,
        what="timeline line",
    )
