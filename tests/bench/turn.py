"""TURN benchmark: `python -m tests.bench.turn [--json] [--calls N]`.

Connect time of two aiortc peers on this machine, direct (host candidates on
127.0.0.1) against relay-only through a real coturn (`turnserver`, started here on
loopback with the hub's configuration writer, credentials minted as the hub mints them):
offer → both connected, and offer → the first video frame decoded on both sides. N calls
each, alternating, fresh peer connections every time. Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

from aiortc import RTCPeerConnection
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from streams.webrtc.config import IcePlan, SyntheticCamera, restrict_host_addresses
from streams.webrtc.stats import selected_pairs
from tests.kit.turn import TurnServer, start_turn


async def _first_frame(track: MediaStreamTrack, done: asyncio.Future[float]) -> None:
    try:
        await track.recv()
    except MediaStreamError:
        return
    if not done.done():
        done.set_result(time.monotonic())


async def one_call(plans: tuple[IcePlan, IcePlan]) -> dict[str, object]:
    loop = asyncio.get_running_loop()
    pcs, firsts, tasks = [], [], []
    for i, plan in enumerate(plans):
        pc = RTCPeerConnection(plan.configuration())
        pc.addTransceiver(SyntheticCamera(f"P{i}", 320, 240, 15), direction="sendrecv")
        fut: asyncio.Future[float] = loop.create_future()

        @pc.on("track")
        def on_track(track: MediaStreamTrack, fut: asyncio.Future[float] = fut) -> None:
            tasks.append(asyncio.ensure_future(_first_frame(track, fut)))

        pcs.append(pc)
        firsts.append(fut)
    a, b = pcs
    try:
        t0 = time.monotonic()
        await a.setLocalDescription(await a.createOffer())
        await b.setRemoteDescription(a.localDescription)
        await b.setLocalDescription(await b.createAnswer())
        await a.setRemoteDescription(b.localDescription)
        while not (a.connectionState == b.connectionState == "connected"):
            if time.monotonic() - t0 > 30:
                raise TimeoutError("not connected within 30 s")
            await asyncio.sleep(0.005)
        connected = time.monotonic()
        frames = await asyncio.wait_for(asyncio.gather(*firsts), 30)
        return {
            "connect_ms": (connected - t0) * 1000,
            "first_frame_ms": (max(frames) - t0) * 1000,
            "pair": selected_pairs(a)[0] if selected_pairs(a) else None,
        }
    finally:
        for pc in pcs:
            await pc.close()
        for t in tasks:
            t.cancel()


def _summary(rows: list[dict[str, object]], key: str) -> dict[str, float]:
    vals = [float(str(r[key])) for r in rows]
    return {
        "median": round(statistics.median(vals), 1),
        "max": round(max(vals), 1),
        "min": round(min(vals), 1),
    }


async def run(calls: int, turn: TurnServer) -> dict[str, object]:
    direct = (IcePlan(), IcePlan())
    rows: dict[str, list[dict[str, object]]] = {"direct": [], "turn": []}
    for _ in range(calls):
        rows["direct"].append(await one_call(direct))
        relay = (
            IcePlan((turn.ice_server("bench-a"),), relay_only=True),
            IcePlan((turn.ice_server("bench-b"),), relay_only=True),
        )
        rows["turn"].append(await one_call(relay))
    out: dict[str, object] = {"calls": calls}
    for name, got in rows.items():
        out[name] = {
            "connect_ms": _summary(got, "connect_ms"),
            "first_frame_ms": _summary(got, "first_frame_ms"),
            "pairs": sorted({str(r["pair"]) for r in got}),
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--calls", type=int, default=10)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    restrict_host_addresses(["127.0.0.1"])  # direct: host candidates on loopback only
    with tempfile.TemporaryDirectory() as tmp:
        turn = start_turn(Path(tmp) / "coturn")
        try:
            res = asyncio.run(run(args.calls, turn))
        finally:
            turn.coturn.stop_blocking()
    print(f"{'path':8} {'connect median/max ms':>24} {'first frame median/max ms':>28}  pair")
    for name in ("direct", "turn"):
        r = res[name]
        assert isinstance(r, dict)
        c, f = r["connect_ms"], r["first_frame_ms"]
        print(
            f"{name:8} {c['median']:>12} / {c['max']:<9} {f['median']:>14} / {f['max']:<11}"
            f"  {','.join(r['pairs'])}"
        )
    if args.json:
        print(json.dumps(res))


if __name__ == "__main__":
    main()
