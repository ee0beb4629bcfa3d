"""Benchmark: a mediation session through the hub's star on loopback.

    python -m tests.bench.webrtc [--json] [--seconds 30] [--browsers 3]

A real `hall-hub` process (the media centre), the console's aiortc peer (synthetic
640x480 camera + tone) in this process and N headless Chromium participants (fake
640x480 camera). Measures join → first received frame per participant
(`connect_ms`), the received frame rate of every stream over the run (in the pages:
`requestVideoFrameCallback` counts; in the console: aiortc recv counts), and the CPU of
this process (the console's peer), the hub and the browsers (psutil). Baseline in the
same run: the console's peer alone with the hub for a few seconds (no browsers).
Prints a table and, last, one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil
from playwright.async_api import Page

from tests.integration.test_mediation_support import (
    INVITES,
    ConsolePeer,
    chromium,
    console_client,
    mediation_hub,
    open_participant,
    page_frames,
    post_event,
    until,
)


def _cpu(procs: list[psutil.Process]) -> float:
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def _browser_procs() -> list[psutil.Process]:
    return [p for p in psutil.Process().children(recursive=True) if "chrom" in p.name().lower()]


async def run(seconds: float, browsers: int) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-webrtc-"))
    hub = mediation_hub(tmp)
    hub.start(timeout_s=60)
    try:
        assert hub.pid is not None
        hub_proc = psutil.Process(hub.pid)
        me = psutil.Process()
        eid = post_event(hub, "基准测试调解", "bench-1")
        async with console_client(hub) as con, chromium() as browser:
            rep = await con.open_mediation(eid, INVITES[:browsers])
            peer = ConsolePeer(hub, rep)
            await peer.client.start()
            pages = []
            for link in rep.links:
                pages.append(await open_participant(browser, hub.http_url + link.path, link.pin))
            for link in rep.links:
                await peer.admit(link.participant_id)
            want = browsers  # each page sees the others + the console
            await until(lambda: len(peer.frames_by_peer()) >= want, timeout_s=60)
            js = f"() => Object.keys(window.HALL.frames).length >= {want}"
            for pg in pages:

                async def sees_all(pg: Page = pg) -> bool:
                    return bool(await pg.evaluate(js))

                await until(sees_all, timeout_s=60)
            connect = [await pg.evaluate("() => window.HALL.firstFrameMs") for pg in pages]
            # (the console's peer joined before anyone: its offer→first frame includes the
            # wait for the others, so connect_ms is the browsers' join → first frame)
            # steady state
            await asyncio.sleep(2)
            f0 = [await page_frames(pg) for pg in pages]
            c0 = peer.frames_by_peer()
            bprocs = _browser_procs()
            cpu0 = (_cpu([me]), _cpu([hub_proc]), _cpu(bprocs))
            t0 = time.monotonic()
            await asyncio.sleep(seconds)
            dt = time.monotonic() - t0
            cpu1 = (_cpu([me]), _cpu([hub_proc]), _cpu(bprocs))
            f1 = [await page_frames(pg) for pg in pages]
            c1 = peer.frames_by_peer()
            await peer.client.stop()
        rows: list[tuple[str, str, float]] = []
        for i, (a, b) in enumerate(zip(f0, f1, strict=True)):
            for k in b:
                rows.append((rep.links[i].label, k, (b[k] - a.get(k, 0)) / dt))
        for k in c1:
            rows.append(("console", k, (c1[k] - c0.get(k, 0)) / dt))
        return {
            "rows": rows,
            "connect_ms": connect,
            "console_cpu": (cpu1[0] - cpu0[0]) / dt * 100,
            "hub_cpu": (cpu1[1] - cpu0[1]) / dt * 100,
            "browsers_cpu": (cpu1[2] - cpu0[2]) / dt * 100,
            "seconds": dt,
        }
    finally:
        hub.stop()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--browsers", type=int, default=3)
    args = ap.parse_args()
    r = asyncio.run(asyncio.wait_for(run(args.seconds, args.browsers), args.seconds + 240))
    print(f"{'receiver':<10} {'sender':<8} {'fps':>6}")
    for who, k, fps in r["rows"]:
        print(f"{who:<10} {k:<8} {fps:6.1f}")
    print(f"connect ms: {', '.join(f'{c:.0f}' for c in r['connect_ms'])}")
    print(
        f"CPU %: console peer {r['console_cpu']:.0f}, hub {r['hub_cpu']:.0f}, "
        f"browsers {r['browsers_cpu']:.0f} (of 200 on 2 cores)"
    )
    out = {
        "participants": args.browsers + 1,
        "seconds": round(r["seconds"], 1),
        "connect_ms_median": round(statistics.median(r["connect_ms"]), 1),
        "connect_ms_max": round(max(r["connect_ms"]), 1),
        "received_fps_min": round(min(f for _, _, f in r["rows"]), 1),
        "received_fps_median": round(statistics.median(f for _, _, f in r["rows"]), 1),
        "console_cpu_percent": round(r["console_cpu"], 1),
        "hub_cpu_percent": round(r["hub_cpu"], 1),
        "browsers_cpu_percent": round(r["browsers_cpu"], 1),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
