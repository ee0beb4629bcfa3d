"""The event queue keeps archived events only in a bounded window: a console that runs
for days (the soak: 5 events/s, each archived minutes later) must not keep every event
it ever saw, nor the `None` references their fields hold."""

from __future__ import annotations

import gc
import sys

from console.events.model import Change, EventQueueModel, Filters
from dispatch.domain.model import Colour, EventState
from dispatch.events.core import allowed_actions
from tests.kit import FakeClock
from tests.unit.console.events.test_event_queue_support import deadline_in, make_event

WINDOW = 50


def new_model() -> EventQueueModel:
    return EventQueueModel(
        clock=FakeClock(), deadline_fn=deadline_in({}), allowed_fn=allowed_actions,
        closed_window=WINDOW,
    )  # fmt: skip


def life(m: EventQueueModel, n: int, start_seq: int = 0) -> int:
    """Event `n` accepted, then archived; the next seq."""
    seq = start_seq
    eid = f"e{n}"
    m.apply_changes([Change(seq + 1, make_event(eid), Colour.GREEN)])
    archived = make_event(eid, version=8, state=EventState.ARCHIVED)
    m.apply_changes([Change(seq + 2, archived, Colour.GREEN)])
    return seq + 2


def test_archived_events_beyond_the_window_are_forgotten() -> None:
    m = new_model()
    seq = 0
    for n in range(1000):
        seq = life(m, n, seq)
    m.apply_changes([Change(seq + 1, make_event("open1"), Colour.GREEN)])
    assert m.total() == WINDOW + 1
    m.set_filters(Filters(states=frozenset({EventState.ARCHIVED})))
    assert {r.event.id for r in m.visible()} == {f"e{n}" for n in range(950, 1000)}
    m.set_filters(Filters())
    assert [r.event.id for r in m.visible()] == ["open1"]


def test_open_events_are_never_forgotten() -> None:
    m = new_model()
    m.apply_changes([Change(n + 1, make_event(f"o{n}"), Colour.GREEN) for n in range(500)])
    seq = 500
    for n in range(200):
        seq = life(m, n, seq)
    assert sum(1 for r in m.rows() if r.event.state is EventState.ACCEPTED) == 500
    assert m.total() == 500 + WINDOW


def test_the_selected_and_the_shown_only_events_stay() -> None:
    m = new_model()
    seq = life(m, 0)
    seq = life(m, 1, seq)
    m.select("e0")
    m.show_only(["e1"])
    for n in range(2, 300):
        seq = life(m, n, seq)
    assert m.row("e0") is not None and m.row("e1") is not None
    assert m.total() == WINDOW
    m.select(None)
    m.clear_only()
    seq = life(m, 300, seq)
    seq = life(m, 301, seq)
    assert m.row("e0") is None and m.row("e1") is None
    assert m.total() == WINDOW


def test_a_late_copy_of_a_forgotten_event_does_not_come_back_open() -> None:
    m = new_model()
    seq = 0
    for n in range(WINDOW + 10):
        seq = life(m, n, seq)
    assert m.row("e0") is None
    # a late copy of an older version (e.g. from a resync that crossed the archive)
    assert m.apply_changes([Change(seq + 1, make_event("e0", version=3), Colour.RED)]) == 0
    assert m.row("e0") is None and m.unacknowledged() == []


def test_none_references_stay_flat_as_events_come_and_go() -> None:
    """What the soak's console probe measures: `sys.getrefcount(None)` (Python < 3.12)."""
    m = new_model()
    seq = 0
    for n in range(2 * WINDOW):
        seq = life(m, n, seq)
    gc.collect()
    before = sys.getrefcount(None)
    for n in range(2 * WINDOW, 2 * WINDOW + 2000):
        seq = life(m, n, seq)
    gc.collect()
    assert sys.getrefcount(None) - before < 500


def test_the_tasks_of_forgotten_events_go_with_them() -> None:
    """The dispatch model (tasks per event, fed by every TaskChanged) let go of an
    event's tasks when the queue forgets the event."""
    from console.tasks.model import DispatchModel
    from tests.unit.dispatch.tasks.test_tasks import LEADER
    from tests.unit.dispatch.tasks.test_tasks_board import dispatch_to

    task = dispatch_to(LEADER).task

    def make_task(task_id: str, event_id: str) -> object:
        return task.model_copy(update={"id": task_id, "event_id": event_id})

    m = new_model()
    tasks = DispatchModel()
    m.forgotten.connect(tasks.forget)
    seq = 0
    for n in range(WINDOW + 30):
        tasks.apply_task(make_task(f"t{n}", f"e{n}"))  # type: ignore[arg-type]
        seq = life(m, n, seq)
    assert tasks.tasks("e0") == [] and tasks.tasks("e29") == []
    assert [t.id for t in tasks.tasks("e30")] == ["t30"]
    assert len(tasks._tasks) == WINDOW
