"""Benchmark: a mediation session through the hub's star on loopback.

    python -m tests.bench.webrtc [--json] [--seconds 30] [--browsers 3] [--camera-fps 25]

A real `hall-hub` process (the media centre, forwarding VP8/Opus without decoding), the
console's aiortc peer (synthetic 640x480 camera at 25 fps + tone) in this process and N
headless Chromium participants (fake 640x480 camera at `--camera-fps`; the page asks for
25). Measured per stream over the run:

- received fps: frames the receiver decoded (pages: `framesDecoded` of the inbound RTP
  stream from `getStats`; the console: frames out of aiortc's decoder);
- shown fps (pages only): frames the page painted (`requestVideoFrameCallback`) —
  headless Chromium composites in software on this machine's CPU, so this is a floor of
  what a participant with a GPU sees;
- the resolution received;
- join → first frame per page (`connect_ms`), and the CPU of this process (the console's
  peer), the hub and the browsers (psutil).

Baseline in the same run, before the session: 2 parties (the console and one page) for
a few seconds, the same measures. Prints a table and, last, one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import psutil
from playwright.async_api import Browser, Page, async_playwright

from dispatch.hub.process import HubProcess
from tests.integration.dispatch.mediation.test_mediation_support import (
    CHROMIUM_ARGS,
    INVITES,
    ConsolePeer,
    console_client,
    mediation_hub,
    open_participant,
    page_frames,
    post_event,
    until,
)
from tests.kit.tls import chromium_args_for

# per participant id: [framesDecoded, frameWidth, frameHeight] of its inbound video
PAGE_DECODED = """async () => {
  const H = window.HALL, out = {};
  if (!H.pc || !H.state) return out;
  const byMid = {};
  (await H.pc.getStats()).forEach((r) => {
    if (r.type === "inbound-rtp" && r.kind === "video") byMid[r.mid] = r;
  });
  for (const s of H.state.slots) {
    const r = s.peer && byMid[s.video_mid];
    if (r) out[s.peer.id] = [r.framesDecoded || 0, r.frameWidth || 0, r.frameHeight || 0];
  }
  return out;
}"""


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


def chromium_args(camera_fps: int) -> list[str]:
    fake = "--use-fake-device-for-media-stream"
    return [a for a in CHROMIUM_ARGS if not a.startswith(fake)] + [f"{fake}=fps={camera_fps}"]


@asynccontextmanager
async def chromium(hub: HubProcess, camera_fps: int) -> AsyncIterator[Browser]:
    args = chromium_args(camera_fps) + chromium_args_for(hub)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path="/usr/bin/chromium", args=args, headless=True
        )
        try:
            yield browser
        finally:
            await browser.close()


async def _decoded(page: Page) -> dict[str, tuple[int, int, int]]:
    got = await page.evaluate(PAGE_DECODED)
    return {str(k): (int(v[0]), int(v[1]), int(v[2])) for k, v in got.items()}


async def session(seconds: float, browsers: int, camera_fps: int) -> dict[str, Any]:
    """One session of the console + `browsers` pages; the measures of its steady state."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-webrtc-"))
    hub = mediation_hub(tmp)
    hub.start(timeout_s=60)
    try:
        assert hub.pid is not None
        hub_proc = psutil.Process(hub.pid)
        me = psutil.Process()
        eid = post_event(hub, "基准测试调解", f"bench-{browsers}")
        async with console_client(hub) as con, chromium(hub, camera_fps) as browser:
            rep = await con.mediation.open_mediation(eid, INVITES[:browsers])
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
            await asyncio.sleep(3)  # steady state (the senders ramp up their bitrate)
            d0 = [await _decoded(pg) for pg in pages]
            f0 = [await page_frames(pg) for pg in pages]
            c0 = peer.frames_by_peer()
            bprocs = _browser_procs()
            cpu0 = (_cpu([me]), _cpu([hub_proc]), _cpu(bprocs))
            t0 = time.monotonic()
            await asyncio.sleep(seconds)
            dt = time.monotonic() - t0
            cpu1 = (_cpu([me]), _cpu([hub_proc]), _cpu(bprocs))
            d1 = [await _decoded(pg) for pg in pages]
            f1 = [await page_frames(pg) for pg in pages]
            c1 = peer.frames_by_peer()
            await peer.client.stop()
        names = {link.participant_id: link.label for link in rep.links}
        rows: list[dict[str, Any]] = []
        for i in range(len(pages)):
            for k, (n1, w, h) in d1[i].items():
                rows.append(
                    {
                        "receiver": rep.links[i].label,
                        "sender": names.get(k, "console" if k not in names else k),
                        "received_fps": (n1 - d0[i].get(k, (0, 0, 0))[0]) / dt,
                        "shown_fps": (f1[i].get(k, 0) - f0[i].get(k, 0)) / dt,
                        "size": f"{w}x{h}",
                    }
                )
        for k in c1:
            rows.append(
                {
                    "receiver": "console",
                    "sender": names.get(k, k),
                    "received_fps": (c1[k] - c0.get(k, 0)) / dt,
                    "shown_fps": None,
                    "size": "",
                }
            )
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


