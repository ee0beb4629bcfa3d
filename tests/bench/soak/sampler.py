"""The soak's minute samples: a process's RSS, descriptors and threads from /proc, the
console's own lines (`console.shell.stats`), the store's size, the publish latencies."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, NamedTuple

import psutil
from sqlalchemy import create_engine, text

from console.shell.stats import ConsoleStats, read_stats
from tests.bench.hub import pct

MB = 2**20


@dataclass(frozen=True)
class ProcSample:
    rss_mb: float
    fds: int
    threads: int


def proc_sample(pid: int | None) -> ProcSample | None:
    """RSS, open descriptors and threads of a live process, else None."""
    if pid is None:
        return None
    try:
        p = psutil.Process(pid)
        with p.oneshot():
            return ProcSample(p.memory_info().rss / MB, p.num_fds(), p.num_threads())
    except psutil.Error:
        return None


def children_sample(pid: int | None) -> ProcSample | None:
    """RSS, descriptors and threads summed over a process's children (the console's
    decode processes), zeros without children, None when the process is gone."""
    if pid is None:
        return None
    try:
        kids = psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return None
    got = [proc_sample(k.pid) for k in kids]
    live = [g for g in got if g is not None]
    return ProcSample(
        sum(g.rss_mb for g in live), sum(g.fds for g in live), sum(g.threads for g in live)
    )


def store_sizes(db_url: str) -> tuple[float, float | None]:
    """The database's size in MB and its WAL's (SQLite), or the database's (PostgreSQL)."""
    prefix = "sqlite:///"
    if db_url.startswith(prefix):
        path = Path(db_url[len(prefix) :])
        wal = Path(f"{path}-wal")
        size = path.stat().st_size if path.exists() else 0
        return size / MB, (wal.stat().st_size / MB if wal.exists() else 0.0)
    eng = create_engine(db_url)
    try:
        with eng.connect() as conn:
            n = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
    finally:
        eng.dispose()
    return int(n) / MB, None


@dataclass
class Sample:
    """One minute of the soak."""

    minute: float
    console_rss_mb: float
    console_fds: int
    console_threads: int
    hub_rss_mb: float
    hub_fds: int
    hub_threads: int
    hub_life: int  # 0 before the restart, 1 after
    none_refs: int
    painted_fps: float  # per tile with a camera, over the minute
    tiles_live: int
    latency_p95_ms: float
    publish_p99_ms: float
    db_mb: float
    wal_mb: float | None
    events_acked: int
    events_archived: int
    phone_connects: int
    decoders_rss_mb: float = 0.0  # the console's decode processes, summed
    latency_full_p95_ms: float = math.nan  # of the tiles not shed to key frames
    shed_pct: float = math.nan  # of the live tiles read, the share shed to key frames
    decoders_fds: int = 0
    decoders_threads: int = 0
    flow_errors: int = 0  # workflow steps failed so far (each tried again), cumulative

    def row(self) -> dict[str, Any]:
        return {k: (round(v, 2) if isinstance(v, float) else v) for k, v in asdict(self).items()}


class Taken(NamedTuple):
    """What the console reported over one window."""

    stats: ConsoleStats | None  # the newest line
    fps: float  # painted frames per second per tile
    ages: list[float]  # picture ages of every live tile read
    full_rate_ages: list[float]  # of the tiles decoding every frame
    shed_pct: float  # share of the tiles read that were shed to key frames


@dataclass
class ConsoleWindow:
    """The console's lines since the last minute."""

    path: Path
    last_t: float = 0.0
    last_painted: int | None = None
    last_at: float | None = None

    def take(self) -> Taken:
        """The newest line, the painted frames per second per tile since the previous
        take, and the picture ages of the lines since then."""
        lines = [s for s in read_stats(self.path) if s.t > self.last_t]
        if not lines:
            return Taken(None, math.nan, [], [], math.nan)
        last = lines[-1]
        ages = [a for s in lines for a in s.latency_ms]
        full = [a for s in lines for a in s.latency_full_rate_ms]
        read = sum(s.tile_samples for s in lines)
        shed = 100.0 * sum(s.shed_samples for s in lines) / read if read else math.nan
        fps = math.nan
        if self.last_painted is not None and self.last_at is not None and last.tiles:
            fps = (last.painted_frames - self.last_painted) / (last.t - self.last_at) / last.tiles
        self.last_t, self.last_painted, self.last_at = last.t, last.painted_frames, last.t
        return Taken(last, fps, ages, full, shed)


def publish_p99(publish_ms: list[tuple[float, float]], since: float) -> float:
    got = [ms for t, ms in publish_ms if t >= since]
    return pct(got, 99) if got else math.nan
