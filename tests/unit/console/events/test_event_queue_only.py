"""`EventQueueModel.show_only`: a hot spot's events, whatever their state, until cleared."""

from __future__ import annotations

from console.events.model import Filters
from tests.kit import FakeClock
from tests.unit.console.events.test_event_queue_model import _fill, ids, new_model


def test_show_only_narrows_to_the_ids_in_any_state_and_clear_restores() -> None:
    m = new_model(FakeClock())
    _fill(m)
    seen: list[None] = []
    m.rows_changed.connect(seen.append)
    m.show_only(["e2", "e4", "missing"])
    assert sorted(ids(m)) == ["e2", "e4"]  # e4 is archived: shown because it was asked for
    assert m.only == frozenset({"e2", "e4", "missing"})
    m.show_only(["e4", "e2", "missing"])  # the same set: no second notice
    assert len(seen) == 1
    m.set_filters(Filters(categories=frozenset({"environment"})))
    assert ids(m) == ["e2"]  # the other filters still apply
    m.set_filters(Filters())
    m.clear_only()
    assert m.only is None
    assert sorted(ids(m)) == ["e1", "e2", "e3"]
    m.clear_only()
    assert len(seen) == 4
