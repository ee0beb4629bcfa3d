"""The wall's `--decode-processes` option, shared by `hall-console` and the wall bench so
both build the wall the same way. No heavy imports (the console reads its command line
before it loads Qt)."""

from __future__ import annotations

import argparse

from streams.ingest.pool import default_workers


def default_decode_processes() -> int:
    """0 (decode in the GUI process) until a quiet 25/36-tile run shows the worker
    processes better there (measured so far at 16 tiles only, docs/console.md);
    `--decode-processes N` (e.g. one per core) turns them on."""
    return 0


def add_decode_option(parser: argparse.ArgumentParser) -> None:
    n = default_decode_processes()
    parser.add_argument(
        "--decode-processes",
        type=int,
        default=n,
        help="decode the wall's cameras in this many worker processes "
        f"(0: in the console's own process; default {n}; one per core here: {default_workers()})",
    )


def decode_processes(args: argparse.Namespace, prog: str) -> int:
    """The option's value, checked (exit 2 with a message when negative)."""
    n: int = args.decode_processes
    if n < 0:
        raise SystemExit(f"{prog}: --decode-processes {n}: give 0 or more")
    return n
