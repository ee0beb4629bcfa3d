"""The event queue panel offscreen, driven through the real controller, network thread and
bridge, against a fake hub client (the HubClient contract over the real workflow core)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, Qt
from PySide6.QtGui import QBrush
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QTableWidget

from console.events.actions import ActionRequest, ActionSpec
from console.events.controller import EventQueueController, LoginOutcome
from console.events.dialogs import ActionDialog
from console.events.format import format_time
from console.events.model import EventQueueModel, Message
from console.events.panel import EventQueuePanel
from console.events.strings import source_name, tr
from console.events.table import FLASH, STALE_TEXT, Col
from console.kit.net import NetThread, QtBridge
from dispatch.client.state import ConnectionState, ConnectionStatus
from dispatch.domain.model import Action, Colour, Event, EventState, Priority
from dispatch.events.core import allowed_actions
from tests.kit import FakeClock, pump_for, pump_until
from tests.kit.hostile import (
    ENTITIES,
    HEADING,
    IMAGE,
    LINK,
    LONG,
    RTL,
    assert_literal,
    assert_no_risky_labels,
    assert_shown_somewhere,
    assert_tooltip_literal,
)
from tests.unit.console.events.test_event_queue_support import (
    T0,
    FakeHub,
    FakeHubClient,
    audit,
    deadline_in,
    make_event,
)

TOWNSHIPS = {"t01": "城关镇", "t02": "河西乡", "t03": "青山镇"}


def cell(table: QTableWidget, row: int, col: int) -> str:
    item = table.item(row, col)
    return item.text() if item is not None else ""


@dataclass
class Rig:
    hub: FakeHub
    clock: FakeClock
    model: EventQueueModel
    ctrl: EventQueueController
    panel: EventQueuePanel
    clients: list[FakeHubClient]
    asks: list[ActionRequest | None] = field(default_factory=list)

    def login(self, operator: str = "zhang") -> LoginOutcome:
        outcomes: list[LoginOutcome] = []
        self.ctrl.login(operator, f"pw-{operator}", "席位1", outcomes.append)
        pump_until(lambda: bool(outcomes))
        return outcomes[0]

    def column(self, col: Col) -> list[str]:
        tm = self.panel.table_model
        return [str(tm.data(tm.index(r, col))) for r in range(tm.rowCount())]

    def ids(self) -> list[str]:
        tm = self.panel.table_model
        return [str(tm.event_id(r)) for r in range(tm.rowCount())]

    def select(self, event_id: str) -> None:
        self.panel.select_event(event_id)
        pump_until(lambda: self.model.selected_id == event_id)


@pytest.fixture
def rig(qapp: QApplication) -> Iterator[Rig]:
    hub = FakeHub()
    seed: list[tuple[Event, Colour]] = [
        (make_event("g1", title="小区物业收费纠纷", category="property"), Colour.GREEN),
        (
            make_event(
                "y1",
                title="农民工讨要工资",
                category="wages",
                township="t02",
                phone="13812345678",
                id_number="510104198001011234",
                reporter="王建国",
            ),
            Colour.YELLOW,
        ),
        (
            make_event(
                "fb", title="河道垃圾清理", state=EventState.FEEDBACK, category="environment"
            ),
            Colour.GREEN,
        ),
    ]
    for e, c in seed:
        hub.events[e.id] = e
        hub.colours[e.id] = c
        hub.timelines[e.id] = [audit(e.id, "accept", T0, "网格员上报")]
    clock = FakeClock(T0 + timedelta(minutes=10))
    model = EventQueueModel(
        clock=clock,
        deadline_fn=deadline_in({"g1": 3, "y1": 1, "fb": 48, "r1": -0.5}),
        allowed_fn=allowed_actions,
        township_names=TOWNSHIPS,
    )
    net = NetThread()
    net.start()
    bridge = QtBridge()
    clients: list[FakeHubClient] = []

    def factory(ws: str, on_change, on_connection) -> FakeHubClient:  # type: ignore[no-untyped-def]
        c = FakeHubClient(hub, workstation=ws, on_change=on_change, on_connection=on_connection)
        clients.append(c)
        return c

    ctrl = EventQueueController(model, net, bridge, factory)
    r = Rig(hub, clock, model, ctrl, None, clients)  # type: ignore[arg-type]

    def ask(spec: ActionSpec, event: Event, parent: object) -> ActionRequest | None:
        req = r.asks.pop(0) if r.asks else None
        return req

    r.panel = EventQueuePanel(model, ctrl, beep=lambda: None, ask=ask)
    r.panel.resize(900, 800)
    r.panel.show()
    yield r
    ctrl.shutdown()
    net.stop()
    r.panel.close()
    r.panel.deleteLater()
    # deleted now, not at some later turn of a loop the tests never run: a panel left
    # alive (3,000 rows in the table-cost tests) answered the next test's refreshes
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert not bridge.errors


def test_login_shows_role_and_the_sorted_list(rig: Rig) -> None:
    out = rig.login("zhang")
    assert out.ok and out.session is not None
    assert rig.panel.session_label.text() == "zhang（值班员）@ 席位1"
    pump_until(lambda: rig.panel.table_model.rowCount() == 3)
    assert rig.ids() == ["y1", "g1", "fb"]
    assert rig.column(Col.COLOUR) == ["黄", "绿", "绿"]
    assert rig.column(Col.COUNTDOWN)[0] == "剩余 00:50:00"
    assert rig.panel.count_label.text() == "共 3 件 / 3 件"
    assert rig.panel.conn_banner.isHidden()


def test_details_mask_reporter_numbers_and_show_the_timeline(rig: Rig) -> None:
    rig.login()
    pump_until(lambda: rig.panel.table_model.rowCount() == 3)
    rig.select("y1")
    d = rig.panel.details
    assert d.field_text("联系电话") == "138****5678"
    assert d.field_text("身份证号") == "510104********1234"
    assert d.field_text("地点").startswith("河西乡")
    pump_until(lambda: d.timeline.rowCount() == 1 and cell(d.timeline, 0, 5) == "网格员上报")
    assert "13812345678" not in " ".join(
        d.field_text(k) for k in ("联系电话", "身份证号", "反映人", "编号")
    )


def test_a_timeline_whose_fetch_failed_is_fetched_again_when_its_event_changes(
    rig: Rig,
) -> None:
    """The open event's timeline fetch timed out: the next change of that event (whose
    rows the model could not append to a timeline it never had) fetches it whole."""
    rig.login()
    pump_until(lambda: rig.panel.table_model.rowCount() == 3)
    client = rig.clients[-1]
    client.timeline_failures = 1
    rig.select("y1")
    pump_until(lambda: client.calls.count(("timeline", "y1")) == 1)
    pump_for(0.2)
    assert rig.model.timeline("y1") is None  # the fetch failed: nothing loaded
    ev = rig.hub.events["y1"]
    row = audit("y1", "note", T0 + timedelta(minutes=3), "电话回访")
    rig.hub.publish(ev, rig.hub.colours["y1"], [row])
    d = rig.panel.details
    pump_until(lambda: client.calls.count(("timeline", "y1")) == 2, what="fetched again")
    whole = len(rig.hub.timelines["y1"])
    assert whole >= 2  # the intake row and the new one
    pump_until(lambda: d.timeline.rowCount() == whole, what="the whole timeline shown")


def test_buttons_are_exactly_the_actions_the_role_allows(rig: Rig) -> None:
    rig.login("zhang")
    pump_until(lambda: rig.panel.table_model.rowCount() == 3)
    rig.select("fb")
    duty = set(rig.panel.details.buttons)
    fb = rig.hub.events["fb"]
    assert duty == set(allowed_actions(fb, rig.model.session.role)) - {Action.REMIND}  # type: ignore[union-attr]
    assert Action.ARCHIVE not in duty  # duty officer: not before verification and call-back
    assert rig.panel.details.buttons[Action.VERIFY].toolTip() == "核查（快捷键 V）"
    rig.login("li")  # same workstation: same client, new session
    pump_until(lambda: "带班领导" in rig.panel.session_label.text())
    assert Action.ARCHIVE in rig.panel.details.buttons


def test_an_action_reaches_the_hub_and_comes_back_as_a_change(rig: Rig) -> None:
    rig.login()
    pump_until(lambda: rig.panel.table_model.rowCount() == 3)
    rig.select("g1")
    rig.panel.details.buttons[Action.REGISTER].click()
    pump_until(lambda: rig.hub.events["g1"].state is EventState.REGISTERED)
    pump_until(lambda: rig.column(Col.STATE)[rig.ids().index("g1")] == "登记")
    assert rig.panel.status.text() == "已登记：小区物业收费纠纷"
    d = rig.panel.details
    pump_until(lambda: d.timeline.rowCount() == 2)
    assert cell(d.timeline, 1, 3) == "登记" and cell(d.timeline, 1, 2) == "席位1"
    assert Action.ROUTE in d.buttons and Action.REGISTER not in d.buttons


def test_shortcut_and_dialog_inputs_go_with_the_action(rig: Rig) -> None:
    rig.login()
    pump_until(lambda: rig.panel.table_model.rowCount() == 3)
    rig.select("g1")
    rig.panel.table.setFocus()
    QTest.keyClick(rig.panel.table, Qt.Key.Key_R)
    pump_until(lambda: rig.hub.events["g1"].state is EventState.REGISTERED)
    pump_until(lambda: Action.ROUTE in rig.panel.details.buttons)
    # route asks for an assignee; a cancelled dialog sends nothing
    rig.asks.append(None)
    QTest.keyClick(rig.panel.table, Qt.Key.Key_D)
    assert rig.hub.events["g1"].state is EventState.REGISTERED
    rig.asks.append(
        ActionRequest("g1", Action.ROUTE, note="请物业公司处理", assignee="城关镇物业办")
    )
    QTest.keyClick(rig.panel.table, Qt.Key.Key_D)
    pump_until(lambda: rig.hub.events["g1"].state is EventState.ROUTED)
    assert rig.hub.events["g1"].assignee == "城关镇物业办"

    # a key for an action the state does not allow does nothing
    def acts() -> list[object]:
        return [c for c in rig.clients[0].calls if c[0] == "act"]

    before = len(acts())
    QTest.keyClick(rig.panel.table, Qt.Key.Key_A)
    time.sleep(0.05)
    QApplication.processEvents()
    assert len(acts()) == before


def test_refused_action_shows_the_hubs_reason(rig: Rig) -> None:
    rig.login()
    pump_until(lambda: rig.panel.table_model.rowCount() == 3)
    rig.select("g1")
    # someone else registered it; this console has not heard yet
    rig.hub.events["g1"] = rig.hub.events["g1"].model_copy(
        update={"state": EventState.REGISTERED, "version": 2}
    )
    rig.panel.details.buttons[Action.REGISTER].click()
    pump_until(lambda: rig.panel.status.text().startswith("操作失败"))
    assert "登记" in rig.panel.status.text()


def test_return_dialog_requires_a_reason_and_keeps_the_input(qapp: QApplication) -> None:
    from console.events.actions import SPECS

    event = make_event("x", state=EventState.HANDLING)
    dlg = ActionDialog(SPECS[Action.RETURN], event)
    dlg.try_accept()
    assert dlg.result() == 0 and "必填" in dlg.error.text()
    dlg.note.setPlainText("  不属于本单位职责  ")
    dlg.try_accept()
    assert dlg.result() == 1
    assert dlg.request() == ActionRequest("x", Action.RETURN, note="不属于本单位职责")
    grant = ActionDialog(SPECS[Action.GRANT_EXTENSION], make_event("y", extension_requested=True))
    assert grant.days.value() == 2  # the requested days
    grant.try_accept()
    assert grant.request().extension_days == 2


def test_new_red_event_flashes_beeps_and_is_acknowledged(rig: Rig) -> None:
    beeps: list[int] = []
    rig.panel._beep = lambda: beeps.append(1)
    rig.login()
    pump_until(lambda: rig.panel.table_model.rowCount() == 3)
    assert rig.panel.alarm_banner.isHidden()
    rig.hub.publish(
        make_event(
            "r1", title="工地塔吊倾斜", priority=Priority.EMERGENCY, category="safety_hazard"
        ),
        Colour.RED,
        [audit("r1", "accept", T0)],
    )
    pump_until(lambda: not rig.panel.alarm_banner.isHidden())
    assert "工地塔吊倾斜" in rig.panel.alarm_text.text()
    pump_until(lambda: rig.ids()[0] == "r1")
    assert beeps == [1]
    assert rig.panel.blink_timer.isActive()
    tm = rig.panel.table_model
    brushes: set[str] = set()
    for _ in range(4):
        rig.panel.blink()
        b = tm.data(tm.index(0, Col.TITLE), Qt.ItemDataRole.BackgroundRole)
        assert isinstance(b, QBrush)
        brushes.add(b.color().name())
    assert FLASH.name() in brushes and len(brushes) == 2  # it flashes
    assert len(beeps) == 2  # and beeps again while unacknowledged
    rig.panel.setFocus()
    QTest.keyClick(rig.panel, Qt.Key.Key_K)
    assert rig.panel.alarm_banner.isHidden() and not rig.panel.blink_timer.isActive()
    # the acknowledgement is written to the event's timeline as a note
    pump_until(lambda: any(a.action == Action.NOTE for a in rig.hub.timelines["r1"]))
    assert rig.hub.timelines["r1"][-1].note == "已确认红色预警"
    assert rig.model.unacknowledged() == []


def test_lost_hub_keeps_the_list_greys_countdowns_and_recovers(rig: Rig) -> None:
    rig.login()
    pump_until(lambda: rig.panel.table_model.rowCount() == 3)
    rig.select("y1")
    lost_at = T0 + timedelta(hours=1, minutes=2, seconds=3)  # 10:02:03 Beijing time
    client = rig.clients[0]
    assert client.loop is not None
    client.loop.call_soon_threadsafe(
        client.on_connection, ConnectionState(ConnectionStatus.LOST, lost_at=lost_at)
    )
    pump_until(lambda: not rig.panel.conn_banner.isHidden())
    assert rig.panel.conn_banner.text() == (
        "与指挥中心服务连接中断 — 显示的是 10:02:03 的数据，正在重连…"
    )
    assert rig.ids() == ["y1", "g1", "fb"]
    tm = rig.panel.table_model
    fg = tm.data(tm.index(0, Col.COUNTDOWN), Qt.ItemDataRole.ForegroundRole)
    assert isinstance(fg, QBrush) and fg.color().name() == STALE_TEXT.name()
    assert all(not b.isEnabled() for b in rig.panel.details.buttons.values())
    client.loop.call_soon_threadsafe(
        client.on_connection, ConnectionState(ConnectionStatus.CONNECTED)
    )
    pump_until(lambda: rig.panel.conn_banner.isHidden())
    assert all(b.isEnabled() for b in rig.panel.details.buttons.values())


def test_a_hub_whose_disk_is_full_says_so_in_the_banner_until_it_recovers(rig: Rig) -> None:
    rig.login()
    pump_until(lambda: rig.panel.table_model.rowCount() == 3)
    client = rig.clients[0]
    assert client.loop is not None
    full = ConnectionState(ConnectionStatus.CONNECTED, hub_storage="disk_full")
    client.loop.call_soon_threadsafe(client.on_connection, full)
    pump_until(lambda: not rig.panel.conn_banner.isHidden())
    text = rig.panel.conn_banner.text()
    assert text.startswith("中枢服务器磁盘已满（自 ") and "暂时无法保存" in text, text
    assert rig.ids() == ["y1", "g1", "fb"]  # the list stays
    client.loop.call_soon_threadsafe(
        client.on_connection, ConnectionState(ConnectionStatus.CONNECTED)
    )
    pump_until(lambda: rig.panel.conn_banner.isHidden())


def test_countdown_ticks_with_the_clock(rig: Rig) -> None:
    rig.login()
    pump_until(lambda: rig.panel.table_model.rowCount() == 3)
    rig.select("y1")
    rig.clock.advance(minutes=50, seconds=7)
    rig.panel.tick()
    assert rig.column(Col.COUNTDOWN)[0] == "超时 00:00:07"
    assert rig.panel.details.field_text("本环节时限") == "超时 00:00:07"


def test_filter_bar_and_search(rig: Rig) -> None:
    rig.login()
    pump_until(lambda: rig.panel.table_model.rowCount() == 3)
    box = rig.panel.township_filter
    box.setCurrentIndex(box.findData("t02"))
    pump_until(lambda: rig.ids() == ["y1"])
    box.setCurrentIndex(0)
    pump_until(lambda: len(rig.ids()) == 3)
    rig.panel.search.setText("河道")
    pump_until(lambda: rig.ids() == ["fb"])
    assert rig.panel.count_label.text() == "共 1 件 / 3 件"
    states = rig.panel.state_filter
    rig.panel.search.clear()
    states.setCurrentIndex(states.findData(EventState.FEEDBACK))
    pump_until(lambda: rig.ids() == ["fb"])


def test_outside_text_is_shown_as_typed_everywhere_in_the_panel(rig: Rig) -> None:
    """Hole 3: title, description, address, reporter, notes and hub messages with markup,
    entities, right-to-left marks and a very long line read literally in the table, its
    tooltip, the details pane, the alarm banner and the status line; no label guesses."""
    assert rig.login("zhang").ok
    hostile = make_event(
        "h1",
        title=HEADING,
        description=IMAGE + "\n" + LONG,
        address=LINK,
        reporter=ENTITIES,
        township="t01",
        priority=Priority.URGENT,
    )
    rig.hub.publish(hostile, Colour.RED, [audit("h1", "accept", T0, RTL)])
    pump_until(lambda: "h1" in rig.ids())
    rig.select("h1")
    pump_until(lambda: rig.panel.details.timeline.rowCount() == 1)
    pump_until(lambda: cell(rig.panel.details.timeline, 0, 5) == "[U+202E]置处需无[U+202C] 王五")
    details = rig.panel.details
    assert_literal(details.title, HEADING, one_line=True)
    assert_literal(details.description, IMAGE + "\n" + LONG)
    assert details.field_text(tr("details.place")) == f"城关镇 {LINK}"
    assert details.field_text(tr("details.reporter")) == ENTITIES
    tm = rig.panel.table_model
    row = rig.ids().index("h1")
    assert tm.data(tm.index(row, Col.TITLE)) == HEADING
    tip = str(tm.data(tm.index(row, Col.TITLE), Qt.ItemDataRole.ToolTipRole))
    assert tip.endswith("</p>")
    assert_tooltip_literal(tip, f"h1 · {source_name(hostile.source)} · {format_time(T0)} {HEADING}")
    pump_until(lambda: rig.panel.alarm_banner.isVisibleTo(rig.panel))
    assert_shown_somewhere(rig.panel.alarm_banner, HEADING)
    rig.model.set_message(Message(ENTITIES, error=True))
    assert_literal(rig.panel.status, ENTITIES)
    assert_no_risky_labels(rig.panel)
