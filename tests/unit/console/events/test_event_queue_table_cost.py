"""The event table's cost does not grow with the number of events: a task's badge, the
countdown tick and a new change ask the model for the cells on screen, not for every
row (the soak's console: ~1,000 open events and a few task changes a second starved the
GUI thread, painted fps 0.5, because every column sized itself to its contents over
up to 1,000 rows at each change)."""

from __future__ import annotations

import gc
import itertools
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import pytest
from PySide6.QtWidgets import QApplication

from console.events.model import Change
from console.events.strings import state_name
from console.events.table import REFRESH_EVERY_S, Col, EventTableModel
from dispatch.domain.model import Colour, Event, EventState
from tests.kit import pump_for, pump_until
from tests.unit.console.events.test_event_queue_panel import Rig, rig  # noqa: F401
from tests.unit.console.events.test_event_queue_support import make_event

ROWS = 3000  # Qt measured up to 1,000 rows per column and pass


@contextmanager
def counted(only: EventTableModel | None = None) -> Iterator[list[int]]:
    """How many cell texts the table builds meanwhile (`data` itself is called from
    C++, past a patch of the class); `only`: of this table (earlier tests' tables may
    not be deleted yet)."""
    calls = [0]
    real = EventTableModel._text

    def text(self: EventTableModel, *a: object) -> str:
        if only is None or self is only:
            calls[0] += 1
        return real(self, *a)  # type: ignore[arg-type]

    EventTableModel._text = text  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        EventTableModel._text = real  # type: ignore[method-assign]


def test_cells_asked_do_not_grow_with_the_events(rig: Rig, qapp: QApplication) -> None:  # noqa: F811
    rig.login()
    pump_until(lambda: rig.panel.table_model.rowCount() == 3)
    changes = [Change(100 + n, make_event(f"n{n:04d}"), Colour.GREEN) for n in range(ROWS)]
    rig.model.apply_changes(changes)
    pump_until(lambda: rig.panel.table_model.rowCount() == ROWS + 3)
    pump_for(0.3)
    with counted() as badge:
        rig.panel.table_model.badges_changed("n0700")
        pump_for(0.2)
    with counted() as tick:
        rig.panel.tick()
        pump_for(0.2)
    with counted() as change:
        rig.model.apply_changes([Change(5000, make_event("x1"), Colour.GREEN)])
        pump_until(lambda: rig.panel.table_model.rowCount() == ROWS + 4)
        pump_for(0.2)
    assert max(badge[0], tick[0], change[0]) < ROWS, (badge, tick, change)  # < 1 per event


def test_a_reset_repaints_unchanged_rows_from_what_was_kept(rig: Rig, qapp: QApplication) -> None:  # noqa: F811
    """A change to one event resets the table; the rows on screen that did not change
    are painted again without building their cells again (the soak's console spent
    ~20 % of its GUI thread in `data()`, a reset at each batch of changes)."""
    rig.login()
    pump_until(lambda: rig.panel.table_model.rowCount() == 3)
    rig.model.apply_changes(
        [Change(100 + n, make_event(f"n{n:04d}"), Colour.GREEN) for n in range(300)]
    )
    pump_until(lambda: rig.panel.table_model.rowCount() == 303)
    pump_for(0.3)
    shown = rig.panel.table.rowAt(rig.panel.table.viewport().height() - 1)
    assert shown > 5, "the table shows rows"
    with counted(rig.panel.table_model) as again:
        first = rig.panel.table_model.event_id(0)
        assert first is not None
        row = rig.model.row(first)
        assert row is not None
        rig.model.apply_changes([Change(900, row.event.model_copy(update={"version": 9}),
                                        row.colour)])  # fmt: skip
        pump_for(0.3)
    # the changed row's cells, and the countdowns (never kept: they follow the clock),
    # for a repaint or two; building every cell on screen again was 8 per row a paint
    assert 0 < again[0] <= 2 * (len(Col) + shown + 1), (again, shown)


def test_a_burst_of_task_changes_is_one_update_per_event(rig: Rig, qapp: QApplication) -> None:  # noqa: F811
    """Task changes from the network thread are applied in one batch, like the events:
    one badge repaint per event touched, not one per message."""
    from dispatch.tasks.messages import TaskChanged
    from tests.unit.dispatch.tasks.test_tasks import LEADER
    from tests.unit.dispatch.tasks.test_tasks_board import dispatch_to

    out = dispatch_to(LEADER)
    assert out.transition is not None
    told: list[str] = []
    rig.ctrl.dispatch.tasks_changed.connect(told.append)
    task, step = out.task, out.transition
    msgs = [
        TaskChanged(
            seq=n,
            task=task.model_copy(update={"version": task.version + n}),
            transition=step,
            line="派单",
        )
        for n in range(20)
    ]
    sender = threading.Thread(target=lambda: [rig.ctrl.on_task_changed(m) for m in msgs])
    sender.start()
    sender.join()
    pump_until(lambda: bool(told))
    pump_for(0.2)
    assert told == [out.task.event_id]
    held = rig.ctrl.dispatch.task(out.task.id)
    assert held is not None and held.version == out.task.version + 19


