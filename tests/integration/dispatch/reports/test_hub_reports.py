"""Monthly report and hot spots over zmq (and the PDF over HTTP) from a real hub process."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from dispatch.client.connection import HubClient
from dispatch.client.state import ConnectionState
from dispatch.domain.wire import ErrorCode, HubError
from dispatch.events.messages import EventChanged
from dispatch.hub.process import HubProcess
from tests.kit.hub import HUB_API_KEY, client_keys
from tests.kit.tls import hub_session

pytestmark = pytest.mark.integration

SPIKE = "environment"  # a category with no history in a fresh hub: 6 events are a hot spot


async def post(hub: HubProcess, n: int, category: str) -> str:
    body = {
        "source": "grid_report",
        "source_ref": f"rep-{category}-{n}",
        "category": category,
        "title": f"测试上报 {n}",
        "place": {"township": "t01"},
    }
    async with (
        hub_session(hub) as s,
        s.post(f"{hub.http_url}/api/v1/events", json=body, headers={"X-Api-Key": HUB_API_KEY}) as r,
    ):
        assert r.status in (200, 201), await r.text()
        ev: dict[str, Any] = await r.json()
        return str(ev["id"])


def make_client(hub: HubProcess) -> HubClient:
    def on_change(_c: EventChanged) -> None:
        pass

    def on_conn(_s: ConnectionState) -> None:
        pass

    return HubClient(
        hub.req_endpoint,
        hub.pub_endpoint,
        keys=client_keys(hub),
        workstation="席位9",
        on_change=on_change,
        on_connection=on_conn,
        request_timeout_s=30.0,
    )


def run(
    hub: HubProcess, operator: str, password: str, body: Callable[[HubClient], Awaitable[None]]
) -> None:
    async def main() -> None:
        c = make_client(hub)
        await c.start()
        try:
            await c.login(operator, password)
            await asyncio.wait_for(body(c), 120)
        finally:
            await c.stop()

    asyncio.run(main())


def test_report_and_hotspots_over_zmq(hub: HubProcess) -> None:
    spike = [asyncio.run(post(hub, i, SPIKE)) for i in range(6)]
    other = [asyncio.run(post(hub, i, "neighbours")) for i in range(2)]
    month = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")

    async def leader(c: HubClient) -> None:
        rep = await c.reports.report(month)
        r = rep.report
        assert r.accepted == 8
        counts = {x.key: x.count for x in r.by_category if x.count}
        assert counts == {SPIKE: 6, "neighbours": 2}
        assert rep.pdf_available
        assert rep.pdf_path == f"/api/v1/reports/{month}.pdf"
        pdf = await c.reports.report_pdf(hub.http_url, month, ssl_context=hub.ssl_context())
        assert pdf.startswith(b"%PDF")
        with pytest.raises(HubError) as bad:
            await c.reports.report("2026-13")
        assert bad.value.code is ErrorCode.INVALID
        assert "no such month" in bad.value.message  # the hub's answer
        with pytest.raises(HubError) as garbage:
            await c.reports.report("October")
        assert garbage.value.code is ErrorCode.INVALID

    run(hub, "leader", "leader123", leader)

    async def duty(c: HubClient) -> None:
        got = await c.reports.hotspots()
        by_key = {h.key: h for h in got.hotspots}
        assert SPIKE in by_key, got
        assert sorted(by_key[SPIKE].event_ids) == sorted(spike)
        assert "neighbours" not in by_key  # two events are never a hot spot
        assert not set(other) & {
            e for h in got.hotspots for e in h.event_ids if h.kind == "category"
        }
        with pytest.raises(HubError) as denied:
            await c.reports.report(month)
        assert denied.value.code is ErrorCode.FORBIDDEN
        with pytest.raises(HubError) as pdf_denied:
            await c.reports.report_pdf(hub.http_url, month, ssl_context=hub.ssl_context())
        assert pdf_denied.value.code is ErrorCode.FORBIDDEN

    run(hub, "duty", "duty123", duty)


def test_pdf_without_a_session_is_401(hub: HubProcess) -> None:
    async def main() -> int:
        async with (
            hub_session(hub) as s,
            s.get(
                f"{hub.http_url}/api/v1/reports/2026-10.pdf",
                headers={"Authorization": "Bearer nope"},
            ) as r,
        ):
            return r.status

    assert asyncio.run(main()) == 401
