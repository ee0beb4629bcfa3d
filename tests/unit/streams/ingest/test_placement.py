"""Where streams go among the decode processes: least streams first."""

from __future__ import annotations

import pytest

from streams.ingest.placement import choose_worker


def test_new_workers_start_until_there_are_as_many_as_wanted() -> None:
    assert choose_worker({}, 2) is None
    assert choose_worker({0: 1}, 2) is None
    assert choose_worker({0: 1, 1: 0}, 2) == 1


def test_the_worker_with_fewest_streams_lowest_id_on_a_tie() -> None:
    assert choose_worker({0: 3, 1: 2, 2: 2}, 3) == 1
    assert choose_worker({4: 0, 2: 0}, 1) == 2


def test_spreading_36_streams_over_two_workers_gives_18_each() -> None:
    loads: dict[int, int] = {}
    for _ in range(36):
        pick = choose_worker(loads, 2)
        if pick is None:
            pick = len(loads)
            loads[pick] = 0
        loads[pick] += 1
    assert loads == {0: 18, 1: 18}


def test_at_least_one_worker() -> None:
    with pytest.raises(ValueError):
        choose_worker({}, 0)
