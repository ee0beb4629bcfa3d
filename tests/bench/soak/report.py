"""The soak's figures from its minute samples: slopes per hour (least squares, an
intercept per process life), the table, the final summary and the chart."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from tests.bench.soak.sampler import Sample

COLUMNS = [  # (field, header, format)
    ("minute", "min", "{:>5.1f}"),
    ("console_rss_mb", "con MB", "{:>7.1f}"),
    ("console_fds", "con fd", "{:>6}"),
    ("console_threads", "con th", "{:>6}"),
    ("hub_rss_mb", "hub MB", "{:>7.1f}"),
    ("hub_fds", "hub fd", "{:>6}"),
    ("hub_threads", "hub th", "{:>6}"),
    ("none_refs", "None refs", "{:>10}"),
    ("painted_fps", "fps", "{:>5.1f}"),
    ("tiles_live", "live", "{:>4}"),
    ("latency_p95_ms", "lat95", "{:>6.0f}"),
    ("latency_full_p95_ms", "lat95f", "{:>6.0f}"),
    ("shed_pct", "shed%", "{:>5.0f}"),
    ("publish_p99_ms", "pub99", "{:>6.1f}"),
    ("db_mb", "db MB", "{:>6.1f}"),
    ("wal_mb", "wal MB", "{:>6.1f}"),
    ("events_acked", "events", "{:>7}"),
    ("events_archived", "archived", "{:>8}"),
    ("phone_connects", "ws conn", "{:>7}"),
    ("flow_errors", "flow err", "{:>8}"),
    ("decoders_rss_mb", "dec MB", "{:>7.1f}"),
    ("decoders_fds", "dec fd", "{:>6}"),
    ("decoders_threads", "dec th", "{:>6}"),
]


def header() -> str:
    return " ".join(h.rjust(len(f.format(0))) for _, h, f in COLUMNS)


def table_row(s: Sample) -> str:
    out = []
    for name, _, f in COLUMNS:
        v = getattr(s, name)
        width = len(f.format(0))
        ok = v is not None and not (isinstance(v, float) and math.isnan(v))
        out.append(f.format(v) if ok else "-".rjust(width))
    return " ".join(out)


def slope(xs: Sequence[float], ys: Sequence[float], groups: Sequence[int] | None = None) -> float:
    """Least-squares slope of ys over xs, with an intercept of its own per group (a
    process restarted starts from its own level); nan without two points in a group."""
    groups = groups if groups is not None else [0] * len(xs)
    num = den = 0.0
    for g in set(groups):
        pts = [(x, y) for x, y, k in zip(xs, ys, groups, strict=True) if k == g]
        pts = [(x, y) for x, y in pts if not math.isnan(y)]
        if len(pts) < 2:
            continue
        mx = sum(x for x, _ in pts) / len(pts)
        my = sum(y for _, y in pts) / len(pts)
        num += sum((x - mx) * (y - my) for x, y in pts)
        den += sum((x - mx) ** 2 for x, _ in pts)
    return num / den if den > 0 else math.nan


def settled(samples: list[Sample], warmup_min: float) -> list[Sample]:
    """The samples after the warm-up, or all of them if fewer than two are left."""
    after = [s for s in samples if s.minute > warmup_min]
    return after if len(after) >= 2 else samples


def settled_lives(samples: list[Sample], warmup_min: float) -> list[Sample]:
    """The hub's samples after each of its process lives' own warm-up: the restarted hub
    is a new process, and its first minutes (the first call's codecs, thread pools and
    caches, the catch-up) are as much a start-up as the run's first ones. A life starts
    at the previous life's last sample (the run's start for the first); a life too short
    to have two settled samples is left out (all samples if none has)."""
    start: dict[int, float] = {}
    prev: Sample | None = None
    for s in samples:
        if s.hub_life not in start:
            start[s.hub_life] = prev.minute if prev is not None else 0.0
        prev = s
    after = [s for s in samples if s.minute > start[s.hub_life] + warmup_min]
    counts = Counter(s.hub_life for s in after)
    kept = [s for s in after if counts[s.hub_life] >= 2]
    return kept or samples


def per_hour(samples: list[Sample], name: str, by_life: bool = False) -> float:
    xs = [s.minute / 60 for s in samples]
    ys = [float(getattr(s, name)) for s in samples]
    return slope(xs, ys, [s.hub_life for s in samples] if by_life else None)


CYCLE_SAMPLES = 4
"""Samples that cover whole cycles of the soak's own rhythm (a camera killed and revived
every 2 minutes takes its sockets with it: the count alternates minute by minute)."""


def end_minus_start(samples: list[Sample], name: str, by_life: bool = False) -> int:
    """Growth of a count, summed over the process's lives: the highest of the last
    `CYCLE_SAMPLES` values minus the highest of the first (one each in a short life), so
    that where in the kill cycle the run started or ended is not counted as growth."""
    total = 0
    for life in sorted({s.hub_life if by_life else 0 for s in samples}):
        vals = [getattr(s, name) for s in samples if not by_life or s.hub_life == life]
        k = max(1, min(CYCLE_SAMPLES, len(vals) // 2))
        total += int(max(vals[-k:]) - max(vals[:k])) if vals else 0
    return total


def mean(xs: Iterable[float]) -> float:
    """The mean of the finite values (nan if none)."""
    got = [x for x in xs if not math.isnan(x)]
    return sum(got) / len(got) if got else math.nan


def finite(v: float, digits: int = 2) -> float | None:
    return None if math.isnan(v) else round(v, digits)


def summary(samples: list[Sample], warmup_min: float) -> dict[str, Any]:
    """The figures the issue names (the fitted ones over the samples after the warm-up)."""
    fit = settled(samples, warmup_min)
    hours = (fit[-1].minute - fit[0].minute) / 60 if fit else 0.0
    fds = {
        "console": end_minus_start(fit, "console_fds"),
        "decoders": end_minus_start(fit, "decoders_fds"),
        "hub": end_minus_start(fit, "hub_fds", by_life=True),
    }
    threads = {
        "console": end_minus_start(fit, "console_threads"),
        "decoders": end_minus_start(fit, "decoders_threads"),
        "hub": end_minus_start(fit, "hub_threads", by_life=True),
    }
    return {
        "rss_mb_per_hour_console": finite(per_hour(fit, "console_rss_mb")),
        "rss_mb_per_hour_hub": finite(
            per_hour(settled_lives(samples, warmup_min), "hub_rss_mb", by_life=True)
        ),
        # the same fitted from the run's warm-up only: the restarted hub's own start-up in
        "rss_mb_per_hour_hub_from_run_warmup": finite(per_hour(fit, "hub_rss_mb", by_life=True)),
        "rss_mb_per_hour_decoders": finite(per_hour(fit, "decoders_rss_mb")),
        "fds_end_minus_start": max(fds.values()),
        "threads_end_minus_start": max(threads.values()),
        "none_refs_per_hour": finite(per_hour(fit, "none_refs"), 1),
        "latency_p95_drift_ms": finite(per_hour(fit, "latency_p95_ms") * hours, 1),
        # the same of the tiles decoding every frame, and how much the wall shed: a shed
        # tile shows key frames only (its age is up to a key-frame interval by design)
        "latency_p95_full_rate_drift_ms": finite(per_hour(fit, "latency_full_p95_ms") * hours, 1),
        "shed_pct_mean": finite(mean(s.shed_pct for s in fit), 1),
        "shed_pct_drift": finite(per_hour(fit, "shed_pct") * hours, 1),
        "fds_end_minus_start_by_process": fds,
        "threads_end_minus_start_by_process": threads,
        "publish_p99_ms_per_hour": finite(per_hour(fit, "publish_p99_ms", by_life=True)),
        "db_mb_per_hour": finite(per_hour(fit, "db_mb")),
        "fitted_from_minute": fit[0].minute if fit else None,
    }


def slopes_table(samples: list[Sample], warmup_min: float) -> list[str]:
    """One line per sampled field: its slope per hour over the settled samples."""
    fit = settled(samples, warmup_min)
    hub = {"hub_rss_mb", "hub_fds", "hub_threads", "publish_p99_ms"}
    lives = settled_lives(samples, warmup_min)
    out = [
        f"slope per hour (least squares from minute {fit[0].minute:.0f}; "
        f"hub_rss_mb from minute {warmup_min:g} of each hub life):"
    ]
    for name, _, _ in COLUMNS[1:]:
        if any(getattr(s, name) is None for s in fit):
            continue
        v = per_hour(lives if name == "hub_rss_mb" else fit, name, by_life=name in hub)
        out.append(f"  {name:<18} {v:>12.2f}" if not math.isnan(v) else f"  {name:<18} {'-':>12}")
    return out


def chart(samples: list[Sample], path: Path, title: str) -> None:
    """The per-minute chart (matplotlib, Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [
        ("RSS MB", ["console_rss_mb", "hub_rss_mb", "decoders_rss_mb"]),
        ("descriptors", ["console_fds", "hub_fds", "decoders_fds"]),
        ("threads", ["console_threads", "hub_threads", "decoders_threads"]),
        ("None refs (console)", ["none_refs"]),
        ("painted fps per tile", ["painted_fps"]),
        ("picture age p95 ms (pixels)", ["latency_p95_ms", "latency_full_p95_ms"]),
        ("tiles shed to key frames %", ["shed_pct"]),
        ("publish p99 ms", ["publish_p99_ms"]),
        ("store MB", ["db_mb", "wal_mb"]),
        ("events", ["events_acked", "events_archived"]),
    ]
    fig, axes = plt.subplots(5, 2, figsize=(12, 15), sharex=True)
    xs = [s.minute for s in samples]
    for ax, (label, names) in zip(axes.flat, panels, strict=True):
        for name in names:
            ys = [getattr(s, name) for s in samples]
            if all(y is None for y in ys):
                continue
            ax.plot(xs, [math.nan if y is None else y for y in ys], marker=".", label=name)
        ax.set_title(label, fontsize=10)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    restarts = [b.minute for a, b in itertools.pairwise(samples) if b.hub_life != a.hub_life]
    for ax in axes.flat:
        for m in restarts:  # the hub restarted before this sample
            ax.axvline(m, color="grey", linestyle=":", linewidth=1)
    for ax in axes[-1]:
        ax.set_xlabel("minute")
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)
