"""The diagnosis as the patrol samples a camera it has seen before (one key frame).

Each sample's three frames (oldest first) are read as the patrol's rounds see them: the
first is the camera's picture of the round before (kept as `streams.patrol.reference`),
the second the probe's first key frame. When that key frame differs from the reference
the probe stops there and the diagnosis has that one picture; when it looks the same
(a frozen camera, or a scene that happens to look the same) the probe takes a second key
frame (the third frame) and the diagnosis judges frozen on the pair, as before.

The held-out synthetic samples move their objects 20-80 px between frames (seconds
apart); a real round is minutes apart, so a healthy camera differs from its reference
more than here: this is the harder case for the one-key-frame path.

    python -m tests.unit.streams.quality.patrol_path [synthetic|scenes] [FIRST [COUNT]]

prints the precision/recall table (recorded in docs/quality.md) and how many samples
needed a second key frame per kind.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterable, Sequence

from streams.patrol.reference import differs, reference_of
from streams.quality.diagnosis import Diagnosis, QualityThresholds, diagnose, load_thresholds
from tests.unit.streams.quality.quality_samples import Sample, dataset, score, table


def as_patrol(sample: Sample, thresholds: QualityThresholds) -> tuple[Diagnosis, int]:
    """The diagnosis the patrol reaches on this camera, and how many key frames it took."""
    ref = reference_of(sample.frames[0], thresholds)
    first = sample.frames[1]
    frames = [first] if differs(ref, first, thresholds) else [first, sample.frames[2]]
    return diagnose(frames, thresholds), len(frames)


def patrol_results(
    samples: Iterable[Sample], thresholds: QualityThresholds
) -> tuple[list[tuple[Sample, Diagnosis]], Counter[str]]:
    """Every sample's diagnosis on the patrol's path, and the second looks per kind."""
    found: list[tuple[Sample, Diagnosis]] = []
    twice: Counter[str] = Counter()
    for s in samples:
        d, n = as_patrol(s, thresholds)
        found.append((s, d))
        if n > 1:
            twice[s.kind] += 1
    return found, twice


def main(argv: Sequence[str]) -> int:
    which = argv[0] if argv else "synthetic"
    thresholds = load_thresholds()
    if which == "scenes":
        from tests.unit.streams.quality.scene_samples import camera_samples

        first = int(argv[1]) if len(argv) > 1 else 1
        count = int(argv[2]) if len(argv) > 2 else 12
        samples: Iterable[Sample] = camera_samples(range(first, first + count))
    else:
        first = int(argv[1]) if len(argv) > 1 else 1000
        count = int(argv[2]) if len(argv) > 2 else 40
        samples = dataset(range(first, first + count))
    found, twice = patrol_results(samples, thresholds)
    print(f"patrol path (one key frame unless it looks like the last), {which}, seeds {first}..")
    print(table(score(found), found))
    kinds = Counter(s.kind for s, _d in found)
    print("second key frame taken: " + ", ".join(f"{k} {twice[k]}/{n}" for k, n in kinds.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
