"""Benchmark of the video wall:
`python -m tests.bench.wall --tiles 36 --encoding camera --seconds 20 --json`.

Starts hall-camsim (a few cameras encoding like cameras, `--encoding camera`, or the
cheap `fast` profile; tiles share a camera's mounts so the server encodes once, but
each tile is its own RTSP session and decoder, on the stream the console would pick:
the smallest covering the tile, third/sub/main, `--no-third` for cameras without a
third stream), measures a baseline (the same streams decoded and scaled by bare PyAV
in threads, no Qt), then runs the real wall offscreen in this process and measures
what is painted: fps per tile, dropped frames, the age of each painted frame (from
the stamp in its pixels vs time.time(), read after the run), CPU and memory of this
process (by thread: GUI, ingest, other) and of the simulator, where the time goes per
frame (decode, scale to BGRA, paint per tile in wall and CPU time: the difference is
the GUI thread waiting for the GIL or a core), which stream each tile shows, the time
from switching a tile to its first painted frame, how many tiles the wall shed to key
frames, and the load average before and after (the machine may be shared). Prints a
table, then one JSON object as the last line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import threading
import time
from typing import Any

from console.wall.decode_options import add_decode_option, decode_processes

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


def measure_baseline(
    urls: list[str], size: tuple[int, int], seconds: float, read_hz: float = 4.0
) -> dict[str, float]:
    """Frame age (stamp vs wall clock) of the same sessions decoded by bare PyAV threads:
    at the moment each picture is decoded (`latency_ms_*`), and of the latest picture of
    each stream read `read_hz` times a second (`held_latency_ms_*`: how the screen is
    read, so a picture shown until the next one ages by up to a frame interval there
    too; no paint, no X)."""
    import av

    from streams.ingest.decode import TileScaler
    from streams.ingest.stamp import decode_stamp

    stop = threading.Event()
    ages: list[float] = []
    held: list[float] = []
    latest: dict[int, Any] = {}  # stream → its latest picture (a new array per frame)
    frames = [0]
    lock = threading.Lock()

    def run(i: int, url: str) -> None:
        opts = {"rtsp_transport": "tcp", "analyzeduration": "500000", "probesize": "65536"}
        try:
            with av.open(url, options=opts, timeout=(3.0, 2.0)) as container:
                stream = container.streams.video[0]
                stream.codec_context.thread_count = 1  # as the ingest: no frame threading
                scale = TileScaler()
                for n, frame in enumerate(container.decode(stream), start=1):
                    if stop.is_set():
                        break
                    img = scale(frame, size)  # as the ingest: one swscale context a stream
                    if n % 3 == 0:
                        ms = decode_stamp(img)
                        if ms is not None:
                            with lock:
                                ages.append(time.time() * 1000.0 - ms)
                    with lock:
                        latest[i] = img  # its stamp is read when the picture is "looked at"
                        frames[0] += 1
        except Exception as exc:  # reported, the baseline goes on with the others
            print(f"baseline {url}: {type(exc).__name__}: {exc}", file=sys.stderr)
        finally:  # a stopped stream's last picture would age for ever and flatter the wall
            with lock:
                latest.pop(i, None)

    threads = [threading.Thread(target=run, args=(i, u), daemon=True) for i, u in enumerate(urls)]
    for t in threads:
        t.start()
    time.sleep(2.0)  # warm-up: first frames
    with lock:
        ages.clear()
        frames[0] = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:  # read as the screen is read, at random phases
        time.sleep(random.uniform(0.5, 1.5) / read_hz)
        now = time.time() * 1000.0
        with lock:
            shown = list(latest.values())
        stamps = (decode_stamp(img) for img in shown)
        held.extend(now - ms for ms in stamps if ms is not None)
    with lock:
        got, n = list(ages), frames[0]
    stop.set()
    for t in threads:
        t.join(10)
    return {
        "latency_ms_p50": pct(got, 0.5),
        "latency_ms_p95": pct(got, 0.95),
        "fps_per_stream": n / seconds / max(1, len(urls)),
        "held_latency_ms_p50": pct(held, 0.5),
        "held_latency_ms_p95": pct(held, 0.95),
    }


# -- the wall ------------------------------------------------------------------------

STREAM_SIZES = {"main": (1280, 720), "sub": (704, 576), "third": (640, 360)}


def camera_profiles(sim: Any, cam: str, third: bool) -> list[Any]:
    """The simulated camera's streams as the console lists them (smallest first)."""
    from streams.ingest.types import StreamProfile

    names = ["third"] if third and "third" in sim.cameras[cam] else []
    return [StreamProfile(n, sim.url(cam, n), *STREAM_SIZES[n]) for n in [*names, "sub", "main"]]


