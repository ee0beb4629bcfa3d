"""Video quality diagnosis (streams.quality.diagnosis) on synthetic healthy and faulty cameras.

The thresholds in resources/quality.toml were tuned on seeds TUNING_SEEDS (see
tests/unit/streams/quality/quality_samples.py); the precision/recall table here is measured on
HELD_OUT_SEEDS, which the tuning never saw. The table is printed and recorded in
docs/quality.md.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from streams.quality.diagnosis import (
    Diagnosis,
    Fault,
    QualityConfigError,
    QualityThresholds,
    diagnose,
    load_thresholds,
    parse_thresholds,
)
from tests.unit.streams.quality.patrol_path import patrol_results
from tests.unit.streams.quality.quality_samples import (
    KINDS,
    Sample,
    Scene,
    as_u8,
    dataset,
    jpeg,
    make_sample,
    score,
    simulator_like,
    speed,
    table,
)

TUNING_SEEDS = range(0, 60)
HELD_OUT_SEEDS = range(1000, 1040)
# Floors on the held-out set (docs/quality.md explains each).
PRECISION_FLOOR = dict.fromkeys(Fault, 0.9)
RECALL_FLOOR = dict.fromkeys(Fault, 0.9)
HEALTHY_FALSE_ALARM_MAX = 0.05


@pytest.fixture(scope="module")
def thresholds() -> QualityThresholds:
    return load_thresholds()


@pytest.fixture(scope="module")
def held_out(thresholds: QualityThresholds) -> list[tuple[Sample, Diagnosis]]:
    assert not set(TUNING_SEEDS) & set(HELD_OUT_SEEDS)
    return [(s, diagnose(s.frames, thresholds)) for s in dataset(HELD_OUT_SEEDS)]


def test_held_out_precision_and_recall(
    held_out: list[tuple[Sample, Diagnosis]],
    thresholds: QualityThresholds,
    capsys: pytest.CaptureFixture[str],
) -> None:
    scores = score(held_out)
    misses = [
        f"  {s.kind} seed {s.seed} severity {s.severity:.2f}: got {[str(f) for f in d.faults]}"
        for s, d in held_out
        if set(d.faults) != s.expected
    ]
    with capsys.disabled():
        print(f"\nheld-out seeds {HELD_OUT_SEEDS.start}..{HELD_OUT_SEEDS.stop - 1}:")
        print(table(scores, held_out))
        print("wrong diagnoses:\n" + ("\n".join(misses) or "  none"))
        print(f"diagnose, 3 frames of 704x576: {speed(thresholds):.1f} ms (median)")
    for fault, s in scores.items():
        assert s.tp + s.fn == len(HELD_OUT_SEEDS)
        assert s.precision >= PRECISION_FLOOR[fault], (fault, s)
        assert s.recall >= RECALL_FLOOR[fault], (fault, s)
    healthy = [d for s, d in held_out if s.kind == "healthy"]
    alarms = sum(1 for d in healthy if not d.ok)
    assert alarms <= HEALTHY_FALSE_ALARM_MAX * len(healthy)


def test_held_out_on_the_patrols_one_key_frame_path(
    held_out: list[tuple[Sample, Diagnosis]],
    thresholds: QualityThresholds,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The same samples as the patrol's later rounds see them (tests/unit/streams/quality/
    patrol_path.py): one key frame when it differs from last round's picture, else two.
    Same floors; every frozen camera looked at twice."""
    found, twice = patrol_results((s for s, _d in held_out), thresholds)
    scores = score(found)
    with capsys.disabled():
        print(f"\nheld-out on the patrol's one-key-frame path (second looks {dict(twice)}):")
        print(table(scores, found))
    for fault, s in scores.items():
        assert s.precision >= PRECISION_FLOOR[fault], (fault, s)
        assert s.recall >= RECALL_FLOOR[fault], (fault, s)
    healthy = [d for s, d in found if s.kind == "healthy"]
    assert sum(1 for d in healthy if not d.ok) <= HEALTHY_FALSE_ALARM_MAX * len(healthy)
    assert twice["frozen"] == len(HELD_OUT_SEEDS)
    assert twice["healthy"] < len(healthy) // 2  # most healthy cameras: one key frame


