"""The client's task view keeps open tasks only: every `TaskChanged` of a long-running
console (the soak: one task per event, 5 events a second) used to stay in it for good."""

from __future__ import annotations

from datetime import timedelta

from dispatch.client.tasks import TasksFacade
from dispatch.tasks.messages import TaskChanged
from tests.unit.dispatch.tasks.test_tasks import LEADER
from tests.unit.dispatch.tasks.test_tasks_board import dispatch_to


def test_closed_tasks_leave_the_view() -> None:
    seen: list[str] = []
    facade = TasksFacade(None, lambda ch: seen.append(ch.task.id))  # type: ignore[arg-type]
    out = dispatch_to(LEADER)
    task, tr = out.task, out.transition
    assert tr is not None
    for n in range(300):
        t = task.model_copy(update={"id": f"K{n}", "event_id": f"E{n}"})
        facade.changed(TaskChanged(seq=2 * n + 1, task=t, transition=tr, line="派单"))
        done = t.model_copy(update={"version": t.version + 1,
                                    "closed_at": t.sent_at + timedelta(hours=1)})  # fmt: skip
        if n % 3:
            facade.changed(TaskChanged(seq=2 * n + 2, task=done, transition=tr, line="结束"))
    assert sorted(facade.task_view()) == sorted(f"K{n}" for n in range(0, 300, 3))
    assert len(seen) == 300 + 200  # every change still reaches the listener
