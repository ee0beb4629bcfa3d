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
  (hall frames painted in the page, station frames decoded at the hall);
- `https`: true when the pages were fetched over TLS with the hub's CA;
- `unenrolled_refused`: a console that is not enrolled (plain zmq, no keys) on the
  county LAN got no reply and no published message within 3 s.

Baseline in the same run (`baseline_*`): the same calls on loopback, without TURN.
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


async def calls(netns: Netns | None, folder: Path, n: int) -> dict[str, Any]:
    rig = Rig(netns, folder)
    rig.start()
    results: list[CallResult] = []
    try:
        https = rig.hub.scheme == "https"
        async with chromium_in(netns, "village", folder / "chromium", rig.page_args()) as browser:
            for i in range(n + 1):  # the first call warms up (Chromium, hub), not counted
                res = await station_call(rig, browser, "t01")
                await res.page.context.close()
                if i:
                    results.append(res)
        probe = await rig.console(unenrolled_probe(rig.hub.req_endpoint, rig.hub.pub_endpoint))
    finally:
        rig.stop()
    connect = [r.connect_ms for r in results]
    return {
        "calls": n,
        "https": https,
        "relay_pairs": sum(1 for r in results if r.pair.get("local") == "relay"),
        "connect_ms_median": round(statistics.median(connect), 1),
        "connect_ms_max": round(max(connect), 1),
        "received_fps_min": round(min(min(r.page_fps, r.hall_fps) for r in results), 1),
        "page_fps_min": round(min(r.page_fps for r in results), 1),
        "hall_fps_min": round(min(r.hall_fps for r in results), 1),
        "unenrolled_refused": probe == {"replies": 0, "published": 0},
        "unenrolled_got": probe,
        "marks_ms_median": {
            k: round(statistics.median(r.marks[k] for r in results), 1) for k in results[0].marks
        },
    }


async def main_async(n: int) -> dict[str, Any]:
    sweep_stale()
    tmp = Path(tempfile.mkdtemp(prefix="bench-remote-"))
    base = await calls(None, tmp / "loopback", n)
    net = Netns()
    net.start()
    try:
        remote = await calls(net, tmp / "remote", n)
    finally:
        net.stop()
    out = dict(remote)
    for k in ("https", "relay_pairs", "connect_ms_median", "connect_ms_max", "received_fps_min"):
        out[f"baseline_{k}"] = base[k]
    out["turn_added_ms"] = round(remote["connect_ms_median"] - base["connect_ms_median"], 1)
    out["baseline_marks_ms_median"] = base["marks_ms_median"]
    return out


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
    print(f"unenrolled console refused: {res['unenrolled_refused']} ({res['unenrolled_got']})")
    if args.json:
        print(json.dumps(res, ensure_ascii=False))


if __name__ == "__main__":
    main()
