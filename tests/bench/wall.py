"""Benchmark of the video wall: `python -m tests.bench.wall --tiles 16 --seconds 20 --json`.

Starts hall-camsim (a few cameras; tiles share a camera's sub mount so the server
encodes once, but each tile is its own RTSP session and decoder), measures a
baseline (the same number of sessions decoded and scaled by bare PyAV in threads,
no Qt), then runs the real wall offscreen in this process and measures what is
painted: fps per tile, dropped frames, the age of each painted frame (from the
stamp in its pixels vs time.time()), CPU and memory of this process and of the
simulator, the time from switching a tile to its first painted frame, and how many
tiles the wall shed to key frames. Prints a table, then one JSON object as the last line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

SHAPE_FOR_TILES = {1: "1", 4: "4", 6: "1+5", 8: "1+7", 9: "9", 16: "16", 25: "25", 36: "36"}
WALL_SIZE = (1920, 1080)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def tile_size(tiles: int) -> tuple[int, int]:
    from console.wall.shapes import cell_rects, shape

    rects = cell_rects(shape(SHAPE_FOR_TILES[tiles]), *WALL_SIZE)
    _, _, w, h = rects[-1]
    return w, h


# -- baseline: bare PyAV, no Qt ------------------------------------------------------


def measure_baseline(urls: list[str], size: tuple[int, int], seconds: float) -> dict[str, float]:
    """Frame age (stamp vs wall clock) of the same sessions decoded by bare PyAV threads."""
    import av
    import numpy as np
    from av.video.reformatter import Interpolation

    from streams.ingest.stamp import decode_stamp

    stop = threading.Event()
    ages: list[float] = []
    frames = [0]
    lock = threading.Lock()

    def run(url: str) -> None:
        opts = {"rtsp_transport": "tcp", "analyzeduration": "500000", "probesize": "65536"}
        try:
            with av.open(url, options=opts, timeout=(3.0, 2.0)) as container:
                stream = container.streams.video[0]
                stream.codec_context.thread_count = 1  # as the ingest: no frame threading
                for n, frame in enumerate(container.decode(stream), start=1):
                    if stop.is_set():
                        break
                    img = frame.reformat(
                        size[0],
                        size[1],
                        format="bgra",
                        interpolation=Interpolation.FAST_BILINEAR,
                        threads=1,
                    ).to_ndarray()
                    img = np.asarray(img, dtype=np.uint8)
                    if n % 3 == 0:
                        ms = decode_stamp(img)
                        if ms is not None:
                            with lock:
                                ages.append(time.time() * 1000.0 - ms)
                    with lock:
                        frames[0] += 1
        except Exception as exc:  # reported, the baseline goes on with the others
            print(f"baseline {url}: {type(exc).__name__}: {exc}", file=sys.stderr)

    threads = [threading.Thread(target=run, args=(u,), daemon=True) for u in urls]
    for t in threads:
        t.start()
    time.sleep(2.0)  # warm-up: first frames
    with lock:
        ages.clear()
        frames[0] = 0
    time.sleep(seconds)
    with lock:
        got, n = list(ages), frames[0]
    stop.set()
    for t in threads:
        t.join(10)
    return {
        "latency_ms_p50": pct(got, 0.5),
        "latency_ms_p95": pct(got, 0.95),
        "fps_per_stream": n / seconds / max(1, len(urls)),
    }


# -- the wall ------------------------------------------------------------------------


@dataclass
class Painted:
    seqs: dict[int, int] = field(default_factory=dict)
    counts: dict[int, int] = field(default_factory=dict)
    ages: list[float] = field(default_factory=list)
    stamp_misses: int = 0
    sample_every: int = 3


def run(args: argparse.Namespace) -> dict[str, Any]:
    import psutil
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from console.wall.controller import StatusCallback, TileStream, WallController
    from console.wall.model import WallModel
    from console.wall.view import WallView
    from streams.ingest.rtsp import CameraStream
    from streams.ingest.stamp import decode_stamp
    from streams.ingest.types import Frame, StreamProfile
    from streams.simulator import CamSim

    tiles: int = args.tiles
    sim = CamSim(cameras=args.cameras)
    sim.start()
    try:
        cams = list(sim.camera_ids)
        size = tile_size(tiles)

        def sub_url(i: int) -> str:
            return sim.url(cams[i % len(cams)], "sub")

        base = measure_baseline([sub_url(i) for i in range(tiles)], size, args.baseline_seconds)

        app = QApplication.instance() or QApplication([])
        proc = psutil.Process()
        sim_proc = psutil.Process(sim.pid) if sim.pid is not None else None

        def factory(camera_id: str, sz: tuple[int, int], on_status: StatusCallback) -> TileStream:
            i = int(camera_id.removeprefix("tile"))
            cam = cams[i % len(cams)]
            profiles = [
                StreamProfile("sub", sim.url(cam, "sub"), 704, 576),
                StreamProfile("main", sim.url(cam, "main"), 1280, 720),
            ]
            return CameraStream(camera_id, profiles, target_size=sz, on_status=on_status)

        model = WallModel(SHAPE_FOR_TILES[tiles])
        controller = WallController(model, factory, evidence_dir=args.evidence_dir)
        view = WallView(controller)
        view.resize(*WALL_SIZE)
        painted = Painted()

        def on_painted(slot: int, frame: Frame) -> None:
            if painted.seqs.get(slot) == frame.seq:
                return  # a repaint of the same frame (status change) is not a new picture
            painted.seqs[slot] = frame.seq
            n = painted.counts.get(slot, 0) + 1
            painted.counts[slot] = n
            if n % painted.sample_every == 0:
                ms = decode_stamp(frame.image)
                if ms is None:
                    painted.stamp_misses += 1
                else:
                    painted.ages.append(time.time() * 1000.0 - ms)

        view.painted_hook = on_painted
        model.assign_many([(i, f"tile{i}") for i in range(tiles)])
        controller.start()
        view.start()
        view.show()

        def spin(seconds: float) -> None:
            # a local loop: QApplication.quit() would close the windows (Qt 6)
            loop = QEventLoop()
            QTimer.singleShot(round(seconds * 1000), loop.quit)
            loop.exec()

        deadline = time.monotonic() + 30
        while len(painted.counts) < tiles and time.monotonic() < deadline:
            spin(0.5)
        spin(args.warmup)
        shed_max = len(model.shed)

        def dropped() -> int:
            return sum(s.stats.dropped for s in (controller.status(i) for i in range(tiles)) if s)

        painted.counts.clear()
        painted.ages.clear()
        drop0 = dropped()
        cpu0 = proc.cpu_times()
        sim0 = sim_cpu(sim_proc)
        t0 = time.monotonic()
        spin(args.seconds)
        elapsed = time.monotonic() - t0
        cpu1 = proc.cpu_times()
        sim1 = sim_cpu(sim_proc)
        drop1 = dropped()
        shed_max = max(shed_max, len(model.shed))
        rss_mb = proc.memory_info().rss / 2**20
        fps = [painted.counts.get(i, 0) / elapsed for i in range(tiles)]
        console_cpu = (cpu1.user + cpu1.system - cpu0.user - cpu0.system) / elapsed * 100
        sim_cpu_pct = (sim1 - sim0) / elapsed * 100

        # time to first painted frame after switching a tile to another camera
        before = len(controller.first_frame_ms)
        switches = min(args.switches, tiles)
        for k in range(switches):
            slot = (k * 5) % tiles
            model.assign(slot, f"tile{slot + len(cams) * (k + 1) + 1}")
            wait_until = time.monotonic() + 10
            while len(controller.first_frame_ms) <= before + k and time.monotonic() < wait_until:
                spin(0.02)
        first = controller.first_frame_ms[before:]

        view.stop()
        controller.stop()
        view.close()
        app.processEvents()
    finally:
        sim.stop()
    return {
        "tiles": tiles,
        "tile_size": f"{size[0]}x{size[1]}",
        "painted_fps_median": round(statistics.median(fps), 2),
        "painted_fps_min": round(min(fps), 2),
        "dropped_frames": drop1 - drop0,
        "latency_ms_p50": round(pct(painted.ages, 0.5), 1),
        "latency_ms_p95": round(pct(painted.ages, 0.95), 1),
        "baseline_latency_ms_p50": round(base["latency_ms_p50"], 1),
        "baseline_latency_ms_p95": round(base["latency_ms_p95"], 1),
        "baseline_fps_per_stream": round(base["fps_per_stream"], 2),
        "console_cpu_percent": round(console_cpu, 1),
        "console_rss_mb": round(rss_mb, 1),
        "first_frame_ms_median": round(statistics.median(first), 1) if first else None,
        "camsim_cpu_percent": round(sim_cpu_pct, 1),
        "tiles_shed_to_keyframes": len(model.shed),
        "tiles_shed_max": shed_max,
        "stamp_samples": len(painted.ages),
        "stamp_misses": painted.stamp_misses,
        "seconds": round(elapsed, 1),
    }


def sim_cpu(p: Any) -> float:
    if p is None:
        return 0.0
    total = 0.0
    for q in [p, *p.children(recursive=True)]:
        try:
            t = q.cpu_times()
            total += t.user + t.system
        except Exception:  # a child that ended
            continue
    return total


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.bench.wall")
    ap.add_argument("--tiles", type=int, default=16, choices=sorted(SHAPE_FOR_TILES))
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--cameras", type=int, default=4)
    ap.add_argument("--warmup", type=float, default=3.0)
    ap.add_argument("--baseline-seconds", type=float, default=6.0)
    ap.add_argument("--switches", type=int, default=5)
    ap.add_argument("--evidence-dir", default="/tmp/hall-bench-evidence")
    ap.add_argument("--json", action="store_true", help="print the JSON line (always last)")
    args = ap.parse_args(argv)
    from pathlib import Path

    args.evidence_dir = Path(args.evidence_dir)
    result = run(args)
    width = max(len(k) for k in result)
    print(f"{'metric':<{width}}  value")
    for k, v in result.items():
        print(f"{k:<{width}}  {v}")
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
