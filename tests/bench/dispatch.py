"""Dispatch benchmark: `python -m tests.bench.dispatch [--sessions N] [--dispatches K] [--rate R]`.

Against a real hall-hub process (temporary SQLite file, a generated site with N grid
leaders): a SEPARATE load process logs N phone sessions in (personal link + PIN) and
holds N WebSocket connections (aiohttp), acking every pushed task as the page does. The
benchmark (a HubClient, the console's view) then dispatches K events (1,000 by default),
each to a random connected person, OPEN-LOOP: the i-th dispatch is due at t0 + i/R
whatever the earlier ones are doing, and its latency counts from that due time (a slow
hub cannot slow the arrivals down and hide its own queue). It measures dispatch →
delivered: from the due time to receiving the published `TaskChanged` in state
delivered (the phone's ack reached the hub, was committed and published). Baseline in
the same run: the same rate with ONE connected session (K/5 dispatches, at least 100).
Also reported: the hub's CPU while measured and how late the sender itself started
requests (`send_lag_ms_max`: the bench's own loop, not the hub).

Checks (exit 1 when one fails): every dispatch delivered within `--deliver-timeout`, the
phones acked exactly the dispatched tasks, at least 1,000 samples unless `--dispatches`
asked for fewer. Prints a table and the checks, then one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import shutil
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
from tests.bench.verdict import Verdict
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
        # all sessions come from one address here, and the hub's guard counts PIN forms in
        # flight per address (`[guard] pin_free_per_client`, 5): stay below it
        sem = asyncio.Semaphore(4)

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


class Deliveries:
    """Delivered times by task id, and a wait for one (the TaskChanged may beat the reply)."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {}
        self._waiting: dict[str, asyncio.Future[float]] = {}

    def on_task(self, m: TaskChanged) -> None:
        if m.task.state is TaskState.DELIVERED and m.task.id not in self.at:
            self.at[m.task.id] = t = time.perf_counter()
            fut = self._waiting.pop(m.task.id, None)
            if fut is not None and not fut.done():
                fut.set_result(t)

    async def wait(self, task_id: str, timeout_s: float) -> float | None:
        if task_id in self.at:
            return self.at[task_id]
        fut = self._waiting.setdefault(task_id, asyncio.get_running_loop().create_future())
        try:
            return await asyncio.wait_for(asyncio.shield(fut), timeout_s)
        except TimeoutError:
            return None


