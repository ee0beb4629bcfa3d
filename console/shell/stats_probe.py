"""The console's own stats for a soak: started by `hall-console` when `HALL_STATS_FILE`
is set (see `console.shell.stats`).

Counts the distinct frames the wall paints (its `painted_hook`), and about every
`grab_every_s` (each wait drawn anew, `next_grab_ms`) grabs the wall's area from the
screen — the pixels the X server holds, not the arrays handed to the painter — and
reads each live tile's frame stamp from them: the age of what a viewer sees. Every
`every_s` it appends one `ConsoleStats` line with those ages, the painted count and
`sys.getrefcount(None)`.
"""

from __future__ import annotations

import gc
import json
import os
import random
import sys
import time
from collections import Counter, deque
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPoint, QTimer
from PySide6.QtGui import QImage

from console.shell.stats import STATS_EVERY_ENV, STATS_FILE_ENV, STATS_TYPES_ENV, ConsoleStats
from console.wall.view import WallView
from streams.heap import heap_info
from streams.ingest.stamp import decode_stamp
from streams.ingest.types import Frame


def screen_array(img: QImage) -> np.ndarray:
    """BGRA pixels (h, w, 4) of a grabbed image, copied."""
    qimg = img.convertToFormat(QImage.Format.Format_RGB32)
    h, w, bpl = qimg.height(), qimg.width(), qimg.bytesPerLine()
    buf = np.frombuffer(qimg.constBits(), np.uint8, count=h * bpl)
    return buf.reshape(h, bpl // 4, 4)[:, :w].copy()


# the tile's 1-pixel border covers the picture's first and last columns; on a small tile
# (about 3 pixels per stamp cell) where the cells are read from decides: try each
EDGES = ((0, 0), (0, 1), (1, 1), (1, 0))


def tile_stamp(tile: np.ndarray) -> int | None:
    """The stamp of the picture filling a tile's pixels, or None."""
    w = tile.shape[1]
    for left, right in EDGES:
        if w - left - right > 0:
            ms = decode_stamp(tile[:, left : w - right])
            if ms is not None:
                return ms
    return None


def _rss_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def type_counts(objects: list[object], top: int = 40) -> dict[str, int]:
    """The `top` most numerous types among `objects` (module.qualname → count)."""
    counts = Counter(f"{type(o).__module__}.{type(o).__qualname__}" for o in objects)
    return dict(counts.most_common(top))


def big_containers(objects: list[object], min_len: int = 2000) -> list[dict[str, object]]:
    """The dicts, lists, sets and deques held by `objects` (one level down, so that the
    dicts the collector does not track are seen too) with at least `min_len` items,
    largest first, each with the types of what holds it: a growing one is what a count
    of objects per type cannot show (a dict of a million entries is one dict)."""
    seen: dict[int, tuple[object, set[str]]] = {}
    for o in objects:
        for r in gc.get_referents(o):
            if isinstance(r, dict | list | set | deque) and len(r) >= min_len:
                seen.setdefault(id(r), (r, set()))[1].add(type(o).__qualname__)
    big = sorted(seen.values(), key=lambda x: len(x[0]), reverse=True)[:20]  # type: ignore[arg-type]
    return [
        {"type": type(c).__qualname__, "len": len(c), "held_by": ",".join(sorted(by))[:200]}  # type: ignore[arg-type]
        for c, by in big
    ]


TYPES_EVERY_S = 60.0


def next_grab_ms(every_s: float, rng: random.Random) -> int:
    """The wait before the next grab: `every_s` on average, drawn anew each time within
    ±25 %. A fixed 1 s is a whole number of frames at 25 fps (and at 30 or 15): every grab
    then met the pictures at the same point of their frame cycle, so within a minute all
    ages were alike, and the clocks' slow beat moved each minute's p95 between two levels
    one frame apart (the hour of 5 December 08:39: 46 of 50 minutes at 78–89 ms or
    116–140 ms, 4 at 96–107), which a fitted drift reads as growth."""
    return max(1, round(every_s * 1000.0 * rng.uniform(0.75, 1.25)))


class StatsProbe:
    def __init__(
        self,
        wall: WallView,
        path: Path,
        *,
        every_s: float = 5.0,
        grab_every_s: float = 1.0,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self._wall = wall
        self._path = path
        self._clock = clock
        self._seqs: dict[int, int] = {}
        self.painted = 0
        self.grabs = 0
        self.misses = 0
        self._ages: list[float] = []
        self._full_ages: list[float] = []
        self._tile_samples = 0
        self._shed_samples = 0
        self._chained: Callable[[int, Frame], None] | None = None
        self._write_timer = QTimer()
        self._write_timer.setInterval(round(every_s * 1000))
        self._write_timer.timeout.connect(self.write)
        self._grab_every_s = grab_every_s
        self._rng = random.Random() if rng is None else rng
        self._grab_timer = QTimer()
        self._grab_timer.setInterval(next_grab_ms(grab_every_s, self._rng))
        self._grab_timer.timeout.connect(self.grab)
        self._started = False
        self.types_path: Path | None = None  # set: type counts every `TYPES_EVERY_S`
        self._types_at = -TYPES_EVERY_S

    def start(self) -> None:
        if self._started:
            return
        self._started = True
        self._chained = self._wall.painted_hook
        self._wall.painted_hook = self._on_painted
        self._grab_timer.start()
        self._write_timer.start()

    def stop(self) -> None:
        if not self._started:
            return
        self._started = False
        self._grab_timer.stop()
        self._write_timer.stop()
        self._wall.painted_hook = self._chained

    def _on_painted(self, slot: int, frame: Frame) -> None:
        if self._seqs.get(slot) != frame.seq:
            self._seqs[slot] = frame.seq
            self.painted += 1
        if self._chained is not None:
            self._chained(slot, frame)

    def _live_tiles(self) -> list[tuple[int, int, int, int, bool]]:
        """(x, y, width, height, shed) of each tile showing a live picture."""
        out = []
        for tile in self._wall.tiles:
            if tile.isHidden() or tile.camera_id is None:
                continue
            if tile.frame is None or tile.overlay_text() is not None:
                continue
            g = tile.geometry()
            out.append((g.x(), g.y(), g.width(), g.height(), tile.shed))
        return out

    def grab(self) -> None:
        """Read the stamps of the live tiles from the screen's pixels."""
        self._grab_timer.setInterval(next_grab_ms(self._grab_every_s, self._rng))
        wall = self._wall
        screen = wall.screen()
        if screen is None or not wall.isVisible():
            return
        origin = wall.mapToGlobal(QPoint(0, 0))
        pixmap = screen.grabWindow(0, origin.x(), origin.y(), wall.width(), wall.height())
        now_ms = self._clock() * 1000.0
        self.grabs += 1
        px = screen_array(pixmap.toImage())
        for x, y, w, h, shed in self._live_tiles():
            self._tile_samples += 1
            self._shed_samples += shed
            ms = tile_stamp(px[y : y + h, x : x + w])
            if ms is None:
                self.misses += 1
                continue
            self._ages.append(now_ms - ms)
            if not shed:
                self._full_ages.append(now_ms - ms)

    def stats(self) -> ConsoleStats:
        tiles = [t for t in self._wall.tiles if not t.isHidden() and t.camera_id is not None]
        return ConsoleStats(
            t=self._clock(),
            none_refs=sys.getrefcount(None),
            tiles=len(tiles),
            tiles_with_picture=len(self._live_tiles()),
            painted_frames=self.painted,
            latency_ms=[round(a, 1) for a in self._ages],
            latency_full_rate_ms=[round(a, 1) for a in self._full_ages],
            tile_samples=self._tile_samples,
            shed_samples=self._shed_samples,
            grabs=self.grabs,
            stamp_misses=self.misses,
        )

    def write(self) -> None:
        line = self.stats().model_dump_json() + "\n"
        self._ages, self._full_ages = [], []
        self._tile_samples = self._shed_samples = 0
        with self._path.open("a", encoding="utf-8") as f:
            f.write(line)
        now = time.monotonic()
        if self.types_path is not None and now - self._types_at >= TYPES_EVERY_S:
            self._types_at = now
            objects = gc.get_objects()
            counts = {
                "t": self._clock(),
                "rss": _rss_bytes(),
                "py_blocks": sys.getallocatedblocks(),
                "c_heap": heap_info(),
                "types": type_counts(objects),
                "containers": big_containers(objects),
            }
            del objects
            with self.types_path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(counts) + "\n")


def install_stats_probe(wall: WallView) -> StatsProbe | None:
    """A started probe when `HALL_STATS_FILE` names a file, else None."""
    target = os.environ.get(STATS_FILE_ENV)
    if not target:
        return None
    every = float(os.environ.get(STATS_EVERY_ENV, "5"))
    probe = StatsProbe(wall, Path(target), every_s=every)
    types = os.environ.get(STATS_TYPES_ENV)
    if types:
        probe.types_path = Path(types)
    probe.start()
    return probe