def test_jpeg_60_of_healthy_frames_raises_no_faults(
    held_out: list[tuple[Sample, Diagnosis]],
    thresholds: QualityThresholds,
    capsys: pytest.CaptureFixture[str],
) -> None:
    healthy = [s for s, _ in held_out if s.kind == "healthy"]
    faulty = []
    for s in healthy:
        diag = diagnose([jpeg(f, 60) for f in s.frames], thresholds)
        if not diag.ok:
            faulty.append((s.seed, diag.faults))
    with capsys.disabled():
        print(f"\nJPEG 60 of {len(healthy)} healthy held-out cameras: {len(faulty)} with a fault")
    assert len(faulty) <= HEALTHY_FALSE_ALARM_MAX * len(healthy), faulty


def test_simulator_camera_is_healthy_and_its_stamp_does_not_hide_a_freeze(
    thresholds: QualityThresholds,
) -> None:
    # key frames two seconds apart (GOP 50) of a live simulator camera
    for seed in range(4):
        for size in ((704, 576), (1280, 720)):  # the sub and the main stream
            live = [simulator_like(50 * k, seed, *size) for k in range(3)]
            assert diagnose(live, thresholds).faults == (), (seed, size)
    # a frozen picture whose stamp strip still changes: frozen only with the band ignored
    still = simulator_like(0, 1)
    frozen = [still.copy() for _ in range(3)]
    for k, f in enumerate(frozen):
        f[: f.shape[0] // 20] = simulator_like(50 * k, 1)[: f.shape[0] // 20]
    assert diagnose(frozen, thresholds).faults == (Fault.FROZEN,)
    no_band = thresholds.model_copy(update={"ignore_top": 0.0})
    assert Fault.FROZEN not in diagnose(frozen, no_band).faults


def test_plain_flat_scene_is_not_blur(thresholds: QualityThresholds) -> None:
    rng = np.random.default_rng(7)
    h, w = 576, 704
    ramp = np.linspace(90, 140, w, dtype=np.float32)[None, :, None]
    frames = []
    for _ in range(3):
        img = np.broadcast_to(ramp, (h, w, 3)) + rng.normal(0, 1.0, (h, w, 1))
        frames.append(jpeg(np.clip(img, 0, 255).astype(np.uint8), 70))
    blur = diagnose(frames, thresholds).finding(Fault.BLUR)
    assert not blur.detected
    assert blur.value is None and "no edges" in blur.note


def test_blur_grows_with_defocus(thresholds: QualityThresholds) -> None:
    scene = Scene(np.random.default_rng(3))
    content = scene.content(0)
    values = []
    for sigma in (0.0, 1.5, 3.0, 6.0):
        img = content if sigma == 0 else as_u8(cv2.GaussianBlur(content, (0, 0), sigma))
        value = diagnose([img], thresholds).finding(Fault.BLUR).value
        assert value is not None
        values.append(value)
    assert values == sorted(values) and values[-1] > 2 * values[0]


def test_black_suppresses_the_other_faults_but_keeps_their_values(
    thresholds: QualityThresholds,
) -> None:
    black = make_sample("black", 5000)
    diag = diagnose(black.frames, thresholds)
    assert diag.faults == (Fault.BLACK,)
    assert [f.fault for f in diag.findings] == list(Fault)
    covered = diag.finding(Fault.COVERED)
    assert covered.score >= 1.0 and not covered.detected and covered.note == "suppressed by black"


def test_finding_explains_itself(thresholds: QualityThresholds) -> None:
    noisy = make_sample("noise", 5001)
    f = diagnose(noisy.frames, thresholds).finding(Fault.NOISE)
    assert f.detected and f.value is not None
    assert f.threshold == thresholds.noise_max_sigma
    assert f.score == pytest.approx(f.value / f.threshold)
    healthy = diagnose(make_sample("healthy", 5001).frames, thresholds)
    for finding in healthy.findings:
        assert not finding.detected
        assert finding.value is None or finding.score < 1.0, finding


def test_noise_estimate_reads_the_sigma_of_white_noise(thresholds: QualityThresholds) -> None:
    rng = np.random.default_rng(11)
    for sigma in (2.0, 5.0, 12.0):  # at the working width: no scaling below 320 pixels
        frames = [np.clip(128 + rng.normal(0, sigma, (240, 320)), 0, 255).astype(np.uint8)]
        value = diagnose(frames, thresholds).finding(Fault.NOISE).value
        assert value == pytest.approx(sigma, rel=0.1)


def test_one_frame_cannot_be_judged_frozen(thresholds: QualityThresholds) -> None:
    frame = make_sample("frozen", 5002).frames[0]
    f = diagnose([frame], thresholds).finding(Fault.FROZEN)
    assert not f.detected and f.value is None and f.note == "needs two samples"


def test_bgra_grey_padded_and_small_frames_give_the_same_verdict(
    thresholds: QualityThresholds,
) -> None:
    for kind in ("healthy", "blur", "noise", "covered"):
        bgr = make_sample(kind, 5003).frames
        want = diagnose(bgr, thresholds)
        bgra = [as_u8(cv2.cvtColor(f, cv2.COLOR_BGR2BGRA)) for f in bgr]
        padded = []
        for f in bgra:  # rows padded to a wider buffer, as decoders hand them out
            buf = np.zeros((f.shape[0], f.shape[1] + 24, 4), np.uint8)
            buf[:, : f.shape[1]] = f
            padded.append(buf[:, : f.shape[1]])
        grey = [as_u8(cv2.cvtColor(f, cv2.COLOR_BGR2GRAY)) for f in bgr]
        for variant in (bgra, padded):
            assert diagnose(variant, thresholds).faults == want.faults, kind
        got = diagnose(grey, thresholds)
        assert got.finding(Fault.COLOUR_CAST).note == "no colour to judge"
        assert set(got.faults) == set(want.faults) - {Fault.COLOUR_CAST}, kind
    # a picture already below the working width is measured as it is
    small = [as_u8(cv2.resize(f, (240, 196), interpolation=cv2.INTER_AREA)) for f in bgr]
    assert diagnose(small, thresholds).working_size[0] == 240


@pytest.mark.parametrize(
    ("frames", "error", "message"),
    [
        ([], ValueError, "no frames"),
        ([np.zeros((64, 64, 3), np.float32)], ValueError, "frame 0 has dtype float32"),
        (
            [np.zeros((64, 64, 3), np.uint8), np.zeros((64, 64, 2), np.uint8)],
            ValueError,
            "frame 1 has shape",
        ),
        ([np.zeros((8, 64, 3), np.uint8)], ValueError, "frame 0 is 64x8"),
        ([b"not a picture"], TypeError, "frame 0 is bytes"),
    ],
)
def test_bad_frames_are_refused_with_a_clear_error(
    frames: list[object], error: type[Exception], message: str, thresholds: QualityThresholds
) -> None:
    with pytest.raises(error, match=message):
        diagnose(frames, thresholds)  # type: ignore[arg-type]


def test_thresholds_file_defaults_and_errors(tmp_path: Path) -> None:
    t = load_thresholds()
    assert t.working_width == 320 and 0.05 <= t.ignore_top < 0.1
    data = t.model_dump()
    with pytest.raises(QualityConfigError, match="blur_min_ednge"):
        parse_thresholds({**data, "blur_min_ednge": 2.0})
    with pytest.raises(QualityConfigError, match="blur_min_index"):
        parse_thresholds({**data, "blur_min_index": 1.5})
    missing = {k: v for k, v in data.items() if k != "noise_max_sigma"}
    with pytest.raises(QualityConfigError, match="noise_max_sigma"):
        parse_thresholds(missing)
    bad = tmp_path / "q.toml"
    bad.write_text("black_max_luma = [", encoding="utf-8")
    with pytest.raises(QualityConfigError, match=r"q\.toml: not valid TOML"):
        load_thresholds(bad)
    with pytest.raises(QualityConfigError, match="cannot read"):
        load_thresholds(tmp_path / "absent.toml")
    good = tmp_path / "good.toml"
    good.write_text("\n".join(f"{k} = {v}" for k, v in data.items()), encoding="utf-8")
    assert load_thresholds(good) == t


def test_samples_are_reproducible_and_cover_every_kind() -> None:
    for kind in KINDS:
        a, b = make_sample(kind, 77), make_sample(kind, 77)
        assert all(np.array_equal(x, y) for x, y in zip(a.frames, b.frames, strict=True))
        assert len(a.frames) == 3 and a.frames[0].shape == (576, 704, 3)
    with pytest.raises(ValueError, match="unknown kind"):
        make_sample("smoke", 1)
