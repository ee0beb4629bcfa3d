"""The soak's figures from its samples: slopes per hour with an intercept per process
life, end minus start summed over lives, the settled samples."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest

from console.shell.stats import ConsoleStats
from tests.bench.soak.report import end_minus_start, settled, settled_lives, slope, summary
from tests.bench.soak.run import parse
from tests.bench.soak.sampler import ConsoleWindow, Sample

BASE = Sample(minute=0, console_rss_mb=300, console_fds=40, console_threads=26, hub_rss_mb=250,
              hub_fds=300, hub_threads=14, hub_life=0, none_refs=90_000, painted_fps=25.0,
              tiles_live=16, latency_p95_ms=80.0, publish_p99_ms=5.0, db_mb=3.0, wal_mb=4.0,
              events_acked=0, events_archived=0, phone_connects=0)  # fmt: skip


def test_slope_of_a_line() -> None:
    assert slope([0, 1, 2, 3], [5, 7, 9, 11]) == pytest.approx(2.0)
    assert math.isnan(slope([1], [1]))


def test_a_restart_does_not_make_a_slope() -> None:
    # two flat lives at different levels: flat, not the jump between them
    xs = [0, 1, 2, 3, 4, 5]
    ys = [100, 100, 100, 300, 300, 300]
    assert slope(xs, ys, [0, 0, 0, 1, 1, 1]) == pytest.approx(0.0)
    assert slope(xs, ys) > 0


def test_summary_per_hour_after_the_warmup() -> None:
    samples = [
        replace(BASE, minute=m, console_rss_mb=300 + (50 if m <= 10 else 0) + m / 60 * 3,
                hub_life=0 if m < 30 else 1, hub_fds=300 + (7 if m >= 30 else 0))
        for m in range(1, 61)
    ]  # fmt: skip
    assert settled(samples, 10)[0].minute == 11
    got = summary(samples, 10)
    assert got["rss_mb_per_hour_console"] == pytest.approx(3.0)
    assert got["fds_end_minus_start"] == 0  # the restart's new level is no growth
    assert end_minus_start(samples, "hub_fds") == 7
    assert got["latency_p95_drift_ms"] == 0.0


def test_short_runs_fit_every_sample() -> None:
    samples = [replace(BASE, minute=m, none_refs=90_000 + 100 * m) for m in (1, 2, 3)]
    assert settled(samples, 10) == samples
    assert summary(samples, 10)["none_refs_per_hour"] == pytest.approx(6000.0)


def test_the_kill_cycle_is_no_growth_but_a_leak_is() -> None:
    # a camera killed every 2 minutes: its 4 sockets go and come back minute by minute
    cycle = [replace(BASE, minute=m, decoders_fds=48 + 4 * (m % 2)) for m in range(11, 61)]
    assert end_minus_start(cycle[1:], "decoders_fds") == 0  # starts dead, ends alive
    assert end_minus_start(cycle[:-1], "decoders_fds") == 0  # starts alive, ends dead
    leak = [replace(s, decoders_fds=s.decoders_fds + (s.minute - 11) // 10) for s in cycle]
    assert end_minus_start(leak, "decoders_fds") == 4  # one more every 10 minutes


def test_shedding_is_reported_beside_the_latency_it_causes() -> None:
    # the wall sheds more and more tiles to key frames: the all-tiles p95 climbs with it
    # while the full-rate tiles stay flat; both figures and the shed share are reported
    samples = [
        replace(BASE, minute=m, latency_p95_ms=100 + 30 * (m - 11), latency_full_p95_ms=120.0,
                shed_pct=float(m - 11))
        for m in range(11, 61)
    ]  # fmt: skip
    got = summary(samples, 10)
    assert got["latency_p95_drift_ms"] == pytest.approx(30 * 49, rel=1e-6)
    assert got["latency_p95_full_rate_drift_ms"] == 0.0
    assert got["shed_pct_drift"] == pytest.approx(49.0)
    assert got["shed_pct_mean"] == pytest.approx(24.5)


def test_a_run_without_full_rate_samples_says_so() -> None:
    samples = [replace(BASE, minute=m) for m in range(11, 20)]  # defaults: nothing read
    got = summary(samples, 10)
    assert got["latency_p95_full_rate_drift_ms"] is None
    assert got["shed_pct_mean"] is None


def test_the_console_window_splits_shed_tiles_from_full_rate_ones(tmp_path: Path) -> None:
    path = tmp_path / "stats.jsonl"
    lines = [
        ConsoleStats(t=t, none_refs=1, tiles=16, tiles_with_picture=16, painted_frames=100 * t,
                     latency_ms=[100.0, 1900.0], latency_full_rate_ms=[100.0], tile_samples=16,
                     shed_samples=shed, grabs=t, stamp_misses=0)
        for t, shed in ((1, 0), (2, 4), (3, 8))
    ]  # fmt: skip
    path.write_text(lines[0].model_dump_json() + "\n")
    window = ConsoleWindow(path)
    window.take()
    path.write_text("".join(s.model_dump_json() + "\n" for s in lines))
    got = window.take()
    assert got.stats == lines[-1]
    assert got.ages == [100.0, 1900.0] * 2
    assert got.full_rate_ages == [100.0, 100.0]
    assert got.shed_pct == pytest.approx(100 * 12 / 32)
    assert got.fps == pytest.approx(200 / 2 / 16)


def test_the_restarted_hub_is_fitted_after_its_own_warmup() -> None:
    # each life: a start-up step in its first minutes (the first call), then +3 MB/h
    def hub_mb(m: int) -> float:
        born = 0 if m <= 30 else 30
        return 250 + (0 if m - born <= 2 else 15) + m / 60 * 3

    samples = [replace(BASE, minute=m, hub_rss_mb=hub_mb(m), hub_life=0 if m <= 30 else 1)
               for m in range(1, 61)]  # fmt: skip
    lives = settled_lives(samples, 10)
    assert next(s.minute for s in lives if s.hub_life == 1) == 41
    assert next(s.minute for s in lives if s.hub_life == 0) == 11
    got = summary(samples, 10)
    assert got["rss_mb_per_hour_hub"] == pytest.approx(3.0)
    # fitted from the run's minute 10 only, the second life's start-up reads as growth
    assert got["rss_mb_per_hour_hub_from_run_warmup"] > 10
    # a life too short to settle is left out; none settled: every sample
    short = [s for s in samples if s.minute <= 35]
    assert {s.hub_life for s in settled_lives(short, 10)} == {0}
    assert settled_lives(samples[:5], 10) == samples[:5]


def test_the_soak_refuses_to_run_without_a_phone(capsys: pytest.CaptureFixture[str]) -> None:
    """Every event is dispatched to a grid leader's phone: with none, the workflow would
    fail each event; the arguments say so before anything starts."""
    assert parse(["--phones", "3"]).phones == 3
    with pytest.raises(SystemExit):
        parse(["--phones", "0"])
    assert "needs at least one phone" in capsys.readouterr().err