def start_sim(args: argparse.Namespace) -> Any:
    from streams.simulator import CamSim

    sim = CamSim(cameras=args.cameras, encoding=args.encoding, codec=args.codec)
    sim.start()
    return sim


def run(args: argparse.Namespace) -> dict[str, Any]:
    from streams.ingest.profiles import choose_profile

    tiles: int = args.tiles
    load0 = os.getloadavg()
    sim = start_sim(args)
    try:
        cams = list(sim.camera_ids)
        size = tile_size(tiles)

        def profiles(i: int) -> list[Any]:
            return camera_profiles(sim, cams[i % len(cams)], not args.no_third)

        # the baseline decodes the streams the wall will choose for this tile size
        base_urls = [choose_profile(profiles(i), *size).url for i in range(tiles)]
        before = measure_baseline(base_urls, size, args.baseline_seconds, args.read_hz)
        result = run_wall(args, sim, profiles, size)
        after = measure_baseline(base_urls, size, args.baseline_seconds, args.read_hz)
    finally:
        sim.stop()
    load1 = os.getloadavg()
    # against the better of the two baselines: a machine that got busier during the run
    # must not make the wall look closer to bare decoding than it is
    best_p95 = min(before["latency_ms_p95"], after["latency_ms_p95"])
    best_held_p95 = min(before["held_latency_ms_p95"], after["held_latency_ms_p95"])
    return {
        "tiles": tiles,
        "encoding": f"{args.encoding}/{args.codec}",
        "tile_size": f"{size[0]}x{size[1]}",
        **result,
        "baseline_latency_ms_p50": round(before["latency_ms_p50"], 1),
        "baseline_latency_ms_p95": round(before["latency_ms_p95"], 1),
        "baseline_fps_per_stream": round(before["fps_per_stream"], 2),
        "baseline_after_latency_ms_p50": round(after["latency_ms_p50"], 1),
        "baseline_after_latency_ms_p95": round(after["latency_ms_p95"], 1),
        "baseline_after_fps_per_stream": round(after["fps_per_stream"], 2),
        "baseline_held_latency_ms_p50": round(before["held_latency_ms_p50"], 1),
        "baseline_held_latency_ms_p95": round(before["held_latency_ms_p95"], 1),
        "baseline_after_held_latency_ms_p95": round(after["held_latency_ms_p95"], 1),
        # the figure: the screen against each picture's age when it was decoded
        "latency_p95_over_baseline_ms": round(result["latency_ms_p95"] - best_p95, 1),
        # like against like: the screen against bare decoding's latest pictures read alike
        "latency_p95_over_held_baseline_ms": round(result["latency_ms_p95"] - best_held_p95, 1),
        "loadavg_1min_before_after": [round(load0[0], 2), round(load1[0], 2)],
    }


def stream_summary(statuses: list[Any]) -> dict[str, int]:
    """How many tiles show each stream ("third", "sub+key", ...)."""
    out: dict[str, int] = {}
    for st in statuses:
        name = st.stream if st is not None and st.stream else "none"
        out[name] = out.get(name, 0) + 1
    return dict(sorted(out.items()))


def median_stat(statuses: list[Any], name: str) -> float | None:
    vals = [getattr(st.stats, name, 0.0) for st in statuses if st is not None]
    vals = [v for v in vals if v]
    return round(statistics.median(vals), 3) if vals else None


