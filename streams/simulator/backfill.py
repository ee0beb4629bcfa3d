"""Write a past span of a camera's recording at once (tests and the bench cannot wait hours).

Runs the server script's `backfill` mode under the system Python: the same picture, stamp
and encoder as the live recorder (`streams/simulator/_replay.py`), pushed as fast as the
encoder goes. `fps` below 25 makes a long span cheap (the stamps stay exact; the picture
moves in bigger steps); `modes` gives picture modes over time, e.g. a frozen scene
(no movement) outside some minutes.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from pathlib import Path

from streams.simulator.camsim import SERVER_SCRIPT, SYSTEM_PYTHON, CamSimError
from streams.simulator.picture import MODES


def backfill(
    root: Path,
    camera_id: str,
    start_ms: int,
    end_ms: int,
    *,
    seed: int = 1,
    fps: float = 25.0,
    modes: Sequence[tuple[int, int, str]] = (),
    night: bool = False,
    timeout_s: float = 900.0,
) -> int:
    """Record `start_ms`..`end_ms` of `camera_id` into `root`; returns the access units."""
    if end_ms <= start_ms:
        raise ValueError(f"backfill: end {end_ms} is not after start {start_ms}")
    if not 0 < fps <= 25:
        raise ValueError(f"backfill: fps {fps:g} is outside (0, 25]")
    for _a, _b, mode in modes:
        if mode not in MODES:
            raise ValueError(f"backfill: unknown picture mode {mode!r}")
    cfg = {
        "folder": str(root / camera_id),
        "seed": seed,
        "night": night,
        "start_ms": start_ms,
        "end_ms": end_ms,
        "fps": fps,
        "modes": [list(m) for m in modes],
    }
    try:
        done = subprocess.run(
            [SYSTEM_PYTHON, str(SERVER_SCRIPT), "backfill"],
            input=json.dumps(cfg) + "\n",
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise CamSimError(f"backfill of {camera_id} took over {timeout_s:g} s") from None
    last = done.stdout.strip().splitlines()[-1:] or [""]
    if done.returncode != 0 or not last[0].startswith("OK "):
        raise CamSimError(f"backfill of {camera_id} failed ({done.returncode}): {done.stderr}")
    return int(last[0].split()[1])
