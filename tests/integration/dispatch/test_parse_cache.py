"""Parsing the hub's messages keeps none of their values (issue 16).

pydantic's JSON parser keeps short string values in a process-wide cache of 16,384
entries unless told `cache_strings="keys"` (`dispatch.domain.strict`). Each case runs in
a fresh interpreter, because that cache cannot be emptied and earlier tests fill it."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = r"""
import gc, sys, tracemalloc, uuid
from datetime import datetime, timedelta, timezone
from pydantic import TypeAdapter
from dispatch.client import wire
from dispatch.domain.model import Colour, Event, EventIntake, EventSource, Place, Reporter
from dispatch.events.core import new_event
from dispatch.events.messages import encode_changed

T0 = datetime(2026, 12, 4, 9, 0, tzinfo=timezone(timedelta(hours=8)))

def frame(n):
    intake = EventIntake(
        source=EventSource.GRID_REPORT, source_ref=uuid.uuid4().hex[:24], category="dispute",
        title=f"纠纷 {uuid.uuid4().hex[:12]}", description=uuid.uuid4().hex,
        place=Place(township="t01", address=f"东街 {n} 号"),
        reporter=Reporter(name="王某", phone="139" + f"{n:08d}"))
    ev, _ = new_event(intake, event_id=uuid.uuid4().hex[:20], now=T0 + timedelta(seconds=n))
    row = ev.model_dump_json()
    # bytes: a str parsed would keep a UTF-8 copy of itself
    return encode_changed(n, row, Colour.GREEN, []), row.encode()

frames = [frame(n) for n in range(2000)]
adapter = TypeAdapter(wire.Published)  # pydantic's own default: values cached
parse = {
    "published": lambda f: wire.decode_published(f[0]),  # the console's SUB socket
    "event_row": lambda f: Event.model_validate_json(f[1]),  # the hub's store rows
    "default": lambda f: adapter.validate_json(f[0]),
}[sys.argv[1]]
parse(frames[0])  # the parser's own first-use allocations
gc.collect()
tracemalloc.start()
before = tracemalloc.take_snapshot()
for f in frames[1:]:
    parse(f)
gc.collect()
after = tracemalloc.take_snapshot()
print(sum(s.size_diff for s in after.compare_to(before, "filename")))
"""


def _kept_bytes(mode: str) -> int:
    got = subprocess.run(
        [sys.executable, "-c", PROBE, mode], capture_output=True, text=True, timeout=60, check=True
    )
    return int(got.stdout.strip().splitlines()[-1])


def test_the_default_parser_would_keep_values() -> None:
    """The measure can see what the hall's configuration prevents."""
    assert _kept_bytes("default") > 150_000


@pytest.mark.parametrize("mode", ["published", "event_row"])
def test_parsing_keeps_no_values(mode: str) -> None:
    assert _kept_bytes(mode) < 20_000