def run_wall(
    args: argparse.Namespace, sim: Any, profiles: Any, size: tuple[int, int]
) -> dict[str, Any]:
    """The real wall offscreen in this process: what it paints, and where the time goes."""
    import psutil
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from console.wall.controller import StatusCallback, TileStream, WallController
    from console.wall.decoders import Decoders
    from console.wall.model import WallModel
    from console.wall.view import WallView
    from streams.ingest.pool import DecodePool, default_workers
    from tests.bench.wall_probe import PaintTimer, StampSampler, ThreadCpu

    tiles: int = args.tiles
    app = QApplication.instance() or QApplication([])
    proc = psutil.Process()
    sim_proc = psutil.Process(sim.pid) if sim.pid is not None else None

    pool = DecodePool(args.decode_workers or default_workers())
    # as the console builds its wall (console.shell.app.build_window): in this process or
    # in --decode-processes worker processes
    decoders = Decoders(args.decode_processes, pool=pool)

    def factory(camera_id: str, sz: tuple[int, int], on_status: StatusCallback) -> TileStream:
        i = int(camera_id.removeprefix("tile"))
        return decoders.stream(camera_id, profiles(i), sz, on_status)

    model = WallModel(SHAPE_FOR_TILES[tiles])
    controller = WallController(model, factory, evidence_dir=args.evidence_dir, decoders=decoders)
    if args.no_shed:  # every frame decoded: what each one costs, whatever the load
        import streams.ingest.rtsp as rtsp

        rtsp.CATCH_UP_S = float("inf")
        os.environ["HALL_INGEST_CATCH_UP_S"] = "inf"  # the decode processes read it
        controller.shedder.lag_threshold_ms = float("inf")
        controller.shedder.behind_threshold_ms = float("inf")
    view = WallView(controller)
    view.resize(*WALL_SIZE)
    sampler = StampSampler(every=args.sample_every)
    timer = PaintTimer()
    restore = timer.wrap(WallView, lambda v: sum(t.paints for t in v.tiles))
    view.painted_hook = sampler.on_painted
    model.assign_many([(i, f"tile{i}") for i in range(tiles)])
    wall_started = time.monotonic()
    controller.start()
    view.start()
    view.show()

    def spin(seconds: float) -> None:
        # a local loop: QApplication.quit() would close the windows (Qt 6)
        loop = QEventLoop()
        QTimer.singleShot(round(seconds * 1000), loop.quit)
        loop.exec()

    try:
        deadline = time.monotonic() + 30
        while len(sampler.counts) < tiles and time.monotonic() < deadline:
            spin(0.5)
        spin(args.warmup)
        shed_max = len(model.shed)
        reader = start_reader(args, view, spin, tiles)
        xserver = x_server_process(args.display)

        def statuses() -> list[Any]:
            return [controller.status(i) for i in range(tiles)]

        def dropped() -> int:
            return sum(s.stats.dropped for s in statuses() if s)

        def decoded() -> int:
            return sum(s.stats.frames for s in statuses() if s)

        def codec_cpu() -> tuple[float, float]:
            sts = [s for s in statuses() if s]
            return sum(s.stats.decode_cpu_s for s in sts), sum(s.stats.scale_cpu_s for s in sts)

        sampler.clear()
        timer.reset()
        threads = ThreadCpu(proc)
        drop0, dec0, codec0 = dropped(), decoded(), codec_cpu()
        workers = worker_processes(decoders)
        w0 = sum(sim_cpu(w) for w in workers)
        cpu0 = proc.cpu_times()
        sim0 = sim_cpu(sim_proc)
        x0 = sim_cpu(xserver)
        threads.start()
        t0 = time.monotonic()
        spin(args.seconds)
        elapsed = time.monotonic() - t0
        # the window's counts, before the reader's end is waited for (painting goes on)
        painted = dict(sampler.counts)
        paint_cpu_s = timer.cpu_s
        cpu_by_thread = threads.stop(elapsed)
        cpu1 = proc.cpu_times()
        w1 = sum(sim_cpu(w) for w in workers)
        lost = decoders.workers.workers_lost if decoders.workers is not None else 0
        sim1 = sim_cpu(sim_proc)
        x1 = sim_cpu(xserver)
        drop1, dec1, codec1 = dropped(), decoded(), codec_cpu()
        on_screen = finish_reader(reader, spin)
        paint = timer.summary()
        shed_max = max(shed_max, len(model.shed))
        shed_now = len(model.shed)
        sts = statuses()
        # memory once the evidence rings are full (35 s of video each)
        spin(max(0.0, wall_started + args.rss_after - time.monotonic()))
        rss_mb = proc.memory_info().rss / 2**20
        workers_rss_mb = sum(w.memory_info().rss for w in worker_processes(decoders)) / 2**20
        rss_at = time.monotonic() - wall_started
        rings = [
            getattr(controller.stream(i), "evidence_seconds", lambda: 0.0)() for i in range(tiles)
        ]
        first = switch_tiles(
            model, controller, spin, min(args.switches, tiles), len(sim.camera_ids)
        )
    finally:
        restore()
        view.stop()
        controller.stop()
        view.close()
        app.processEvents()
    ages, misses = sampler.ages_ms()
    if on_screen is not None:
        window = {
            "window": "xvfb",
            "latency_ms_p50": on_screen["latency_ms_p50"],
            "latency_ms_p95": on_screen["latency_ms_p95"],
            "painter_latency_ms_p50": round(pct(ages, 0.5), 1),
            "painter_latency_ms_p95": round(pct(ages, 0.95), 1),
            **{f"x_{k}": v for k, v in on_screen.items() if not k.startswith("latency")},
            "xserver_cpu_percent": round((x1 - x0) / elapsed * 100, 1),
        }
    else:
        window = {
            "window": "offscreen",
            "latency_ms_p50": round(pct(ages, 0.5), 1),
            "latency_ms_p95": round(pct(ages, 0.95), 1),
        }
    fps = [painted.get(i, 0) / elapsed for i in range(tiles)]
    gui_process_cpu = (cpu1.user + cpu1.system - cpu0.user - cpu0.system) / elapsed * 100
    workers_cpu = (w1 - w0) / elapsed * 100
    # the decode processes are the console's ingest: counted in its CPU and as "ingest"
    console_cpu = gui_process_cpu + workers_cpu
    cpu_by_thread = {**cpu_by_thread, "ingest": round(cpu_by_thread["ingest"] + workers_cpu, 1)}
    # CPU per frame is steadier than fps on a shared machine: it counts work, not waits
    n_painted = max(1, sum(painted.values()))
    n_decoded = max(1, dec1 - dec0)
    cpu_ms = {
        "ingest_per_decoded_frame": round(
            cpu_by_thread["ingest"] / 100 * elapsed / n_decoded * 1000, 3
        ),
        "gui_per_painted_frame": round(cpu_by_thread["gui"] / 100 * elapsed / n_painted * 1000, 3),
    }
    cost = cost_split(
        cpu_by_thread,
        elapsed,
        n_decoded,
        n_painted,
        (codec1[0] - codec0[0], codec1[1] - codec0[1]),
        paint_cpu_s,
        (x1 - x0) if on_screen is not None else None,
        console_cpu,
    )
    return {
        "stream_used": stream_summary(sts),
        "decode_workers": pool.workers,
        "decode_processes": args.decode_processes,
        "decode_processes_lost": lost,
        "no_shed": bool(args.no_shed),
        "painted_fps_median": round(statistics.median(fps), 2),
        "painted_fps_min": round(min(fps), 2),
        "dropped_frames": drop1 - drop0,
        "catch_ups": sum(s.stats.catch_ups for s in sts if s),
        **window,
        "console_cpu_percent": round(console_cpu, 1),
        "console_gui_process_cpu_percent": round(gui_process_cpu, 1),
        "decode_processes_cpu_percent": round(workers_cpu, 1),
        "console_cpu_percent_by_thread": cpu_by_thread,
        "cpu_ms": cpu_ms,
        "cost_ms": cost,
        "time_ms_per_frame": {
            "decode_median": median_stat(sts, "decode_ms"),
            "scale_to_bgra_median": median_stat(sts, "scale_ms"),
            "ingest_behind_ms_median": median_stat(sts, "behind_ms"),
            **paint,
        },
        "console_rss_mb": round(rss_mb, 1),
        "decode_processes_rss_mb": round(workers_rss_mb, 1),
        "console_rss_at_s": round(rss_at, 1),
        "evidence_ring_s_min": round(min(rings), 1) if rings else None,
        "first_frame_ms_median": round(statistics.median(first), 1) if first else None,
        "camsim_cpu_percent": round((sim1 - sim0) / elapsed * 100, 1),
        "tiles_shed_to_keyframes": shed_now,
        "tiles_shed_max": shed_max,
        "stamp_samples": len(ages),
        "stamp_misses": misses,
        "seconds": round(elapsed, 1),
    }