def summary(r: dict[str, Any]) -> dict[str, Any]:
    rx = [row["received_fps"] for row in r["rows"]]
    shown = [row["shown_fps"] for row in r["rows"] if row["shown_fps"] is not None]
    return {
        "connect_ms_median": round(statistics.median(r["connect_ms"]), 1),
        "connect_ms_max": round(max(r["connect_ms"]), 1),
        "received_fps_min": round(min(rx), 1),
        "received_fps_median": round(statistics.median(rx), 1),
        "shown_fps_min": round(min(shown), 1) if shown else None,
        "shown_fps_median": round(statistics.median(shown), 1) if shown else None,
        "console_cpu_percent": round(r["console_cpu"], 1),
        "hub_cpu_percent": round(r["hub_cpu"], 1),
        "browsers_cpu_percent": round(r["browsers_cpu"], 1),
    }


def print_table(title: str, r: dict[str, Any]) -> None:
    print(f"\n{title}")
    print(f"{'receiver':<10} {'sender':<10} {'received fps':>12} {'shown fps':>10} {'size':>9}")
    for row in r["rows"]:
        shown = "" if row["shown_fps"] is None else f"{row['shown_fps']:.1f}"
        print(
            f"{row['receiver']:<10} {row['sender']:<10} {row['received_fps']:12.1f} "
            f"{shown:>10} {row['size']:>9}"
        )
    print(f"connect ms: {', '.join(f'{c:.0f}' for c in r['connect_ms'])}")
    print(
        f"CPU %: console peer {r['console_cpu']:.0f}, hub {r['hub_cpu']:.0f}, "
        f"browsers {r['browsers_cpu']:.0f} (of {100 * (psutil.cpu_count() or 1)})"
    )


async def run(seconds: float, browsers: int, camera_fps: int, baseline_s: float) -> dict[str, Any]:
    base = await session(baseline_s, 1, camera_fps) if baseline_s > 0 else None
    main = await session(seconds, browsers, camera_fps)
    return {"baseline": base, "main": main}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--browsers", type=int, default=3)
    ap.add_argument("--camera-fps", type=int, default=25, help="Chromium's fake camera")
    ap.add_argument("--baseline-seconds", type=float, default=8.0, help="0: no baseline")
    args = ap.parse_args()
    budget = args.seconds + args.baseline_seconds + 360
    r = asyncio.run(
        asyncio.wait_for(
            run(args.seconds, args.browsers, args.camera_fps, args.baseline_seconds), budget
        )
    )
    if r["baseline"] is not None:
        print_table("baseline: console + 1 page (2 parties)", r["baseline"])
    print_table(
        f"session: console + {args.browsers} pages ({args.browsers + 1} parties)", r["main"]
    )
    out: dict[str, Any] = {
        "participants": args.browsers + 1,
        "seconds": round(r["main"]["seconds"], 1),
        "camera_fps": args.camera_fps,
        **summary(r["main"]),
    }
    if r["baseline"] is not None:
        out["baseline_2_parties"] = summary(r["baseline"])
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
