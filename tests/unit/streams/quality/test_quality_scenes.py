"""The quality diagnosis stays right on the simulator's scenes (street, square; day, night).

See tests/unit/streams/quality/scene_samples.py for how the samples are made; the table
for more seeds is in docs/quality.md.
"""

from __future__ import annotations

import pytest

from streams.quality.diagnosis import Fault
from tests.unit.streams.quality.quality_samples import score, table
from tests.unit.streams.quality.scene_samples import results, wrong

SEEDS = range(1, 5)  # 4 cameras x day and night x 7 modes = 56 samples
FLOOR = 0.9


def test_every_simulated_fault_is_found_and_healthy_scenes_raise_none(
    capsys: pytest.CaptureFixture[str],
) -> None:
    found = results(SEEDS)
    scores = score(found)
    with capsys.disabled():
        print(f"\nsimulator scenes, seeds {SEEDS.start}..{SEEDS.stop - 1}, day and night:")
        print(table(scores, found))
        print("wrong diagnoses:\n" + ("\n".join(wrong(found)) or "  none"))
    for fault, s in scores.items():
        if fault is Fault.BLANK:
            assert s.tp + s.fn == 0 and s.fp == 0  # no such mode; never reported either
            continue
        assert s.tp + s.fn == 2 * len(SEEDS)
        assert s.precision >= FLOOR and s.recall >= FLOOR, s
    healthy = [d for s, d in found if s.kind == "healthy"]
    assert all(d.ok for d in healthy), [d.faults for d in healthy if not d.ok]