def cost_split(
    by_thread: dict[str, float],
    elapsed: float,
    decoded: int,
    painted: int,
    codec_s: tuple[float, float],
    paint_s: float,
    xserver_s: float | None,
    console_cpu: float,
) -> dict[str, float | None]:
    """CPU ms a frame, by where it goes: what the machine pays, whatever its load.

    Per decoded frame: decoding and scaling/converting to the tile (the decode threads'
    own CPU clocks around those calls) and the rest of the ingest threads (demuxing,
    RTP, the evidence ring, Python). Per painted frame (a new picture of a tile): the
    wall's paintEvent, the rest of the GUI thread (display timer, event loop, the
    backing store's flush to X), the X server; `console_per_painted` is the whole
    process's CPU over the painted frames.
    """
    ingest_s = by_thread["ingest"] / 100 * elapsed
    gui_s = by_thread["gui"] / 100 * elapsed
    ms = 1000.0

    def per(seconds: float, n: int) -> float:
        return round(seconds / max(1, n) * ms, 3)

    return {
        "decode_per_decoded": per(codec_s[0], decoded),
        "scale_per_decoded": per(codec_s[1], decoded),
        "ingest_other_per_decoded": per(max(0.0, ingest_s - sum(codec_s)), decoded),
        "paint_per_painted": per(paint_s, painted),
        "gui_other_per_painted": per(max(0.0, gui_s - paint_s), painted),
        "xserver_per_painted": None if xserver_s is None else per(xserver_s, painted),
        "other_threads_per_painted": per(by_thread["other"] / 100 * elapsed, painted),
        "console_per_painted": per(console_cpu / 100 * elapsed, painted),
    }


