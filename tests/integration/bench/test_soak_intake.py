"""The soak's intake is an honest load: open loop (each event's first POST leaves at its
time, whatever the hub answers), failures counted by cause, and the publish latency
taken from an event's FIRST post (retries included). A real aiohttp server on loopback
stands in for the hub's intake: it refuses the first POST of every third event (503),
and never answers one event's first POST (a stalled hub)."""

from __future__ import annotations

import asyncio
import json
import ssl

import pytest
from aiohttp import web

from tests.bench.soak.flow import Intake, Ledger

pytestmark = pytest.mark.integration

RATE = 20.0


def test_open_loop_with_failures_by_cause() -> None:
    seen: dict[str, int] = {}

    async def post(request: web.Request) -> web.Response:
        ref = json.loads(await request.read())["source_ref"]
        n = seen[ref] = seen.get(ref, 0) + 1
        k = int(ref.rsplit("-", 1)[1])
        if n == 1 and k == 4:
            await asyncio.sleep(3)  # the client's timeout is shorter
        if n == 1 and k % 3 == 0:
            return web.json_response({"error": "busy"}, status=503)
        return web.json_response({"id": f"E{k}"}, status=201 if n == 1 else 200)

    async def go() -> tuple[Ledger, list[str]]:
        app = web.Application()
        app.router.add_post("/api/v1/events", post)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        ledger = Ledger()
        new: list[str] = []
        intake = Intake(lambda: f"http://127.0.0.1:{port}", ssl.create_default_context(),
                        ledger, new.append, rate=RATE, timeout_s=1.0)  # fmt: skip
        task = asyncio.create_task(intake.run())
        await asyncio.sleep(1.0)
        intake.stop()
        await task
        await runner.cleanup()
        return ledger, new

    ledger, new = asyncio.run(go())
    offered = ledger.offered
    assert RATE * 0.7 <= offered <= RATE * 1.1 + 1, offered  # on schedule, not held back
    assert len(ledger.acked) == offered and len(new) == offered  # all, after retries
    refused = len([k for k in range(offered) if k % 3 == 0])
    assert ledger.intake_failures["timeout"] == (1 if offered > 4 else 0)
    assert sum(v for c, v in ledger.intake_failures.items() if c.startswith("http 503")) == refused
    assert ledger.acked_first_try == offered - refused - (1 if offered > 4 else 0)
    assert ledger.created_twice == 0
