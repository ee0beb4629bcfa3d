"""The hub's dispatch service in process, with a fake clock, on a real SQLite file:
escalation step by step (no sleeps), the push outbox surviving a restart, idempotent acks,
and evidence in the event's timeline."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from dispatch.client.wire import decode_published
from dispatch.db.store import Store
from dispatch.domain.calendar import WorkCalendar
from dispatch.domain.model import EventIntake, EventSource, Place, Priority, Role
from dispatch.domain.site import Site, load_site
from dispatch.domain.wire import HubError
from dispatch.events.service import HubService
from dispatch.hub.auth import Session
from dispatch.hub.clock import CHINA_TZ
from dispatch.hub.writer import Committed
from dispatch.tasks import store as st
from dispatch.tasks.core import EscalationLevel, TaskAction, TaskState
from dispatch.tasks.messages import TaskChanged
from dispatch.tasks.service import DispatchService
from tests.kit import FakeClock
from tests.kit.paths import ROOT

pytestmark = pytest.mark.integration

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=CHINA_TZ)
SITE = ROOT / "resources" / "sites" / "demo.toml"
DUTY = Session("tok", "duty", Role.DUTY_OFFICER, "ws1")


class Rig:
    def __init__(self, tmp: Path, clock: FakeClock, site: Site) -> None:
        self.url = f"sqlite:///{tmp / 'hall.db'}"
        self.uploads = tmp / "uploads"
        self.clock = clock
        self.site = site
        self.task_changes: list[TaskChanged] = []
        self.seqs: list[int] = []

    def _published(self, cs: list[Committed]) -> None:
        for c in cs:
            self.seqs.append(c.change.seq)
            for f in c.extra:
                msg = decode_published(f)
                assert isinstance(msg, TaskChanged) and msg.seq == c.change.seq
                self.task_changes.append(msg)

    async def life(self, body: Callable[[HubService, DispatchService], Awaitable[Any]]) -> Any:
        hub = HubService(
            Store(self.url), clock=self.clock, calendar=WorkCalendar(), on_publish=self._published
        )
        await hub.start()
        svc = DispatchService(
            hub, self.site, upload_dir=self.uploads, evidence_dir=self.uploads.parent / "evidence"
        )
        await svc.start()
        try:
            return await body(hub, svc)
        finally:
            await svc.stop()
            await hub.stop()


def run(coro: Awaitable[Any]) -> Any:
    async def go() -> Any:
        return await asyncio.wait_for(coro, 60)

    return asyncio.run(go())


async def emergency(hub: HubService) -> str:
    ev, _ = await hub.intake(
        EventIntake(
            source=EventSource.GRID_REPORT,
            category="neighbours",
            priority=Priority.EMERGENCY,
            title="两户村民因宅基地争执，有肢体冲突苗头",
            place=Place(township="t01", village="v01", grid="v01g1", address="东街12号"),
        )
    )
    return ev.id


@pytest.fixture
def site() -> Site:
    return load_site(SITE)


def test_escalation_steps_with_a_fake_clock(tmp_path: Path, site: Site) -> None:
    clock = FakeClock(T0)
    rig = Rig(tmp_path, clock, site)

    async def body(hub: HubService, svc: DispatchService) -> None:
        eid = await emergency(hub)
        task, seq = await svc.dispatch(DUTY, eid)  # the suggested grid leader
        assert task.assignee == "p00" and task.state is TaskState.SENT and seq > 0
        assert svc.next_escalation() == T0 + timedelta(minutes=2)  # emergency: 2/5/10 min
        clock.set(T0 + timedelta(minutes=1, seconds=59))
        assert await svc.run_escalations() == 0
        clock.set(T0 + timedelta(minutes=2))
        assert await svc.run_escalations() == 1
        (deputy_task,) = [t for t, _ in svc.open_tasks_of("p01")]
        assert deputy_task.level is EscalationLevel.DEPUTY and deputy_task.escalation_step == 1
        assert svc.open_tasks_of("p00") == []  # moved away from the leader
        clock.set(T0 + timedelta(minutes=5))
        assert await svc.run_escalations() == 1
        (centre_task,) = [t for t, _ in svc.open_tasks_of("st01")]  # 城关镇综治中心
        assert centre_task.level is EscalationLevel.TOWNSHIP
        clock.set(T0 + timedelta(minutes=30))
        assert await svc.run_escalations() == 0  # the demo county has nobody at county level
        timeline = await hub.timeline(eid)
        lines = [a.note for a in timeline if str(a.action) == "task_escalate"]
        assert lines == [
            "【派单】系统 超时升级：↑1 → 副网格长 王秀英（已转派）",
            "【派单】系统 超时升级 → 王秀英（已派发）",
            "【派单】系统 超时升级：↑2 → 乡镇综治中心 城关镇综治中心（已转派）",
            "【派单】系统 超时升级 → 城关镇综治中心（已派发）",
        ]

    run(rig.life(body))
    actions = [(m.transition.action, m.task.assignee) for m in rig.task_changes]
    assert actions == [
        (TaskAction.DISPATCH, "p00"),
        (TaskAction.ESCALATE, "p00"),
        (TaskAction.ESCALATE, "p01"),
        (TaskAction.ESCALATE, "p01"),
        (TaskAction.ESCALATE, "st01"),
    ]
    assert rig.seqs == sorted(set(rig.seqs))  # every change has its own, increasing seq


def test_acknowledged_task_does_not_escalate(tmp_path: Path, site: Site) -> None:
    clock = FakeClock(T0)

    async def body(hub: HubService, svc: DispatchService) -> None:
        eid = await emergency(hub)
        task, _ = await svc.dispatch(DUTY, eid)
        clock.set(T0 + timedelta(minutes=1))
        await svc.ack("p00", task.id)
        await svc.field_act("p00", task.id, "accept")
        assert svc.next_escalation() is None
        clock.set(T0 + timedelta(hours=1))
        assert await svc.run_escalations() == 0
        assert [t.state for t, _ in svc.open_tasks_of("p00")] == [TaskState.ACCEPTED]

    run(Rig(tmp_path, clock, site).life(body))


def test_down_hub_escalates_to_the_step_due_now_in_one_move(tmp_path: Path, site: Site) -> None:
    clock = FakeClock(T0)
    rig = Rig(tmp_path, clock, site)

    async def first(hub: HubService, svc: DispatchService) -> str:
        task, _ = await svc.dispatch(DUTY, await emergency(hub))
        return task.id

    run(rig.life(first))
    clock.set(T0 + timedelta(minutes=6))  # the hub was down past steps 1 and 2

    async def second(hub: HubService, svc: DispatchService) -> None:
        assert svc.next_escalation() is not None and svc.next_escalation() <= clock()  # type: ignore[operator]
        assert await svc.run_escalations() == 1
        assert [t.level for t, _ in svc.open_tasks_of("st01")] == [EscalationLevel.TOWNSHIP]

    run(rig.life(second))


def test_outbox_survives_restart_and_acks_are_idempotent(tmp_path: Path, site: Site) -> None:
    clock = FakeClock(T0)
    rig = Rig(tmp_path, clock, site)

    async def first(hub: HubService, svc: DispatchService) -> str:
        task, _ = await svc.dispatch(DUTY, await emergency(hub), note="带上执法记录仪")
        with pytest.raises(HubError) as err:  # one click twice: refused, not a second task
            await svc.dispatch(DUTY, task.event_id)
        assert "已派给张建国" in err.value.message
        return task.id

    tid = run(rig.life(first))

    async def second(hub: HubService, svc: DispatchService) -> None:
        # the phone was offline: after the restart the task is still pending for it
        assert [(t.id, pending) for t, pending in svc.open_tasks_of("p00")] == [(tid, True)]
        got: list[tuple[str, bool]] = []
        svc.listen("p00", lambda t, ack: got.append((t.state.value, ack)))
        await svc.ack("p00", tid)
        await svc.ack("p00", tid)  # the page acks again after a reconnect: no new row
        assert [(t.state, p) for t, p in svc.open_tasks_of("p00")] == [(TaskState.DELIVERED, False)]
        assert got == [("delivered", False)]

    run(rig.life(second))
    store = Store(rig.url)
    store.open()
    try:
        rows = [row.action for _, row in st.history(store.engine, task_id=tid)]
        assert rows == [TaskAction.DISPATCH, TaskAction.DELIVER]
        assert [acked is not None for _, acked in st.outbox_rows(store.engine, tid)] == [True]
    finally:
        store.close()


def test_evidence_and_nearest_cameras(tmp_path: Path, site: Site) -> None:
    clock = FakeClock(T0)

    async def body(hub: HubService, svc: DispatchService) -> None:
        eid = await emergency(hub)
        pre = await svc.preview(eid)
        assert pre.suggested is not None and pre.suggested.id == "p00"
        assert pre.grid_id == "v01g1" and "东街" in pre.instruction
        assert pre.cameras and pre.cameras == sorted(pre.cameras, key=lambda c: c.metres)
        task, _ = await svc.dispatch(DUTY, eid)
        seen: list[str] = []
        svc.listen("p00", lambda t, ack: seen.append(t.id))
        data = b"\x89PNG\r\n\x1a\n" + b"x" * 100
        digest = hashlib.sha256(data).hexdigest()
        up = await svc.begin_evidence(
            DUTY, eid, "snapshot", name="/var/snap/cam1-0901.png", sha256=digest, size=len(data)
        )
        assert await svc.evidence_chunk(DUTY, up, 0, base64.b64encode(data).decode()) == len(data)
        info, seq = await svc.finish_evidence(DUTY, up)
        assert seq > 0 and seen == [task.id]  # the grid leader's view is refreshed
        line = [a.note for a in await hub.timeline(eid) if str(a.action) == "evidence"]
        assert line == [f"附证据（快照）：cam1-0901.png SHA-256 {digest[:12]}…"]
        _, _, atts = await svc.tasks_of_event(eid)
        assert [a.id for a in atts] == [info.id]

    run(Rig(tmp_path, clock, site).life(body))
