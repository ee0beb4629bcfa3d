"""The wall's `--decode-processes` option, shared by `hall-console` and the wall bench so
both build the wall the same way. No heavy imports (the console reads its command line
before it loads Qt)."""

from __future__ import annotations

import argparse

from streams.ingest.pool import default_workers


def default_decode_processes() -> int:
    """One decode process per core (docs/console.md, the wall at 16, 25 and 36 tiles: in
    one process the wall is GIL-bound at one core); 0 decodes in the GUI process."""
    return default_workers()


def add_decode_option(parser: argparse.ArgumentParser) -> None:
    n = default_decode_processes()
    parser.add_argument(
        "--decode-processes",
        type=int,
        default=n,
        help="decode the wall's cameras in this many worker processes "
        f"(0: in the console's own process, as before; default one per core, {n} here)",
    )


def decode_processes(args: argparse.Namespace, prog: str) -> int:
    """The option's value, checked (exit 2 with a message when negative)."""
    n: int = args.decode_processes
    if n < 0:
        raise SystemExit(f"{prog}: --decode-processes {n}: give 0 or more")
    return n
