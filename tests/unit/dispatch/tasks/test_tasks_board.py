"""The dispatch service's in-memory parts: the board (open tasks, pending pushes, phone
listeners) and the escalation queue (due times, stale entries skipped)."""

from __future__ import annotations

from dispatch.domain.model import Priority
from dispatch.domain.rules import DEFAULT_LADDER
from dispatch.domain.site import Person
from dispatch.tasks.core import (
    DispatchTask,
    Outcome,
    TaskAction,
    apply,
    new_task,
    next_escalation_at,
)
from dispatch.tasks.service.board import TaskBoard
from dispatch.tasks.service.escalation import EscalationQueue
from tests.unit.dispatch.tasks.test_tasks import AS_LEADER, LEADER, OFFICER, OTHER, at, make_event


def dispatch_to(person: Person, task_id: str = "K1", minutes: float = 0) -> Outcome:
    return new_task(
        task_id=task_id,
        event=make_event(Priority.URGENT),
        recipient=person,
        by=OFFICER,
        now=at(minutes),
        instruction="请尽快到场处置",
        grid_id="g1",
    )


def test_a_new_task_is_pushed_until_the_phone_acks() -> None:
    opened: list[str] = []
    board = TaskBoard(on_open=lambda t: opened.append(t.id))
    heard: list[tuple[str, bool]] = []
    board.listen(LEADER.id, lambda t, ack: heard.append((t.id, ack)))
    out = dispatch_to(LEADER)
    board.after([out], [(LEADER.id, out.task.id)])
    assert board.open_tasks_of(LEADER.id) == [(out.task, True)]
    assert heard == [("K1", True)] and opened == ["K1"]
    assert board.open_tasks_of(OTHER.id) == []
    board.acked(LEADER.id, "K1")
    assert board.open_tasks_of(LEADER.id) == [(out.task, False)]


def test_a_closed_task_leaves_and_a_stale_one_is_ignored() -> None:
    board = TaskBoard(on_open=lambda t: None)
    first = dispatch_to(LEADER)
    board.after([first], [(LEADER.id, "K1")])
    read = apply(first.task, TaskAction.READ, AS_LEADER, at(1))
    board.after([read])
    assert board.get("K1") == read.task
    board.after([first])  # an older version arriving late changes nothing
    assert board.get("K1") == read.task
    cancelled = apply(read.task, TaskAction.CANCEL, OFFICER, at(2), note="重复上报")
    board.after([cancelled])
    assert board.get("K1") is None and board.open_tasks_of(LEADER.id) == []


def test_a_failing_listener_does_not_stop_the_others() -> None:
    board = TaskBoard(on_open=lambda t: None)
    heard: list[str] = []

    def broken(t: DispatchTask, ack: bool) -> None:
        raise RuntimeError("socket gone")

    board.listen(LEADER.id, broken)
    board.listen(LEADER.id, lambda t, ack: heard.append(t.id))
    assert board.sessions_connected() == 2
    board.after([dispatch_to(LEADER)])
    assert heard == ["K1"]
    board.unlisten(LEADER.id, broken)
    assert board.sessions_connected() == 1


def test_the_queue_gives_the_next_step_and_skips_stale_entries() -> None:
    queue = EscalationQueue(DEFAULT_LADDER)
    board = TaskBoard(on_open=queue.schedule)
    out = dispatch_to(LEADER)
    board.after([out])
    due = next_escalation_at(out.task, out.task.updated_at, DEFAULT_LADDER)
    assert due is not None
    assert queue.next_due(board.get) == due
    assert queue.pop_due(due - (due - at(0)) / 2, board.get) == []
    assert queue.pop_due(due, board.get) == ["K1"]
    assert queue.next_due(board.get) is None
    queue.schedule(out.task)
    accepted = apply(out.task, TaskAction.ACCEPT, AS_LEADER, at(1))
    board.after([accepted])  # acknowledged: no further step, the old entry is stale
    assert queue.next_due(board.get) is None
