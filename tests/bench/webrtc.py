"""Benchmark: a mediation session through the hub's star on loopback.

    python -m tests.bench.webrtc [--seconds 30] [--parties 4] [--camera-fps 25]

A real `hall-hub` process (the media centre, forwarding VP8/Opus without decoding) and
`--parties` participants: the console's aiortc peer, ONE headless Chromium page (fake
640x480 camera at `--camera-fps`; the page asks for 25) and aiortc parties that log in
with their PINs on their join links. The console and the aiortc parties send VP8 encoded
once before the call (`tests/bench/preencoded.py`, 640x480 at 25 fps): encoding is the
senders' own machines' work, and three Chromiums each encoding one and decoding and
painting three streams in software saturated this 2-core machine (received 16–20 fps
but shown 7 fps at 4 parties with the browsers at 119 % CPU): the figures were then the
machine's, not the hub's. The page is the party under test: with the load below the
machine's size, what it receives and shows is what a party on its own machine gets
(`saturated` in the JSON says whether that held).

Counted from the receivers' own statistics, per receiver × sender (rows):
- received fps: frames decoded (the page: `framesDecoded` of its inbound RTP streams
  from `getStats`; aiortc receivers: frames out of aiortc's decoder);
- shown fps (the page only): frames it painted (`requestVideoFrameCallback`);
- the resolution received (the page: `frameWidth`x`frameHeight`; aiortc: the frames');
- join → first frame of the page (`connect_ms`), the CPU of this process (console and
  aiortc parties), the hub and the browser (psutil).

Checks (exit 1 when one fails): every receiver has a row for every other party, at the
start and at the end of the window (a stream that vanished, or a participant missing
from the stats, fails), each row received frames during the window, and each stream
arrived at its sender's size (640x480). Baseline in the same run, before the session: 2
parties (the console and the page). Prints a table and the checks, then one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import psutil
from playwright.async_api import Browser, Page, async_playwright

from dispatch.hub.process import HubProcess
from streams.webrtc.client import SignallingError, StarClient
from streams.webrtc.config import restrict_host_addresses
from tests.bench.preencoded import PreEncodedCamera, encode_loop
from tests.bench.soak.call import admit, party_session
from tests.bench.verdict import Verdict
from tests.integration.dispatch.mediation.test_mediation_support import (
    CHROMIUM_ARGS,
    INVITES,
    LOOPBACK,
    console_client,
    mediation_hub,
    open_participant,
    page_frames,
    post_event,
    until,
)
from tests.kit.tls import chromium_args_for

SIZE = (640, 480)
PAGE = "page"  # the Chromium participant's name as a receiver
FPS = 25
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
Counts = dict[str, tuple[int, int, int]]  # sender id → (frames decoded, width, height)


@dataclass
class Bot:
    """An aiortc participant (the console or a party): its client and what it received."""

    name: str
    pid: str  # its participant id ("" for the console)
    client: StarClient | None = None
    state: dict[str, Any] = field(default_factory=dict)
    sizes: dict[str, tuple[int, int]] = field(default_factory=dict)  # mid → last size

    def on_message(self, m: dict[str, Any]) -> None:
        if m.get("type") == "state":
            self.state = m

    def on_video(self, mid: str, frame: av.VideoFrame) -> None:
        self.sizes[mid] = (frame.width, frame.height)

    def counts(self) -> Counts:
        """Frames decoded and size per sender, from its slots (as the page's stats)."""
        assert self.client is not None
        out: Counts = {}
        for s in self.state.get("slots", []):
            mid = s["video_mid"]
            if s["peer"] and mid is not None and mid in self.client.frames:
                w, h = self.sizes.get(mid, (0, 0))
                out[s["peer"]["id"]] = (self.client.frames[mid], w, h)
        return out


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


async def start_bot(hub: HubProcess, bot: Bot, url: str, session: str, frames: list[bytes]) -> None:
    """Its client, started (again, new, while the lobby still refuses a party's offer)."""
    for n in range(20):
        c = StarClient(
            url, session, video=PreEncodedCamera(frames, FPS), audio=None,
            keep_hosts=LOOPBACK, on_message=bot.on_message, on_video=bot.on_video,
            ssl_context=hub.ssl_context(),
        )  # fmt: skip
        try:
            await c.start()
            bot.client = c
            return
        except SignallingError:
            await c.stop()
            if n == 19:
                raise
            await asyncio.sleep(0.5)


class ConsoleBot(Bot):
    async def admit(self, pid: str) -> None:
        assert self.client is not None
        await self.client.send({"type": "admit", "id": pid})


@dataclass
class Window:
    """What every receiver counted at one moment: receiver name → Counts; page paints."""

    counts: dict[str, Counts]
    shown: dict[str, int]
    cpu: tuple[float, float, float]  # this process, the hub, the browser (CPU seconds)
    machine: tuple[float, float]  # the whole machine: busy and total CPU seconds
    at: float


def _machine() -> tuple[float, float]:
    t = psutil.cpu_times()
    total = sum(t)
    return total - t.idle - getattr(t, "iowait", 0.0), total


async def snapshot(bots: list[Bot], page: Page, hub_proc: psutil.Process) -> Window:
    counts = {b.name: b.counts() for b in bots}
    counts[PAGE] = await _decoded(page)
    shown = await page_frames(page)
    cpu = (_cpu([psutil.Process()]), _cpu([hub_proc]), _cpu(_browser_procs()))
    return Window(counts, shown, cpu, _machine(), time.monotonic())


def rows_of(w0: Window, w1: Window, names: dict[str, str]) -> list[dict[str, Any]]:
    """One row per receiver × sender seen at the end, with fps over the window."""
    dt = w1.at - w0.at
    rows: list[dict[str, Any]] = []
    for rx, c1 in w1.counts.items():
        c0 = w0.counts.get(rx, {})
        for k, (n1, w, h) in c1.items():
            shown = (w1.shown.get(k, 0) - w0.shown.get(k, 0)) / dt if rx == PAGE else None
            rows.append({
                "receiver": rx, "sender": names.get(k, k),
                "received_fps": (n1 - c0.get(k, (0, 0, 0))[0]) / dt,
                "shown_fps": shown, "size": f"{w}x{h}", "at_start": k in c0,
            })  # fmt: skip
    return rows


async def session(seconds: float, parties: int, camera_fps: int) -> dict[str, Any]:
    """One session: the console, one page and `parties - 2` aiortc parties; its measures."""
    restrict_host_addresses(LOOPBACK)  # aioice: host candidates on 127.0.0.1 only
    tmp = Path(tempfile.mkdtemp(prefix="bench-webrtc-"))
    hub = mediation_hub(tmp)
    hub.start(timeout_s=180)
    frames = await asyncio.to_thread(encode_loop, "调解 bench", *SIZE, FPS)
    try:
        assert hub.pid is not None
        hub_proc = psutil.Process(hub.pid)
        eid = post_event(hub, "基准测试调解", f"bench-{parties}")
        async with console_client(hub) as con, chromium(hub, camera_fps) as browser:
            rep = await con.mediation.open_mediation(eid, INVITES[: parties - 1])
            names = {link.participant_id: link.label for link in rep.links}
            host = ConsoleBot("console", "")
            await start_bot(hub, host, hub.http_url + rep.host_path, rep.host_session, frames)
            page_link, party_links = rep.links[0], list(rep.links[1:])
            page = await open_participant(browser, hub.http_url + page_link.path, page_link.pin)
            bots = [host] + [Bot(link.label, link.participant_id) for link in party_links]
            for link in rep.links:
                await admit(host, link.participant_id)  # type: ignore[arg-type]
            for bot, link in zip(bots[1:], party_links, strict=True):
                await start_bot(hub, bot, hub.http_url + link.path,
                                await party_session(hub, link), frames)  # fmt: skip
            want = parties - 1  # each receiver sees every other party

            seen: list[Window] = []

            async def everyone_sees_all() -> bool:
                seen[:] = [await snapshot(bots, page, hub_proc)]
                return all(sum(1 for c in cs.values() if c[0] > 0) >= want
                           for cs in seen[0].counts.values())  # fmt: skip

            try:
                await until(everyone_sees_all, timeout_s=90)
            except TimeoutError as exc:
                got = seen[0].counts if seen else {}
                raise RuntimeError(f"not every party sees the others in 90 s: {got}") from exc
            connect = float(await page.evaluate("() => window.HALL.firstFrameMs"))
            await asyncio.sleep(3)  # steady state (the senders ramp up their bitrate)
            w0 = await snapshot(bots, page, hub_proc)
            await asyncio.sleep(seconds)
            w1 = await snapshot(bots, page, hub_proc)
            for b in bots:
                if b.client is not None:
                    await b.client.stop()
        dt = w1.at - w0.at
        names["host"] = "console"
        names[page_link.participant_id] = PAGE
        busy, total = (w1.machine[0] - w0.machine[0]), (w1.machine[1] - w0.machine[1])
        return {
            "parties": parties,
            "rows": rows_of(w0, w1, names),
            "receivers": sorted(w1.counts),
            "connect_ms": connect,
            "peers_cpu": (w1.cpu[0] - w0.cpu[0]) / dt * 100,
            "hub_cpu": (w1.cpu[1] - w0.cpu[1]) / dt * 100,
            "browser_cpu": (w1.cpu[2] - w0.cpu[2]) / dt * 100,
            "machine_busy": busy / total * 100 if total > 0 else 0.0,
            "seconds": dt,
        }
    finally:
        hub.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def summary(r: dict[str, Any]) -> dict[str, Any]:
    rx = [row["received_fps"] for row in r["rows"]]
    page = [row for row in r["rows"] if row["receiver"] == PAGE]
    shown = [row["shown_fps"] for row in page]
    return {
        "parties": r["parties"],
        "rows": len(r["rows"]),
        "connect_ms": round(r["connect_ms"], 1),
        "received_fps_min": round(min(rx), 1) if rx else None,
        "received_fps_median": round(statistics.median(rx), 1) if rx else None,
        "page_received_fps_min": round(min(x["received_fps"] for x in page), 1) if page else None,
        "shown_fps_min": round(min(shown), 1) if shown else None,
        "shown_fps_median": round(statistics.median(shown), 1) if shown else None,
        "peers_cpu_percent": round(r["peers_cpu"], 1),
        "hub_cpu_percent": round(r["hub_cpu"], 1),
        "browser_cpu_percent": round(r["browser_cpu"], 1),
        "machine_busy_percent": round(r["machine_busy"], 1),  # every process, of all cores
        "saturated": r["machine_busy"] > 85,
    }


def check(v: Verdict, r: dict[str, Any], name: str) -> None:
    p = r["parties"]
    rows = r["rows"]
    v.check(f"{name}: receivers", len(r["receivers"]) == p, f"{r['receivers']} ({p} parties)")
    v.check(f"{name}: rows = parties × (parties - 1)", len(rows) == p * (p - 1),
            f"{len(rows)} for {p * (p - 1)}")  # fmt: skip
    for rx in r["receivers"]:
        senders = [row for row in rows if row["receiver"] == rx]
        v.check(f"{name}: {rx} sees every other party", len(senders) == p - 1,
                ", ".join(row["sender"] for row in senders))  # fmt: skip
    late = [f"{x['receiver']}←{x['sender']}" for x in rows if not x["at_start"]]
    v.check(f"{name}: every stream there from start to end", not late, ", ".join(late))
    dead = [f"{x['receiver']}←{x['sender']}" for x in rows if x["received_fps"] < 1]
    v.check(f"{name}: every stream received frames in the window", not dead, ", ".join(dead))
    want = f"{SIZE[0]}x{SIZE[1]}"
    bad = [f"{x['receiver']}←{x['sender']} {x['size']}" for x in rows if x["size"] != want]
    v.check(f"{name}: every stream at {want}", not bad, ", ".join(bad))


def print_table(title: str, r: dict[str, Any]) -> None:
    print(f"\n{title}")
    print(f"{'receiver':<10} {'sender':<10} {'received fps':>12} {'shown fps':>10} {'size':>9}")
    for row in r["rows"]:
        shown = "" if row["shown_fps"] is None else f"{row['shown_fps']:.1f}"
        print(
            f"{row['receiver']:<10} {row['sender']:<10} {row['received_fps']:12.1f} "
            f"{shown:>10} {row['size']:>9}"
        )
    print(f"page join → first frame: {r['connect_ms']:.0f} ms")
    print(
        f"CPU %: console + aiortc parties {r['peers_cpu']:.0f}, hub {r['hub_cpu']:.0f}, "
        f"browser {r['browser_cpu']:.0f} (of {100 * (psutil.cpu_count() or 1)}); "
        f"the whole machine {r['machine_busy']:.0f} % busy"
    )


async def run(seconds: float, parties: int, camera_fps: int, baseline_s: float) -> dict[str, Any]:
    base = await session(baseline_s, 2, camera_fps) if baseline_s > 0 else None
    main = await session(seconds, parties, camera_fps)
    return {"baseline": base, "main": main}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", action="store_true", help="kept for old callers: JSON is always last")
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--parties", type=int, default=4, help="console + 1 page + aiortc parties")
    ap.add_argument("--camera-fps", type=int, default=25, help="the page's fake camera")
    ap.add_argument("--baseline-seconds", type=float, default=8.0, help="0: no baseline")
    args = ap.parse_args()
    if not 2 <= args.parties <= len(INVITES) + 1:
        ap.error(f"--parties: 2 to {len(INVITES) + 1}")
    budget = args.seconds + args.baseline_seconds + 480
    r = asyncio.run(
        asyncio.wait_for(
            run(args.seconds, args.parties, args.camera_fps, args.baseline_seconds), budget
        )
    )
    v = Verdict()
    if r["baseline"] is not None:
        print_table("baseline: console + the page (2 parties)", r["baseline"])
        check(v, r["baseline"], "baseline")
    n = args.parties
    print_table(f"session: console + the page + {n - 2} aiortc parties ({n} parties)", r["main"])
    check(v, r["main"], "session")
    out: dict[str, Any] = {
        "participants": n,
        "seconds": round(r["main"]["seconds"], 1),
        "camera_fps": args.camera_fps,
        **summary(r["main"]),
    }
    if r["baseline"] is not None:
        out["baseline_2_parties"] = summary(r["baseline"])
    print("\n(the page is the party under test; unless `saturated`, its received and shown fps")
    print(" are what a party on its own machine gets; shown fps is software compositing)")
    v.print()
    print(json.dumps({**out, "checks_failed": v.failed}, ensure_ascii=False))
    raise SystemExit(v.exit_code)


if __name__ == "__main__":
    main()
