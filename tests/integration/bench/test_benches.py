"""The benchmarks run end to end at small sizes (seconds each), so their code cannot rot:
each exits 0, prints its checks and a last JSON line whose figures are present and sane.
The real sizes are for `python -m tests.bench.X` (docs/dispatch.md, docs/rollcall.md,
docs/mediation.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.kit.paths import ROOT

pytestmark = pytest.mark.integration


def run_bench(tmp_path: Path, module: str, *args: str, timeout: float = 300) -> dict[str, Any]:
    cmd = [sys.executable, "-m", f"tests.bench.{module}", *args]
    run = subprocess.run(
        cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT, check=False
    )
    (tmp_path / f"{module}.txt").write_text(run.stdout + run.stderr, encoding="utf-8")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "checks:" in run.stdout and "FAIL" not in run.stdout, run.stdout[-3000:]
    out: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["checks_failed"] == [], out
    return out


@pytest.mark.timeout(300)
def test_hub_bench_small(tmp_path: Path) -> None:
    out = run_bench(
        tmp_path, "hub", "--intake-seconds", "2", "--seconds", "1", "--latency-runs", "1",
        "--resync-events", "300", "--clients", "8",
    )  # fmt: skip
    assert out["intake_acknowledged"] > 0 and out["intake_lost"] == 0, out
    assert out["intake_events_per_s"] > 0 and out["intake_seconds"] >= 2, out
    assert out["publish_sent"] == 200 and out["publish_received"] == 200, out
    assert 0 < out["publish_latency_ms_p50"] <= out["publish_latency_ms_p99"], out
    assert out["resync_events"] == out["resync_expected"] == 300, out


@pytest.mark.timeout(300)
def test_dispatch_bench_small(tmp_path: Path) -> None:
    out = run_bench(tmp_path, "dispatch", "--sessions", "20", "--dispatches", "40", "--rate", "20")
    assert out["sessions"] == 20 and out["baseline_sessions"] == 1, out
    assert out["dispatches"] == 40 and out["dispatches_lost"] == 0, out
    assert out["baseline_dispatches"] == 40, out
    assert 0 < out["dispatch_to_delivered_ms_p50"] <= out["dispatch_to_delivered_ms_p99"], out


@pytest.mark.timeout(300)
def test_rollcall_bench_small(tmp_path: Path) -> None:
    out = run_bench(tmp_path, "rollcall", "--stations", "4", "--batch", "2")
    (run,) = out["runs"]
    for r in (out["baseline"], run):
        n = r["stations"]
        assert r["answered_with_snapshot"] == r["media_timed"] == n, r
        assert r["dropped_out"] == 0 and r["rung_not_once"] == 0 and r["covered"], r
        # the picture comes after the signalling, and within the hub's media timeout
        assert 0 < r["call_setup_ms_median"] < r["ring_to_media_ms_median"] < 30_000, r
    assert run["stations"] == 4 and out["baseline"]["stations"] == 1, out


@pytest.mark.timeout(400)
def test_webrtc_bench_small(tmp_path: Path) -> None:
    out = run_bench(
        tmp_path, "webrtc", "--parties", "3", "--seconds", "3", "--baseline-seconds", "2",
        timeout=380,
    )  # fmt: skip
    assert out["parties"] == 3 and out["rows"] == 6, out
    assert out["baseline_2_parties"]["rows"] == 2, out
    for r in (out, out["baseline_2_parties"]):
        assert 0 < r["received_fps_min"] <= r["received_fps_median"] < 40, r
        assert r["shown_fps_min"] is not None and 0 < r["shown_fps_min"] < 40, r
        assert 0 < r["connect_ms"] < 90_000 and 0 < r["machine_busy_percent"] <= 100, r