async def measure(
    hub: HubProcess,
    client: HubClient,
    delivered: Deliveries,
    links: list[dict[str, str]],
    persons: list[str],
    dispatches: int,
    rate: float,
    tag: str,
    tmp: Path,
    deliver_timeout_s: float,
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
        lag: list[float] = []
        lost: list[str] = []
        failed: list[str] = []
        rnd = random.Random(7)

        async def one(eid: str, due: float) -> None:
            person = rnd.choice(persons)
            lag.append((time.perf_counter() - due) * 1000)
            try:
                task = await client.tasks.dispatch_event(eid, person)
            except Exception as e:  # a refused dispatch is a failure to report, not a crash
                failed.append(f"{eid}: {e!r}")
                return
            at = await delivered.wait(task.id, deliver_timeout_s)
            if at is None:
                lost.append(task.id)
            else:
                lat.append((at - due) * 1000)

        started: list[asyncio.Task[None]] = []
        for i, eid in enumerate(events):  # open loop: due times fixed in advance
            due = t0 + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            started.append(asyncio.create_task(one(eid, due)))
        await asyncio.gather(*started)
        cpu1, t1 = proc.cpu_times(), time.perf_counter()
        busy = (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system)
        load.stdin.write("\n")
        load.stdin.flush()
        load.wait(timeout=60)
        tail = load.stdout.read()
        acks = int(tail.split("ACKS", 1)[1].split()[0]) if "ACKS" in tail else -1
    finally:
        if load.poll() is None:
            load.kill()
    return {
        "sessions": len(links),
        "asked": dispatches,
        "rate": rate,
        "dispatches": len(lat),
        "lost": lost,
        "failed": failed,
        "acks": acks,
        "send_lag_ms_max": max(lag) if lag else 0.0,
        "p50": pct(lat, 50) if lat else float("nan"),
        "p99": pct(lat, 99) if lat else float("nan"),
        "max": max(lat) if lat else float("nan"),
        "hub_cpu_percent": 100 * busy / (t1 - t0),
        "seconds": t1 - t0,
    }


async def bench(
    sessions: int, dispatches: int, rate: float, deliver_timeout_s: float
) -> dict[str, Any]:
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
    hub.start(timeout_s=180)
    delivered = Deliveries()
    client = HubClient(
        hub.req_endpoint, hub.pub_endpoint, keys=hub.console_keys, workstation="bench",
        on_change=lambda c: None,
        on_connection=lambda s: None, on_task=delivered.on_task, request_timeout_s=30,
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
            hub, client, delivered, links[:1], persons[:1],
            max(min(100, dispatches), dispatches // 5), rate, "base", tmp, deliver_timeout_s,
        )  # fmt: skip
        full = await measure(
            hub, client, delivered, links, persons, dispatches, rate, "full", tmp,
            deliver_timeout_s,
        )  # fmt: skip
    finally:
        await client.stop()
        hub.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return {"baseline": base, "loaded": full}


def verdict(r: dict[str, Any], min_samples: int) -> Verdict:
    v = Verdict()
    for name, m in (("baseline", r["baseline"]), ("loaded", r["loaded"])):
        first = f", first {m['failed'][0]}" if m["failed"] else ""
        v.check(f"{name}: every dispatch accepted", not m["failed"],
                f"{len(m['failed'])} refused{first}")  # fmt: skip
        v.check(f"{name}: every dispatch delivered", not m["lost"],
                f"{len(m['lost'])} of {m['asked']} not delivered in time")  # fmt: skip
        v.check(f"{name}: the phones acked each task once", m["acks"] == m["asked"],
                f"{m['acks']} acks for {m['asked']} dispatches")  # fmt: skip
    v.check("loaded: samples", r["loaded"]["dispatches"] >= min_samples,
            f"{r['loaded']['dispatches']} (≥ {min_samples})")  # fmt: skip
    return v


def main() -> None:
    p = argparse.ArgumentParser(prog="tests.bench.dispatch")
    p.add_argument("--json", action="store_true", help="kept for old callers: JSON is always last")
    p.add_argument("--sessions", type=int, default=1000)
    p.add_argument("--dispatches", type=int, default=1000)
    p.add_argument("--rate", type=float, default=20.0, help="dispatches per second, open loop")
    p.add_argument("--deliver-timeout", type=float, default=60.0, help="seconds per dispatch")
    p.add_argument("--load", default=None, help=argparse.SUPPRESS)
    p.add_argument("--http", default=None, help=argparse.SUPPRESS)
    p.add_argument("--ca", default=None, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.load is not None:
        asyncio.run(load_main(a.load, a.http, a.ca))
        return
    r = asyncio.run(bench(a.sessions, a.dispatches, a.rate, a.deliver_timeout))
    v = verdict(r, min(1000, a.dispatches))
    b, f = r["baseline"], r["loaded"]
    print(f"{'open loop at ' + str(a.rate) + ' dispatches/s':34}{'baseline':>12}{'loaded':>12}")
    print(f"{'connected phone sessions':34}{b['sessions']:>12}{f['sessions']:>12}")
    print(f"{'dispatches measured':34}{b['dispatches']:>12}{f['dispatches']:>12}")
    print(f"{'dispatch→delivered p50 (ms)':34}{b['p50']:>12.1f}{f['p50']:>12.1f}")
    print(f"{'dispatch→delivered p99 (ms)':34}{b['p99']:>12.1f}{f['p99']:>12.1f}")
    print(f"{'dispatch→delivered max (ms)':34}{b['max']:>12.1f}{f['max']:>12.1f}")
    lag_b, lag_f = b["send_lag_ms_max"], f["send_lag_ms_max"]
    print(f"{'sender lag max (ms, the bench)':34}{lag_b:>12.1f}{lag_f:>12.1f}")
    print(
        f"{'hub CPU while measured (%)':34}"
        f"{b['hub_cpu_percent']:>12.0f}{f['hub_cpu_percent']:>12.0f}"
    )
    v.print()
    out = {
        "sessions": f["sessions"],
        "rate_per_s": a.rate,
        "dispatches": f["dispatches"],
        "dispatches_lost": len(f["lost"]),
        "dispatch_to_delivered_ms_p50": round(f["p50"], 2),
        "dispatch_to_delivered_ms_p99": round(f["p99"], 2),
        "dispatch_to_delivered_ms_max": round(f["max"], 2),
        "send_lag_ms_max": round(f["send_lag_ms_max"], 2),
        "hub_cpu_percent": round(f["hub_cpu_percent"], 1),
        "baseline_sessions": b["sessions"],
        "baseline_dispatches": b["dispatches"],
        "baseline_dispatch_to_delivered_ms_p50": round(b["p50"], 2),
        "baseline_dispatch_to_delivered_ms_p99": round(b["p99"], 2),
        "target_p99_ms": 200,
        "checks_failed": v.failed,
    }
    print(json.dumps(out))
    raise SystemExit(v.exit_code)


if __name__ == "__main__":
    main()
