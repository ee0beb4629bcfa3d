"""The event table's cost does not grow with the number of events: a task's badge, the
countdown tick and a new change ask the model for the cells on screen, not for every
row (the soak's console: ~1,000 open events and a few task changes a second starved the
GUI thread, painted fps 0.5, because every column sized itself to its contents over
up to 1,000 rows at each change)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from PySide6.QtWidgets import QApplication

from console.events.model import Change
from console.events.table import EventTableModel
from dispatch.domain.model import Colour
from tests.kit import pump_for, pump_until
from tests.unit.console.events.test_event_queue_panel import Rig, rig  # noqa: F401
from tests.unit.console.events.test_event_queue_support import make_event

ROWS = 3000  # Qt measured up to 1,000 rows per column and pass


@contextmanager
def counted() -> Iterator[list[int]]:
    """How many cell texts the table builds meanwhile (`data` itself is called from
    C++, past a patch of the class)."""
    calls = [0]
    real = EventTableModel._text

    def text(self: EventTableModel, *a: object) -> str:
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
