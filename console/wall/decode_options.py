"""The wall's `--decode-processes` option, shared by `hall-console` and the wall bench so
both build the wall the same way. No heavy imports (the console reads its command line
before it loads Qt)."""

from __future__ import annotations

import argparse

from streams.ingest.pool import default_workers

MAX_DEFAULT_PROCESSES = 4  # each holds ~115 MB; more cores help through the pool's places


def default_decode_processes() -> int:
    """One decode process per core, at most 4 (docs/console.md): the GUI process keeps its GIL for
    painting. Quiet run on 2 cores (`python -m tests.bench.wall --tiles N --encoding
    camera`): 36 tiles in the GUI process painted fps min 15.7, 6 tiles shed, picture age
    p95 1,578 ms; in 2 processes fps min 24.3, none shed, p95 164 ms (16 and 25 tiles: both
    at 25 fps, p95 120 → 107 and 177 → 139 ms). `--decode-processes 0` decodes in the GUI
    process (one process less, ~115 MB each)."""
    return min(MAX_DEFAULT_PROCESSES, default_workers())


def add_decode_option(parser: argparse.ArgumentParser) -> None:
    n = default_decode_processes()
    parser.add_argument(
        "--decode-processes",
        type=int,
        default=n,
        help="decode the wall's cameras in this many worker processes "
        f"(0: in the console's own process; default {n}: one per core, at most "
        f"{MAX_DEFAULT_PROCESSES})",
    )


def decode_processes(args: argparse.Namespace, prog: str) -> int:
    """The option's value, checked (exit 2 with a message when negative)."""
    n: int = args.decode_processes
    if n < 0:
        raise SystemExit(f"{prog}: --decode-processes {n}: give 0 or more")
    return n
