"""What reached the X server: the wall's window read back from Xvfb, its stamps decoded.

`python -m tests.bench.wall_grab --display :71 --window 0x200005 --tiles RECTS
--seconds 20 --hz 4` runs as its own X client (Qt on xcb, another process than the
console): every 1/hz s it reads the window's pixels from the X server (`QScreen.grabWindow`
with the window's id is an xcb GetImage of that window: what the console's paint made
of it after the flush, not the array the console handed its painter), decodes the stamp
at the top of each tile and prints one JSON object: the age of every tile's picture at
the time of the read (wall clock minus the stamp), the tiles whose picture never changed
between reads (frozen or blank on the screen, whatever the painter was given), and what
one read cost. RECTS is a JSON list of [x, y, w, h] in the window.

Pure parts (`tile_views`, `summarise`) are above the Qt part.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from streams.ingest.stamp import decode_stamp

Rect = tuple[int, int, int, int]


def tile_views(screen: npt.NDArray[np.uint8], rects: list[Rect]) -> list[npt.NDArray[np.uint8]]:
    """The pixels of every tile (views into the grabbed picture, no copies)."""
    return [screen[y : y + h, x : x + w] for x, y, w, h in rects]


@dataclass
class GrabLog:
    """Stamps read per tile across the reads."""

    tiles: int
    ages_ms: list[float] = field(default_factory=list)
    misses: int = 0
    reads: int = 0
    read_ms: list[float] = field(default_factory=list)
    last: list[int | None] = field(default_factory=list)
    changes: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.last = [None] * self.tiles
        self.changes = [0] * self.tiles

    def add(self, at_ms: float, stamps: list[int | None]) -> None:
        """One read at wall-clock `at_ms`: the stamp of each tile (None: unreadable)."""
        self.reads += 1
        for i, ms in enumerate(stamps):
            if ms is None:
                self.misses += 1
                continue
            self.ages_ms.append(at_ms - ms)
            if self.last[i] is not None and ms != self.last[i]:
                self.changes[i] += 1
            self.last[i] = ms

    def summarise(self) -> dict[str, object]:
        pairs = max(1, self.reads - 1)
        share = [c / pairs for c in self.changes]
        ages = sorted(self.ages_ms)

        def pct(q: float) -> float | None:
            if not ages:
                return None
            return round(ages[min(len(ages) - 1, round(q * (len(ages) - 1)))], 1)

        return {
            "reads": self.reads,
            "read_ms_median": round(statistics.median(self.read_ms), 2) if self.read_ms else None,
            "latency_ms_p50": pct(0.5),
            "latency_ms_p95": pct(0.95),
            "samples": len(ages),
            "misses": self.misses,
            "changed_share_min": round(min(share), 3) if share else None,
            "changed_share_median": round(statistics.median(share), 3) if share else None,
            "tiles_frozen": sum(1 for c in self.changes if c == 0),
        }


def grab_loop(window: int, rects: list[Rect], seconds: float, hz: float) -> GrabLog:
    """Read the window `hz` times a second for `seconds` (Qt on xcb, this process)."""
    from PySide6.QtGui import QGuiApplication, QImage

    app = QGuiApplication.instance() or QGuiApplication([])
    screen = app.primaryScreen()  # type: ignore[attr-defined]
    print("ready", flush=True)  # the bench starts its measured window now
    log = GrabLog(len(rects))
    period = 1.0 / hz
    end = time.monotonic() + seconds
    next_at = time.monotonic()
    while time.monotonic() < end:
        t0 = time.time()
        pix = screen.grabWindow(window)
        t1 = time.time()
        img = pix.toImage().convertToFormat(QImage.Format.Format_RGB32)
        h, w, bpl = img.height(), img.width(), img.bytesPerLine()
        if h == 0 or w == 0:
            log.reads += 1
            log.misses += len(rects)
        else:
            buf = np.frombuffer(img.constBits(), np.uint8, count=h * bpl)
            pixels = buf.reshape(h, bpl)[:, : w * 4].reshape(h, w, 4)
            stamps = [decode_stamp(v) if v.size else None for v in tile_views(pixels, rects)]
            log.add((t0 + t1) / 2 * 1000.0, stamps)
        log.read_ms.append((t1 - t0) * 1000.0)
        next_at += period
        time.sleep(max(0.0, next_at - time.monotonic()))
    return log


class WindowReader:
    """The bench's side: runs this module as a child process and collects its JSON."""

    def __init__(self, display: str, window: int, rects: list[Rect], seconds: float, hz: float):
        self._cmd = [
            sys.executable,
            "-m",
            "tests.bench.wall_grab",
            f"--display={display}",
            f"--window={window}",
            f"--tiles={json.dumps(rects)}",
            f"--seconds={seconds}",
            f"--hz={hz}",
        ]
        self._proc: subprocess.Popen[str] | None = None
        self._lines: list[str] = []
        self._reader: threading.Thread | None = None

    def start(self) -> None:
        self._proc = subprocess.Popen(self._cmd, stdout=subprocess.PIPE, text=True)
        out = self._proc.stdout
        assert out is not None
        self._reader = threading.Thread(target=lambda: self._lines.extend(out), daemon=True)
        self._reader.start()

    @property
    def ready(self) -> bool:
        return bool(self._lines) or (self._proc is not None and self._proc.poll() is not None)

    @property
    def done(self) -> bool:
        return self._proc is None or self._proc.poll() is not None

    def result(self) -> dict[str, object]:
        """The reader's JSON (after `done`); an error if it failed."""
        if self._proc is None:
            raise RuntimeError("the window reader was not started")
        code = self._proc.wait(30)
        if self._reader is not None:
            self._reader.join(10)
        if code != 0 or not self._lines or not self._lines[-1].startswith("{"):
            raise RuntimeError(f"the window reader failed (exit {code}): {self._lines[-3:]}")
        out: dict[str, object] = json.loads(self._lines[-1])
        return out

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait(10)


def xvfb_pid(display: str) -> int | None:
    """The X server's process id from its lock file (/tmp/.X<n>-lock)."""
    try:
        return int(Path(f"/tmp/.X{display.lstrip(':')}-lock").read_text().strip())
    except (OSError, ValueError):
        return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.bench.wall_grab")
    ap.add_argument("--display", required=True)
    ap.add_argument("--window", required=True, help="the X window id (decimal or 0x...)")
    ap.add_argument("--tiles", required=True, help="JSON list of [x, y, w, h] in the window")
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--hz", type=float, default=4.0)
    args = ap.parse_args(argv)
    os.environ["DISPLAY"] = args.display
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    rects = [tuple(int(v) for v in r) for r in json.loads(args.tiles)]
    if not rects or any(len(r) != 4 for r in rects):
        ap.error("--tiles must be a non-empty JSON list of [x, y, w, h]")
    t0, c0 = time.monotonic(), time.process_time()
    log = grab_loop(int(args.window, 0), rects, args.seconds, args.hz)  # type: ignore[arg-type]
    cpu = (time.process_time() - c0) / max(1e-3, time.monotonic() - t0) * 100
    print(json.dumps({**log.summarise(), "reader_cpu_percent": round(cpu, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