def start_reader(args: argparse.Namespace, view: Any, spin: Any, tiles: int) -> Any:
    """Under Xvfb: the child process reading the window back from the X server, ready."""
    from tests.bench.wall_grab import WindowReader

    if args.display is None:
        return None
    rects = []
    for slot in range(tiles):
        g = view.tile_for(slot).geometry()
        rects.append((g.x(), g.y(), g.width(), g.height()))
    reader = WindowReader(args.display, int(view.winId()), rects, args.seconds, args.read_hz)
    reader.start()
    deadline = time.monotonic() + 60
    while not reader.ready and time.monotonic() < deadline:
        spin(0.1)  # the wall keeps painting while the reader starts
    return reader


def finish_reader(reader: Any, spin: Any) -> dict[str, Any] | None:
    """The reader's figures; the wall keeps painting until it has read its last picture."""
    if reader is None:
        return None
    deadline = time.monotonic() + 120
    try:
        while not reader.done and time.monotonic() < deadline:
            spin(0.1)
        out: dict[str, Any] = reader.result()
        return out
    finally:
        reader.stop()


def x_server_process(display: str | None) -> Any:
    import psutil

    from tests.bench.wall_grab import xvfb_pid

    pid = xvfb_pid(display) if display else None
    return psutil.Process(pid) if pid is not None else None


def switch_tiles(model: Any, controller: Any, spin: Any, switches: int, cams: int) -> list[float]:
    """Time to the first painted frame after switching tiles to another camera."""
    before = len(controller.first_frame_ms)
    tiles = model.shape.tiles
    for k in range(switches):
        slot = (k * 5) % tiles
        model.assign(slot, f"tile{slot + cams * (k + 1) + 1}")
        wait_until = time.monotonic() + 10
        while len(controller.first_frame_ms) <= before + k and time.monotonic() < wait_until:
            spin(0.02)
    return list(controller.first_frame_ms[before:])


def worker_processes(decoders: Any) -> list[Any]:
    """The decode worker processes running now (none when decoding in this process)."""
    import psutil

    if decoders.workers is None:
        return []
    out = []
    for pid in decoders.workers.pids():
        try:
            out.append(psutil.Process(pid))
        except psutil.NoSuchProcess:
            continue
    return out


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
    ap.add_argument(
        "--encoding",
        default="camera",
        choices=("camera", "fast"),
        help="the simulator's encoding: camera (H.264 High, CABAC, a camera's bit rate) or fast",
    )
    ap.add_argument("--codec", default="h264", choices=("h264", "h265"), help="of main streams")
    ap.add_argument(
        "--no-third",
        action="store_true",
        help="cameras without a third stream (sub on small tiles)",
    )
    ap.add_argument(
        "--decode-workers",
        type=int,
        default=0,
        help="places in the decode pool (0: one per core, as the console; --tiles: no pool); "
        "with --decode-processes shared out over the processes, at least one each",
    )
    add_decode_option(ap)  # as hall-console: --decode-processes N (0: in this process)
    ap.add_argument(
        "--offscreen",
        action="store_true",
        help="paint offscreen (no X server; latency from the painted arrays, not the screen)",
    )
    ap.add_argument(
        "--no-shed",
        action="store_true",
        help="no shedding on lag and no catch-up: CPU per frame with every frame decoded",
    )
    ap.add_argument(
        "--read-hz", type=float, default=4.0, help="reads of the window from X a second"
    )
    ap.add_argument(
        "--rss-after",
        type=float,
        default=40.0,
        help="measure memory this many seconds after the wall started (evidence rings full)",
    )
    ap.add_argument("--sample-every", type=int, default=3, help="read the stamp of every Nth frame")
    ap.add_argument("--evidence-dir", default="/tmp/hall-bench-evidence")
    ap.add_argument("--json", action="store_true", help="print the JSON line (always last)")
    args = ap.parse_args(argv)
    decode_processes(args, "python -m tests.bench.wall")
    from pathlib import Path

    args.evidence_dir = Path(args.evidence_dir)
    args.display = None
    if args.offscreen:
        result = run(args)
    else:
        from tests.kit.xvfb import xvfb_display

        with xvfb_display(f"{WALL_SIZE[0]}x{WALL_SIZE[1]}x24") as display:
            os.environ["DISPLAY"] = display
            os.environ["QT_QPA_PLATFORM"] = "xcb"
            args.display = display
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
