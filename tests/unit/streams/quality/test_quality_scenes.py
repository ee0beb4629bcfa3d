"""The quality diagnosis stays right on the simulator's scenes (street, square; day, night).

See tests/unit/streams/quality/scene_samples.py for how the samples are made; the table
for more seeds is in docs/quality.md.
"""

from __future__ import annotations

import pytest

from streams.quality.diagnosis import Diagnosis, Fault, load_thresholds
from tests.unit.streams.quality.patrol_path import patrol_results
from tests.unit.streams.quality.quality_samples import Sample, score, table
from tests.unit.streams.quality.scene_samples import results, wrong

SEEDS = range(1, 5)  # 4 cameras x day and night x 7 modes = 56 samples
FLOOR = 0.9


@pytest.fixture(scope="module")
def found() -> list[tuple[Sample, Diagnosis]]:
    return results(SEEDS)


def test_every_simulated_fault_is_found_and_healthy_scenes_raise_none(
    found: list[tuple[Sample, Diagnosis]], capsys: pytest.CaptureFixture[str]
) -> None:
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


def test_the_same_scenes_on_the_patrols_one_key_frame_path(
    found: list[tuple[Sample, Diagnosis]], capsys: pytest.CaptureFixture[str]
) -> None:
    """As the patrol's later rounds see them (patrol_path.py): the first frame is last
    round's picture; one key frame when the next differs from it, else two."""
    path, twice = patrol_results((s for s, _d in found), load_thresholds())
    scores = score(path)
    with capsys.disabled():
        print(f"\nsimulator scenes on the patrol's path (second looks {dict(twice)}):")
        print(table(scores, path))
    for fault, s in scores.items():
        if fault is Fault.BLANK:
            assert s.tp + s.fn == 0 and s.fp == 0
            continue
        assert s.precision >= FLOOR and s.recall >= FLOOR, s
    assert all(d.ok for s, d in path if s.kind == "healthy")
    assert twice["frozen"] == 2 * len(SEEDS) and twice["healthy"] == 0
