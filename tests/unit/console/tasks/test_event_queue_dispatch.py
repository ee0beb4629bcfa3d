"""Dispatch in the event queue, pure parts: task steps, badge, the tasks model, auto
linkage choice, evidence digests; and the wall's linkage layout (Qt-free models)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from console.events.controller import auto_link_candidate, camera_of
from console.events.evidence import EvidenceFileError, evidence_digest, parse_sidecar
from console.events.model import Session
from console.kit.plain import shown_text
from console.tasks.model import (
    DispatchModel,
    escalation_badge,
    officer_task_actions,
    task_steps,
)
from console.tasks.view import TasksView
from console.wall.model import WallModel
from dispatch.domain.model import Actor, EventSource, Priority, Role
from dispatch.domain.site import Person
from dispatch.tasks.core import (
    DispatchTask,
    EscalationLevel,
    TaskAction,
    TaskActor,
    TaskState,
    apply,
    new_task,
)
from tests.kit.hostile import HEADING, IMAGE, LINK, assert_no_risky_labels
from tests.unit.console.events.test_event_queue_support import T0, make_event

OFFICER = TaskActor.officer(Actor(operator="zhang", role=Role.DUTY_OFFICER, workstation="ws1"))
LEADER = Person(id="p00", name="张建国", role="grid_leader")
SESSION = Session("zhang", Role.DUTY_OFFICER, "ws1")


def sent() -> DispatchTask:
    out = new_task(
        task_id="T1",
        event=make_event("E1"),
        recipient=LEADER,
        by=OFFICER,
        now=T0,
        instruction="请到场核实",
    )
    return out.task


def test_steps_follow_the_task_with_times() -> None:
    t = sent()
    assert [(s.state, s.at) for s in task_steps(t)][:2] == [
        (TaskState.SENT, T0),
        (TaskState.DELIVERED, None),
    ]
    by = TaskActor.field(LEADER)
    t = apply(t, TaskAction.ACCEPT, by, T0 + timedelta(minutes=1)).task
    t = apply(t, TaskAction.ARRIVE, by, T0 + timedelta(minutes=9)).task
    steps = {s.state: s for s in task_steps(t)}
    assert steps[TaskState.ACCEPTED].at == T0 + timedelta(minutes=1)
    assert steps[TaskState.ON_SITE].at == T0 + timedelta(minutes=9)
    assert steps[TaskState.DONE].at is None
    # accepting straight from sent fills in delivered and read
    assert steps[TaskState.DELIVERED].at is not None


def test_returned_task_shows_the_reason_instead_of_accepted() -> None:
    t = apply(sent(), TaskAction.RETURN, TaskActor.field(LEADER), T0, note="不在本网格").task
    states = [s.state for s in task_steps(t)]
    assert TaskState.RETURNED in states and TaskState.ACCEPTED not in states
    assert next(s for s in task_steps(t) if s.state is TaskState.RETURNED).detail == "不在本网格"


def test_badge_names_the_highest_level_reached() -> None:
    t = sent()
    assert escalation_badge([t]) == ""
    dep = t.model_copy(update={"level": EscalationLevel.DEPUTY, "escalation_step": 1})
    town = t.model_copy(update={"level": EscalationLevel.TOWNSHIP, "escalation_step": 2})
    assert escalation_badge([t, dep]) == "已升级至副网格长"
    assert escalation_badge([dep, town]) == "已升级至乡镇"
    assert escalation_badge([town], "en") == "Escalated to township"


def test_officer_actions_come_from_the_dispatch_core() -> None:
    t = sent()
    assert officer_task_actions(t, None) == []
    assert officer_task_actions(t, SESSION) == [TaskAction.REASSIGN, TaskAction.CANCEL]
    by = TaskActor.field(LEADER)
    t = apply(t, TaskAction.ACCEPT, by, T0).task
    t = apply(t, TaskAction.ARRIVE, by, T0).task
    t = apply(t, TaskAction.FEEDBACK, by, T0, note="已处理").task
    assert officer_task_actions(t, SESSION)[:2] == [TaskAction.CONFIRM, TaskAction.REWORK]


def test_model_never_goes_back_in_version_and_notifies_per_event() -> None:
    m = DispatchModel()
    seen: list[str] = []
    m.tasks_changed.connect(seen.append)
    t1 = sent()
    t2 = apply(t1, TaskAction.DELIVER, TaskActor.field(LEADER), T0).task
    assert m.apply_task(t2)
    assert not m.apply_task(t1)  # older: ignored
    assert not m.apply_task(t2)  # same: no notification
    assert m.tasks("E1") == [t2] and seen == ["E1"]
    assert m.apply_tasks([t1, t2]) == []
    assert m.task("T1") == t2 and m.tasks("E2") == []


def test_auto_linkage_picks_a_fresh_urgent_event_or_a_camera_alarm() -> None:
    routine = make_event("E1")
    urgent = make_event("E2", priority=Priority.URGENT)
    emergency_old = make_event(
        "E3", priority=Priority.EMERGENCY, accepted_at=T0 - timedelta(hours=1)
    )
    assert auto_link_candidate([routine], T0) is None
    assert auto_link_candidate([routine, urgent, emergency_old], T0) == urgent
    cam = make_event("E4", source=EventSource.CAMERA_ALARM).model_copy(update={"camera_id": "cam3"})
    assert camera_of(cam) == "cam3" and camera_of(urgent) is None
    assert auto_link_candidate([routine, cam], T0) == cam


def test_evidence_digest_from_sidecar_or_by_hashing(tmp_path: Path) -> None:
    clip = tmp_path / "cam1.mp4"
    clip.write_bytes(b"clip")
    snap = tmp_path / "cam1.png"
    snap.write_bytes(b"abc")
    d = evidence_digest(snap)
    assert d.sha256 == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert d.size == 3 and not d.from_sidecar
    (tmp_path / "cam1.mp4.sha256").write_text("A" * 64 + "  cam1.mp4\n")
    d = evidence_digest(clip)
    assert d.sha256 == "a" * 64 and d.from_sidecar
    (tmp_path / "cam1.mp4.sha256").write_text("a" * 64 + "  other.mp4\n")
    with pytest.raises(EvidenceFileError, match=r"other\.mp4"):
        evidence_digest(clip)
    with pytest.raises(EvidenceFileError, match="not a sha256sum line"):
        parse_sidecar("garbage", "x")
    with pytest.raises(EvidenceFileError, match=r"missing\.png"):
        evidence_digest(tmp_path / "missing.png")


def test_wall_linkage_layout_and_the_way_back() -> None:
    m = WallModel("4")
    m.assign_many([(0, "cam9"), (2, "cam8")])
    m.set_page(0)
    m.show_linkage(["cam1", "cam2", "cam1", "cam3"], "河堤人员聚集")
    assert m.shape.name == "1+5" and m.assignments() == {0: "cam1", 1: "cam2", 2: "cam3"}
    assert m.linkage is not None and m.linkage.cameras == ("cam1", "cam2", "cam3")
    m.show_linkage(["cam4"], "摄像机报警", maximise=True)  # a second linkage keeps the original
    assert m.maximised == 0 and m.visible_slots() == [0]
    assert m.restore_previous()
    assert m.shape.name == "4" and m.assignments() == {0: "cam9", 2: "cam8"}
    assert m.linkage is None and not m.restore_previous()
    with pytest.raises(ValueError, match="at least one camera"):
        m.show_linkage([], "x")


def test_changing_the_layout_by_hand_ends_the_linkage() -> None:
    m = WallModel("9")
    m.show_linkage(["cam1"], "t")
    m.set_shape("16")
    assert m.linkage is None and not m.restore_previous()


def test_task_cards_show_outside_names_and_reasons_as_typed(qapp: QApplication) -> None:
    """Hole 3: the person's name and a returned task's reason come from outside; the header
    is plain, the steps line is escaped rich text that reads them literally."""
    leader = Person(id="p01", name=HEADING, role="grid_leader")
    task = new_task(
        task_id="T9",
        event=make_event("E9"),
        recipient=leader,
        by=OFFICER,
        now=T0,
        instruction="核实",
    ).task
    task = apply(task, TaskAction.RETURN, TaskActor.field(leader), T0, note=IMAGE + LINK).task
    view = TasksView(lambda _t, _a: None)
    view.set_tasks([task], SESSION, enabled=True)
    head, steps = view.header_labels["T9"], view.step_labels["T9"]
    assert HEADING in head.text() and head.textFormat() == Qt.TextFormat.PlainText
    assert f"（{IMAGE + LINK}）" in shown_text(steps)
    assert "<img" not in steps.text() and "<a " not in steps.text()
    assert_no_risky_labels(view)
    view.deleteLater()
