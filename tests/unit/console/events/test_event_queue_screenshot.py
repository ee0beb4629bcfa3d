"""Renders the panel offscreen with a dozen realistic events in all three colours and the
details pane open; saves the PNG (to $HALL_SCREENSHOT_DIR as well when set) and checks
that the picture holds the three colour marks and is not blank."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication

from console.events.model import Change, EventQueueModel, Session
from console.events.panel import EventQueuePanel
from console.events.table import COLOURS
from dispatch.domain.model import AuditEntry, Colour, EventSource, EventState, Priority, Role
from dispatch.events.core import allowed_actions
from tests.kit import FakeClock
from tests.unit.console.events.test_event_queue_support import T0, make_event

TOWNSHIPS = {"t01": "城关镇", "t02": "河西乡", "t03": "青山镇"}

SAMPLES = [
    # id, title, category, source, township, state, priority, colour, hours to deadline
    ("E250303-0012", "工地塔吊倾斜，周边群众聚集", "safety_hazard", EventSource.CAMERA_ALARM,
     "t01", EventState.ACCEPTED, Priority.EMERGENCY, Colour.RED, -0.3),
    ("E250301-0107", "农民工讨要工资堵门", "wages", EventSource.HOTLINE_12345,
     "t02", EventState.HANDLING, Priority.URGENT, Colour.RED, -5.5),
    ("E250302-0033", "宅基地边界争议引发冲突", "land", EventSource.GRID_REPORT,
     "t03", EventState.ROUTED, Priority.URGENT, Colour.RED, -1.2),
    ("E250303-0008", "化工厂夜间偷排污水", "environment", EventSource.PETITION,
     "t02", EventState.REGISTERED, Priority.ROUTINE, Colour.YELLOW, 0.2),
    ("E250228-0051", "小区物业停水三天未修复", "property", EventSource.HOTLINE_12345,
     "t01", EventState.HANDLING, Priority.ROUTINE, Colour.YELLOW, 6),
    ("E250227-0019", "征地补偿款发放不到位", "demolition", EventSource.WALK_IN,
     "t03", EventState.HANDLING, Priority.URGENT, Colour.YELLOW, 14),
    ("E250303-0015", "楼上住户深夜装修噪音扰民", "neighbours", EventSource.GRID_REPORT,
     "t01", EventState.ACCEPTED, Priority.ROUTINE, Colour.GREEN, 0.8),
    ("E250303-0017", "夫妻离婚财产分割纠纷", "family", EventSource.WALK_IN,
     "t02", EventState.REGISTERED, Priority.ROUTINE, Colour.GREEN, 0.9),
    ("E250303-0004", "南关村路口摄像头离线", "camera_fault", EventSource.CAMERA_FAULT,
     "t01", EventState.ROUTED, Priority.ROUTINE, Colour.GREEN, 30),
    ("E250302-0041", "河道漂浮垃圾堆积", "environment", EventSource.GRID_REPORT,
     "t02", EventState.HANDLING, Priority.ROUTINE, Colour.GREEN, 52),
    ("E250301-0022", "养殖场异味影响周边居民", "environment", EventSource.HOTLINE_12345,
     "t03", EventState.FEEDBACK, Priority.ROUTINE, Colour.GREEN, 70),
    ("E250303-0020", "邻居占用公共楼道堆放杂物", "neighbours", EventSource.GRID_REPORT,
     "t03", EventState.ACCEPTED, Priority.ROUTINE, Colour.GREEN, 0.95),
]  # fmt: skip


class _NoController:
    def act(self, req: object, done: object = None) -> None: ...
    def select(self, event_id: str | None) -> None: ...
    def acknowledge(self, event_id: str | None = None) -> list[str]:
        return []

    def set_filters(self, filters: object) -> None: ...
    def set_search(self, text: str) -> None: ...


def _audit(eid: str, minutes: int, op: str, ws: str, action: str, frm: EventState | None,
           to: EventState | None, note: str,
           role: Role = Role.DUTY_OFFICER) -> AuditEntry:  # fmt: skip
    return AuditEntry(
        event_id=eid, at=T0 + timedelta(minutes=minutes), operator=op, role=role,
        workstation=ws, action=action, from_state=frm, to_state=to, note=note,
    )  # fmt: skip


def test_panel_screenshot(qapp: QApplication, tmp_path: Path) -> None:
    clock = FakeClock(T0 + timedelta(hours=2))
    hours = {s[0]: s[8] for s in SAMPLES}
    model = EventQueueModel(
        clock=clock,
        deadline_fn=lambda e: clock() + timedelta(hours=hours[e.id]),
        allowed_fn=allowed_actions,
        township_names=TOWNSHIPS,
    )
    changes = []
    for i, (eid, title, cat, src, tw, st, pr, col, _h) in enumerate(SAMPLES):
        e = make_event(
            eid, title=title, category=cat, source=src, township=tw, state=st, priority=pr,
            address="建设路18号" if i == 1 else "", phone="13812345678" if i == 1 else "",
            id_number="510104198001011234" if i == 1 else "", reporter="王建国" if i == 1 else "",
            description="约30名农民工聚集在项目部门口，反映承包方拖欠2024年下半年工资共计约86万元，"
            "情绪激动。已通知劳动监察大队和城关派出所。" if i == 1 else "",
        )  # fmt: skip
        changes.append(Change(i + 1, e, col))
    from console.events.model import ConnKind

    model.set_connection(ConnKind.CONNECTED)
    model.apply_changes(changes[1:])
    model.acknowledge()
    model.apply_changes(changes[:1])  # the newest red is still unacknowledged
    model.set_session(Session("张伟", Role.DUTY_OFFICER, "指挥席2"))
    sel = SAMPLES[1][0]
    model.select(sel)
    model.set_timeline(
        sel,
        [
            _audit(sel, -300, "system", "hub", "accept", None, EventState.ACCEPTED,
                   "12345热线转入"),
            _audit(sel, -290, "张伟", "指挥席2", "register", EventState.ACCEPTED,
                   EventState.REGISTERED, ""),
            _audit(sel, -270, "张伟", "指挥席2", "route", EventState.REGISTERED,
                   EventState.ROUTED, "→ 县劳动监察大队"),
            _audit(sel, -200, "李强", "指挥席1", "start_handling", EventState.ROUTED,
                   EventState.HANDLING, "", Role.SUPERVISOR),
            _audit(sel, -10, "system", "hub", "remind", EventState.HANDLING,
                   EventState.HANDLING, "处置超时，已催办", Role.SYSTEM),
        ],
    )  # fmt: skip
    panel = EventQueuePanel(model, _NoController(), beep=lambda: None)
    panel.resize(820, 1000)
    panel.show()
    panel.table_model.refresh()
    panel.blink()  # flashing phase of the unacknowledged red row
    for _ in range(5):
        QApplication.processEvents()
    path = tmp_path / "event_queue.png"
    assert panel.grab().save(str(path))
    out_dir = os.environ.get("HALL_SCREENSHOT_DIR")
    if out_dir:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        panel.grab().save(str(Path(out_dir) / "event_queue.png"))
    img = QImage(str(path))
    assert img.width() == 820 and img.height() == 1000
    seen = {QColor(img.pixel(x, y)).name() for x in range(0, 820, 3) for y in range(0, 600, 3)}
    assert {COLOURS[c].name() for c in Colour} <= seen
    assert panel.details.field_text("联系电话") == "138****5678"
    assert not panel.alarm_banner.isHidden()
    panel.close()
