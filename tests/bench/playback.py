"""Benchmark of playback: `python -m tests.bench.playback --json`.

Builds a 2-hour recording of one simulated camera (`backfill`: the first `--hours` at
`--fps` pictures a second, the last 3 minutes at 25), starts `hall-camsim` serving it,
and measures with the console's player (`streams.playback.player.PlaybackStream`):

- `seek_ms_median`, `seek_ms_p95`: `--seeks` jumps to random times of the 25-fps part of
  the 2-hour recording (`seek_sparse_ms_median`: into the `--fps` part, where FFmpeg
  waits for pictures that come once a second to probe the stream)
  while playing → the first picture of the new place decoded, scaled and in the slot the
  display timer paints from (painting adds ~0.06 ms);
- `speed_8x_fps`: pictures a second reaching the slot at x8 (the recorder sends key
  frames only above x4: one a second of recording, so ~8 expected);
- `live_switch_ms_median`: the baseline in the same run: a live tile switch, i.e. a new
  session on the same camera's live sub stream → its first picture;
- `ptz_ms_p95`: from `python -m tests.bench.ptz --json` (helper "ptz"'s bench) when that
  file exists, else null.

Prints a table, then one JSON object as the last line.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import av

from streams.playback.nvr import track_url
from streams.playback.player import OPTIONS, PlaybackState, PlaybackStream
from streams.simulator import CamSim
from streams.simulator.backfill import backfill
from streams.simulator.recording import spans

FULL_RATE_TAIL_MS = 3 * 60_000


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def wait_first(player: PlaybackStream, request_frames: int, timeout_s: float = 20.0) -> float:
    """ms from the request to its first picture (the player measures it)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        st = player.status()
        if st.frames > request_frames and st.first_frame_ms is not None:
            return st.first_frame_ms
        if st.state is PlaybackState.FAILED:
            raise RuntimeError(f"playback failed: {st.last_error}")
        time.sleep(0.002)
    raise RuntimeError("no picture within the time limit")


def measure_seeks(player: PlaybackStream, start: int, end: int, n: int) -> list[float]:
    """Jumps to random times in start..end (each: request -> first picture)."""
    rng = random.Random(15)
    out = []
    for _ in range(n):
        at = rng.randrange(start, end)
        before = player.status().frames
        player.play(at, None, 1.0)
        out.append(wait_first(player, before))
        time.sleep(0.3)  # a moment of playing, as an officer would look
    return out


def measure_8x(player: PlaybackStream, end: int, seconds: float) -> float:
    player.play(end - FULL_RATE_TAIL_MS + 1000, None, 8.0)
    wait_first(player, player.status().frames)
    got, t0 = 0, time.monotonic()
    while time.monotonic() - t0 < seconds:
        if player.take() is not None:
            got += 1
        time.sleep(0.003)
    return got / seconds


def measure_live_switch(url: str, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.monotonic()
        with av.open(url, options=OPTIONS, timeout=(8.0, 8.0)) as c:
            for _frame in c.decode(video=0):
                out.append((time.monotonic() - t0) * 1000)
                break
    return out


def ptz_p95() -> tuple[float | None, str]:
    bench = Path(__file__).with_name("ptz.py")
    if not bench.exists():
        return None, "tests/bench/ptz.py does not exist (helper ptz's bench)"
    run = subprocess.run(
        [sys.executable, "-m", "tests.bench.ptz", "--json"],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    # it exits 1 when it misses its target, after printing its figures: taken all the same
    lines = [ln for ln in run.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        tail = (run.stderr or run.stdout).strip()[-300:]
        return None, f"tests.bench.ptz failed ({run.returncode}): {tail}"
    value = json.loads(lines[-1]).get("ptz_ms_p95")
    note = f"from tests.bench.ptz (exit {run.returncode})"
    return (float(value) if value is not None else None), note


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=2.0)
    ap.add_argument("--fps", type=float, default=1.0, help="pictures a second of the backfill")
    ap.add_argument("--seeks", type=int, default=20)
    ap.add_argument("--json", action="store_true", help="(the JSON line is always printed)")
    ap.add_argument("--no-ptz", action="store_true", help="do not run tests.bench.ptz")
    ap.add_argument("--reuse", type=Path, help="a recording folder of an earlier run")
    args = ap.parse_args()
    t0 = time.monotonic()
    if args.reuse is not None:
        root = args.reuse
        runs = spans(root / "cam1", gap_ms=5000)
        start, end = runs[0][0], runs[-1][1]
    else:
        root = Path(tempfile.mkdtemp(prefix="playback-bench-"))
        end = (int(time.time()) - 5) * 1000
        start = end - int(args.hours * 3600_000)
        backfill(root, "cam1", start, end - FULL_RATE_TAIL_MS, fps=args.fps, timeout_s=3600)
        backfill(root, "cam1", end - FULL_RATE_TAIL_MS, end, fps=25.0)
    built_s = time.monotonic() - t0
    tail = end - FULL_RATE_TAIL_MS
    sim = CamSim(cameras=1, record_dir=root, encoding="camera")
    sim.start()
    player = PlaybackStream("cam1", track_url(sim.url("cam1", "main")))
    player.start()
    try:
        # where a camera's recording is: 25 pictures a second (the last minutes), with the
        # index of the whole 2 hours; and the sparse part (the backfill's --fps)
        seeks = measure_seeks(player, tail + 5_000, end - 20_000, args.seeks)
        sparse = measure_seeks(player, start + 10_000, tail - 10_000, max(5, args.seeks // 4))
        fps8 = measure_8x(player, end, 6.0)
        live = measure_live_switch(sim.url("cam1", "sub"), 7)
    finally:
        player.stop()
        sim.stop()
    ptz, ptz_note = (None, "skipped (--no-ptz)") if args.no_ptz else ptz_p95()
    result: dict[str, Any] = {
        "recording_hours": args.hours,
        "recording_built_s": round(built_s, 1),
        "seeks": len(seeks),
        "seek_ms_median": round(statistics.median(seeks), 1),
        "seek_ms_p95": round(p95(seeks), 1),
        "sparse_fps": args.fps,
        "seek_sparse_ms_median": round(statistics.median(sparse), 1),
        "speed_8x_fps": round(fps8, 2),
        "live_switch_ms_median": round(statistics.median(live), 1),
        "live_switch_ms_p95": round(p95(live), 1),
        "ptz_ms_p95": ptz,
        "ptz_note": ptz_note,
        "load_1m": round(float(Path("/proc/loadavg").read_text().split()[0]), 1),
    }
    print(f"{'measure':<24}{'value':>12}")
    for key in (
        "seek_ms_median",
        "seek_ms_p95",
        "seek_sparse_ms_median",
        "speed_8x_fps",
        "live_switch_ms_median",
    ):
        print(f"{key:<24}{result[key]:>12}")
    print(f"{'ptz_ms_p95':<24}{result['ptz_ms_p95']!s:>12}  ({ptz_note})")
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
