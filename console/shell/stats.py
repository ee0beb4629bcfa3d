"""What the console reports about itself when a soak asks (no Qt): one `ConsoleStats`
line of JSON per period, appended to the file named by `HALL_STATS_FILE`.

The soak (`python -m tests.bench.soak`) reads the lines with `read_stats`; the probe
that writes them is `console.shell.stats_probe`. Memory, descriptors and threads are
read from outside (/proc); only what needs the interpreter or the screen is here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

STATS_FILE_ENV = "HALL_STATS_FILE"  # where to append the lines; unset: no probe
STATS_EVERY_ENV = "HALL_STATS_EVERY_S"  # seconds between lines (default 5)
# a file: the count of live objects per type is appended to it every minute, a JSON
# line each (a diagnosis of a growth: walking the heap takes a good part of a second)
STATS_TYPES_ENV = "HALL_STATS_TYPES"


class ConsoleStats(BaseModel):
    """One period of the console, as seen from inside its process."""

    type: Literal["console_stats"] = "console_stats"
    v: Literal[1] = 1
    t: float = Field(description="time.time() when written")
    none_refs: int = Field(description="sys.getrefcount(None) (the PySide6 6.12 leak)")
    tiles: int = Field(ge=0, description="wall tiles with a camera")
    tiles_with_picture: int = Field(ge=0, description="of those, showing a live picture")
    painted_frames: int = Field(ge=0, description="distinct frames painted since start")
    latency_ms: list[float] = Field(
        description="age of each tile's picture read back from the screen's pixels "
        "(stamp vs wall clock), for the grabs since the last line"
    )
    latency_full_rate_ms: list[float] = Field(
        default_factory=list,
        description="the same ages, of the tiles decoding every frame (not shed to key "
        "frames): what the pipeline adds, apart from the shedder's choice",
    )
    tile_samples: int = Field(
        0, ge=0, description="live tiles read, over the grabs since the last line"
    )
    shed_samples: int = Field(0, ge=0, description="of those, tiles shed to key frames only")
    grabs: int = Field(ge=0, description="screen grabs since start")
    stamp_misses: int = Field(ge=0, description="live tiles whose stamp did not read")


def read_stats(path: Path) -> list[ConsoleStats]:
    """Every complete line of the file (a line being written, or a bad one, is skipped)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    out: list[ConsoleStats] = []
    for line in text.splitlines():
        try:
            out.append(ConsoleStats.model_validate_json(line))
        except ValidationError:
            continue
    return out