def test_a_steady_stream_of_changes_resets_the_table_a_few_times_a_second(
    rig: Rig,  # noqa: F811
    qapp: QApplication,
) -> None:
    """A change every ~10 ms for a second or more (a busy county's queue, the soak's 5 events/s
    with their transitions) resets the table at most every `REFRESH_EVERY_S`, not at each
    change (each reset held the wall's display timer up, which shed the wall's tiles),
    and the table ends with every change."""
    rig.login()
    pump_until(lambda: rig.panel.table_model.rowCount() == 3)
    pump_for(0.3)
    resets: list[float] = []
    rig.panel.table_model.refreshed.connect(lambda: resets.append(time.monotonic()))
    t0 = time.monotonic()
    n = 100
    for k in range(n):
        rig.model.apply_changes([Change(200 + k, make_event(f"s{k:04d}"), Colour.GREEN)])
        pump_for(0.01)
    took = time.monotonic() - t0
    pump_until(lambda: rig.panel.table_model.rowCount() == n + 3)
    assert 2 <= len(resets) <= took / REFRESH_EVERY_S + 2 < n / 2, (len(resets), took)
    gaps = [b - a for a, b in itertools.pairwise(resets)]
    assert min(gaps) >= REFRESH_EVERY_S - 0.02, gaps


def test_a_busy_queue_keeps_none_references_flat(
    rig: Rig,  # noqa: F811
    qapp: QApplication,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each change in a busy queue schedules the table's next reset a little later; the
    timer that does it must not take references from `None` (`QTimer.singleShot` with a
    delay took three a call in PySide6 6.11.3: the soak's console lost ~780 a minute)."""
    import console.events.table as table

    monkeypatch.setattr(table, "REFRESH_EVERY_S", 0.004)  # a delay at every schedule
    rig.login()
    pump_until(lambda: rig.panel.table_model.rowCount() == 3)
    model = rig.panel.table_model
    resets = [0]
    model.refreshed.connect(lambda: resets.__setitem__(0, resets[0] + 1))

    def busy(n: int) -> None:
        for _ in range(n):
            want = resets[0] + 2
            model.refresh()
            model._schedule()  # within REFRESH_EVERY_S of the last reset: a delay
            pump_until(lambda: resets[0] >= want)  # noqa: B023 (called here, at once)

    busy(20)
    gc.collect()
    before = sys.getrefcount(None)
    busy(200)
    gc.collect()
    assert sys.getrefcount(None) - before < 100, sys.getrefcount(None) - before


def _alive(event_id: str) -> list[int]:
    """The versions of `event_id`'s `Event` objects still alive."""
    gc.collect()
    return sorted(o.version for o in gc.get_objects() if isinstance(o, Event) and o.id == event_id)


def test_the_table_keeps_no_older_version_of_an_event(rig: Rig, qapp: QApplication) -> None:  # noqa: F811
    """The cells kept for a painted row hold that row's `Event`. Once the event changes,
    or leaves the view, the table keeps nothing of the old version: the soak's console
    held 75–140 older versions this way, and its count of `None` references moved with
    them."""
    rig.login()
    pump_until(lambda: rig.panel.table_model.rowCount() == 3)
    rig.model.apply_changes(
        [Change(100 + n, make_event(f"k{n:02d}", version=1), Colour.GREEN) for n in range(20)]
    )
    pump_until(lambda: rig.panel.table_model.rowCount() == 23)
    pump_for(0.3)  # painted: the table keeps the cells of the rows on screen
    assert _alive("k00") == [1]
    changed = [
        Change(200 + n, make_event(f"k{n:02d}", title="已改", version=2), Colour.GREEN)
        for n in range(20)
    ]
    rig.model.apply_changes(changed)  # a new version of each, painted or not
    del changed
    pump_until(lambda: _alive("k00") == [2], timeout=5)
    for n in (0, 7, 19):
        assert _alive(f"k{n:02d}") == [2]
    model = rig.panel.table_model
    row = model.row_of("k00")
    assert model.data(model.index(row, Col.TITLE)) == "已改"
    archived = make_event("k01", state=EventState.ARCHIVED, version=3)  # leaves the view
    rig.model.apply_changes([Change(300, archived, Colour.GREEN)])
    del archived
    pump_until(lambda: model.row_of("k01") < 0)
    assert _alive("k01") == [3]  # the queue's row only; not the version painted before


def test_the_language_switch_reaches_the_cells_kept_after_many_changes(
    rig: Rig,  # noqa: F811
    qapp: QApplication,
) -> None:
    """The switch empties the kept cells; it must be the dict the table uses still after
    the table dropped cells of rows gone (it kept the first dict's `clear`, and a table
    that had replaced its dict went on showing the old language)."""
    from console.kit import i18n

    rig.login()
    rig.model.apply_changes(
        [Change(100 + n, make_event(f"g{n:03d}"), Colour.GREEN) for n in range(150)]
        + [Change(99, make_event("only", title="独一无二的事件"), Colour.GREEN)]
    )
    model = rig.panel.table_model
    pump_until(lambda: model.rowCount() == 154)
    for r in range(model.rowCount()):  # every row's cells kept (as if scrolled through)
        model.data(model.index(r, Col.STATE))
    rig.model.set_filters(replace(rig.model.filters, search="独一无二"))
    pump_until(lambda: model.rowCount() == 1)
    before = model.data(model.index(0, Col.STATE))
    previous = i18n.language()
    i18n.set_language("en")
    try:
        after = model.data(model.index(0, Col.STATE))
        assert before != after, (before, after)
        assert after == state_name(EventState.ACCEPTED)
    finally:
        i18n.set_language(previous)
