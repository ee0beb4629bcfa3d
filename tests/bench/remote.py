"""Benchmark: duty-station calls from a village behind NAT, through TURN.

    python -m tests.bench.remote [--json] [--calls 5]

Builds the county's networks in namespaces (`tests.kit.netns`: the hub on the public
and county LAN addresses, coturn on the public network, a village behind a NAT router
that drops UDP to the hub), runs a real hub there, the console's client and hall peer on
the county LAN, and real headless Chromium in the village. Each call is what a duty
officer does: open the station page by host name (`hub.test`), type the PIN, the roll
call rings, the page answers, the hall (console) joins. One call before the measured
ones warms each setup up (Chromium's first page, the hub's first call) and is not counted.

- `connect_ms_median` / `connect_ms_max`: open of the station page → first hall frame
  painted in the page (requestVideoFrameCallback);
- `relay_pairs`: calls whose selected candidate pair in the page was a TURN relay;
- `received_fps_min`: the lowest received frame rate over the calls, both directions
  (hall frames decoded in the page, from its `getStats` `framesDecoded`; station frames
  decoded at the hall), over 3 s of the call starting 1 s after the first hall frame
  (the connect is not in it). The hall's camera makes 25 frames a second, the page's
  fake camera 25 (Chromium's default of 20 is raised). Frames *painted* in the page are
  not the measure: headless Chromium paints about 20 a second even from a 25 fps canvas
  on the same page, where a browser on a real screen paints each decoded frame;
- `stages_fps_min`: the lowest rate of each stage over the calls, to say where frames
  are lost: `hall_camera` (made), `page_received` / `page_decoded` / `page_painted`
  (hall → page, with `page_lost` packets, `page_nacks`, `page_plis` per second),
  `page_encoded` / `page_sent` (the page's camera) and `hall_decoded` (page → hall);
- `https`: true when every station page came over TLS with the hub's own CA trusted
  (Chromium given only its SPKI hash) and was a secure context;
- `unenrolled_refused`: a console that is not enrolled (plain zmq, no keys) on the
  county LAN got no reply and no published message within 3 s.

Baseline in the same run (`baseline_*`): the same calls on loopback, without TURN; both
setups are up at once and their calls alternate, so both see the same machine load.
Targets: connect median ≤ 2,500 ms through TURN, received fps ≥ 20, TURN adding no more
than 1,000 ms to the median over the baseline. Prints a table and, last, one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
from pathlib import Path
from typing import Any

from tests.integration.remote.test_remote_support import (
    CallResult,
    Rig,
    chromium_in,
    station_call,
    unenrolled_probe,
)
from tests.kit.netns import Netns, sweep_stale


def summary(results: list[CallResult]) -> dict[str, Any]:
    connect = [r.connect_ms for r in results]
    return {
        "calls": len(results),
        "https": all(r.https for r in results),
        "relay_pairs": sum(1 for r in results if r.pair.get("local") == "relay"),
        "connect_ms_median": round(statistics.median(connect), 1),
        "connect_ms_max": round(max(connect), 1),
        "received_fps_min": round(min(min(r.page_fps, r.hall_fps) for r in results), 1),
        "page_fps_min": round(min(r.page_fps for r in results), 1),
        "hall_fps_min": round(min(r.hall_fps for r in results), 1),
        "stages_fps_min": {
            k: round(min(r.stages[k] for r in results), 1) for k in results[0].stages
        },
        "page_camera_limits": sorted({r.limit for r in results}),
        "marks_ms_median": {
            k: round(statistics.median(r.marks[k] for r in results), 1) for k in results[0].marks
        },
    }


async def run(net: Netns, tmp: Path, n: int) -> dict[str, Any]:
    """Both setups up at once, their calls alternating (the same machine load for both);
    one call each first to warm up (Chromium's first page, the hub's first call)."""
    rigs = {"baseline": Rig(None, tmp / "loopback"), "remote": Rig(net, tmp / "remote")}
    results: dict[str, list[CallResult]] = {k: [] for k in rigs}
    try:
        for rig in rigs.values():
            rig.start()
        async with (
            chromium_in(None, "village", tmp / "c0", rigs["baseline"].page_args()) as b0,
            chromium_in(net, "village", tmp / "c1", rigs["remote"].page_args()) as b1,
        ):
            browsers = {"baseline": b0, "remote": b1}
            for i in range(n + 1):
                for name, rig in rigs.items():
                    res = await station_call(rig, browsers[name], "t01")
                    await res.page.context.close()
                    if i:
                        results[name].append(res)
        remote = rigs["remote"]
        hub = remote.hub
        probe = await remote.console(unenrolled_probe(hub.req_endpoint, hub.pub_endpoint))
    finally:
        for rig in rigs.values():
            rig.stop()
    base, out = summary(results["baseline"]), summary(results["remote"])
    out["unenrolled_refused"] = probe == {"replies": 0, "published": 0}
    out["unenrolled_got"] = probe
    for k in ("https", "relay_pairs", "connect_ms_median", "connect_ms_max", "received_fps_min"):
        out[f"baseline_{k}"] = base[k]
    out["turn_added_ms"] = round(out["connect_ms_median"] - base["connect_ms_median"], 1)
    out["baseline_marks_ms_median"] = base["marks_ms_median"]
    out["baseline_stages_fps_min"] = base["stages_fps_min"]
    return out


async def main_async(n: int) -> dict[str, Any]:
    sweep_stale()
    net = Netns()
    net.start()
    try:
        return await run(net, Path(tempfile.mkdtemp(prefix="bench-remote-")), n)
    finally:
        net.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--calls", type=int, default=5)
    args = ap.parse_args()
    res = asyncio.run(main_async(args.calls))
    print(
        f"{'run':<18}{'calls':>6}{'https':>7}{'relay':>7}{'connect med ms':>16}"
        f"{'connect max ms':>16}{'fps min':>9}"
    )
    for name, p in (("loopback, no TURN", "baseline_"), ("village via TURN", "")):
        print(
            f"{name:<18}{res['calls']:>6}{res[p + 'https']!s:>7}{res[p + 'relay_pairs']:>7}"
            f"{res[p + 'connect_ms_median']:>16}{res[p + 'connect_ms_max']:>16}"
            f"{res[p + 'received_fps_min']:>9}"
        )
    print(f"TURN adds {res['turn_added_ms']} ms; steps (median ms): {res['marks_ms_median']}")
    for name, p in (("loopback", "baseline_"), ("via TURN", "")):
        print(f"fps per stage, lowest call ({name}): {res[p + 'stages_fps_min']}")
    print(f"unenrolled console refused: {res['unenrolled_refused']} ({res['unenrolled_got']})")
    if args.json:
        print(json.dumps(res, ensure_ascii=False))


if __name__ == "__main__":
    main()
