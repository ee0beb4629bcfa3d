"""Dispatch benchmark: `python -m tests.bench.dispatch [--json] [--sessions N] [--dispatches K]`.

Against a real hall-hub process (temporary SQLite file, a generated site with N grid
leaders): a SEPARATE load process logs N phone sessions in (personal link + PIN) and
holds N WebSocket connections (aiohttp), acking every pushed task as the page does. The
benchmark (a HubClient, the console's view) then dispatches K events, each to a random
connected person, a few in flight at once, and measures dispatch → delivered: from
sending the dispatch request to receiving the published `TaskChanged` in state delivered
(the phone's ack reached the hub, was committed and published). Baseline in the same
run: the same with ONE connected session. Also reported: the hub's CPU while measured.
Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import psutil

from dispatch.client.connection import HubClient
from dispatch.hub.process import HubProcess
from dispatch.hub.tls import client_context
from dispatch.tasks.core import TaskState
from dispatch.tasks.messages import TaskChanged
from tests.kit.tls import hub_session

ROOT = str(Path(__file__).resolve().parent.parent.parent)
API_KEY = "bench-dispatch-key-0123456789"


def raise_nofile(want: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        soft = min(want, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return soft


def pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


def site_toml(n: int) -> str:
    out = ['name = "压测县"', "[[townships]]", 'id = "t01"', 'name = "城关镇"']
    for i in range(n):
        out += ["[[people]]", f'id = "p{i:05d}"', f'name = "网格长{i}"', 'role = "grid_leader"']
    return "\n".join(out) + "\n"


# -- the load process ------------------------------------------------------------------------


async def load_main(links_file: str, http: str, ca: str) -> None:
    raise_nofile(4096)
    links = json.loads(Path(links_file).read_text())
    conn = aiohttp.TCPConnector(limit=0, ssl=client_context([Path(ca)]))
    jar = aiohttp.DummyCookieJar()  # each session's cookie is kept and sent by hand
    cookies: dict[str, str] = {}
    acks = 0
    async with aiohttp.ClientSession(connector=conn, cookie_jar=jar) as http_s:
        sem = asyncio.Semaphore(32)

        async def login(path: str, pin: str) -> None:
            async with (
                sem,
                http_s.post(http + path + "/login", data={"pin": pin}, allow_redirects=False) as r,
            ):
                if r.status != 303:
                    raise SystemExit(f"login {path}: HTTP {r.status}")
                cookies[path] = r.cookies["hall_m"].value

        await asyncio.gather(*(login(lk["path"], lk["pin"]) for lk in links))

        async def session(path: str, ready: asyncio.Event, count: list[int]) -> None:
            nonlocal acks
            async with connecting:  # phones do not all connect in the same millisecond
                ws = await http_s.ws_connect(
                    http.replace("http", "ws") + path + "/ws",
                    headers={"Cookie": f"hall_m={cookies[path]}"},
                )
            async with ws:
                first = True
                async for msg in ws:
                    m = json.loads(msg.data)
                    if first:
                        first = False
                        count[0] += 1
                        if count[0] == len(links):
                            ready.set()
                    tasks = m["tasks"] if m["type"] == "hello" else [m["task"]]
                    for t in tasks:
                        if t["need_ack"]:
                            await ws.send_str(json.dumps({"type": "ack", "id": t["id"]}))
                            acks += 1

        ready = asyncio.Event()
        connecting = asyncio.Semaphore(64)
        count = [0]
        sessions = [asyncio.create_task(session(lk["path"], ready, count)) for lk in links]
        waiter = asyncio.create_task(ready.wait())
        done, _ = await asyncio.wait(
            [waiter, *sessions], timeout=120, return_when=asyncio.FIRST_COMPLETED
        )
        if waiter not in done:
            for d in done:
                print(f"FAILED session: {d.exception()!r}", flush=True)
            raise SystemExit(f"only {count[0]} of {len(links)} sessions connected")
        print(f"READY {len(links)}", flush=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.readline)  # until the benchmark is done
        for s in sessions:
            s.cancel()
        await asyncio.gather(*sessions, return_exceptions=True)
    print(f"ACKS {acks}", flush=True)


# -- the benchmark ---------------------------------------------------------------------------


async def post_events(hub: HubProcess, n: int, tag: str) -> list[str]:
    ids, http = [], hub.http_url
    async with hub_session(hub, headers={"X-Api-Key": API_KEY}) as s:
        for i in range(n):
            body = {
                "source": "grid_report",
                "source_ref": f"{tag}-{i}",
                "category": "neighbours",
                "title": f"邻里纠纷 {i}",
                "place": {"township": "t01", "address": f"东街{i}号"},
            }
            async with s.post(http + "/api/v1/events", json=body) as r:
                ids.append((await r.json())["id"])
    return ids


async def measure(
    hub: HubProcess,
    client: HubClient,
    delivered: dict[str, float],
    links: list[dict[str, str]],
    persons: list[str],
    dispatches: int,
    inflight: int,
    tag: str,
    tmp: Path,
) -> dict[str, Any]:
    lf = tmp / f"links-{tag}.json"
    lf.write_text(json.dumps(links))
    load = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.bench.dispatch",
            "--load",
            str(lf),
            "--http",
            hub.http_url,
            "--ca",
            str(hub.ca_cert_path),
        ],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert load.stdout is not None and load.stdin is not None
        line = await asyncio.wait_for(asyncio.to_thread(load.stdout.readline), 300)
        if not line.startswith("READY"):
            raise SystemExit(f"load process failed: {line!r}")
        events = await post_events(hub, dispatches, tag)
        proc = psutil.Process(hub.pid)
        cpu0, t0 = proc.cpu_times(), time.perf_counter()
        lat: list[float] = []
        rnd = random.Random(7)
        sem = asyncio.Semaphore(inflight)

        async def one(eid: str) -> None:
            async with sem:
                person = rnd.choice(persons)
                start = time.perf_counter()
                task = await client.tasks.dispatch_event(eid, person)
                while task.id not in delivered:
                    await asyncio.sleep(0.001)
                lat.append((delivered[task.id] - start) * 1000)

        await asyncio.wait_for(asyncio.gather(*(one(e) for e in events)), 600)
        cpu1, t1 = proc.cpu_times(), time.perf_counter()
        busy = (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system)
        load.stdin.write("\n")
        load.stdin.flush()
        load.wait(timeout=60)
    finally:
        if load.poll() is None:
            load.kill()
    return {
        "sessions": len(links),
        "dispatches": len(lat),
        "p50": pct(lat, 50),
        "p99": pct(lat, 99),
        "max": max(lat),
        "hub_cpu_percent": 100 * busy / (t1 - t0),
        "seconds": t1 - t0,
    }


async def bench(sessions: int, dispatches: int, inflight: int) -> dict[str, Any]:
    raise_nofile(sessions + 1024)
    tmp = Path(tempfile.mkdtemp(prefix="bench-dispatch-"))
    site = tmp / "site.toml"
    site.write_text(site_toml(sessions))
    db = f"sqlite:///{tmp / 'hall.db'}"
    env = {**os.environ, "HALL_PASSWORD": "bench123"}
    subprocess.run(
        [sys.executable, "-m", "dispatch.hub.app", "--db", db, "--add-operator", "bench",
         "--role", "duty_officer"], cwd=ROOT, env=env, check=True, capture_output=True,
    )  # fmt: skip
    keys = tmp / "keys.toml"
    keys.write_text(f'[[keys]]\nname = "bench"\nkey = "{API_KEY}"\nsources = ["grid_report"]\n')
    hub = HubProcess(db, site=site, extra_args=["--api-key-file", str(keys)])
    hub.start(timeout_s=120)
    delivered: dict[str, float] = {}

    def on_task(m: TaskChanged) -> None:
        if m.task.state is TaskState.DELIVERED and m.task.id not in delivered:
            delivered[m.task.id] = time.perf_counter()

    client = HubClient(
        hub.req_endpoint, hub.pub_endpoint, keys=hub.console_keys, workstation="bench",
        on_change=lambda c: None,
        on_connection=lambda s: None, on_task=on_task, request_timeout_s=30,
    )  # fmt: skip
    await client.start()
    try:
        await client.login("bench", "bench123")
        persons = [f"p{i:05d}" for i in range(sessions)]
        sem = asyncio.Semaphore(16)

        async def link(pid: str) -> dict[str, str]:
            async with sem:
                rep = await client.tasks.issue_phone_link(pid)
                return {"person": pid, "path": rep.path, "pin": rep.pin}

        links = await asyncio.gather(*(link(p) for p in persons))
        base = await measure(
            hub, client, delivered, links[:1], persons[:1], max(20, dispatches // 5), 1,
            "base", tmp,
        )  # fmt: skip
        full = await measure(
            hub, client, delivered, links, persons, dispatches, inflight, "full", tmp
        )
    finally:
        await client.stop()
        hub.stop()
    return {"baseline": base, "loaded": full}


def main() -> None:
    p = argparse.ArgumentParser(prog="tests.bench.dispatch")
    p.add_argument("--json", action="store_true")
    p.add_argument("--sessions", type=int, default=1000)
    p.add_argument("--dispatches", type=int, default=300)
    p.add_argument("--inflight", type=int, default=4, help="dispatches in flight at once")
    p.add_argument("--load", default=None, help=argparse.SUPPRESS)
    p.add_argument("--http", default=None, help=argparse.SUPPRESS)
    p.add_argument("--ca", default=None, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.load is not None:
        asyncio.run(load_main(a.load, a.http, a.ca))
        return
    r = asyncio.run(bench(a.sessions, a.dispatches, a.inflight))
    b, f = r["baseline"], r["loaded"]
    print(f"{'':34}{'baseline':>12}{'loaded':>12}")
    print(f"{'connected phone sessions':34}{b['sessions']:>12}{f['sessions']:>12}")
    print(f"{'dispatches measured':34}{b['dispatches']:>12}{f['dispatches']:>12}")
    print(f"{'dispatch→delivered p50 (ms)':34}{b['p50']:>12.1f}{f['p50']:>12.1f}")
    print(f"{'dispatch→delivered p99 (ms)':34}{b['p99']:>12.1f}{f['p99']:>12.1f}")
    print(f"{'dispatch→delivered max (ms)':34}{b['max']:>12.1f}{f['max']:>12.1f}")
    print(
        f"{'hub CPU while measured (%)':34}"
        f"{b['hub_cpu_percent']:>12.0f}{f['hub_cpu_percent']:>12.0f}"
    )
    out = {
        "sessions": f["sessions"],
        "dispatches": f["dispatches"],
        "dispatch_to_delivered_ms_p50": round(f["p50"], 2),
        "dispatch_to_delivered_ms_p99": round(f["p99"], 2),
        "hub_cpu_percent": round(f["hub_cpu_percent"], 1),
        "baseline_sessions": b["sessions"],
        "baseline_dispatch_to_delivered_ms_p50": round(b["p50"], 2),
        "baseline_dispatch_to_delivered_ms_p99": round(b["p99"], 2),
        "target_p99_ms": 200,
    }
    print(json.dumps(out) if a.json else json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
