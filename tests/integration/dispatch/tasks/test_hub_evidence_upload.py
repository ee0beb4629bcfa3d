"""Evidence goes to a real `hall-hub` as bytes (issue 12, hole 1): no request carries a
path any more, a wrong SHA-256 stores nothing, the stored file is served back identical
through the grid leader's phone link, and a crafted file id is a 404."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import stat
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import zmq
import zmq.asyncio

from dispatch.client.connection import HubClient
from dispatch.domain.wire import ErrorCode, HubError
from dispatch.hub.demo import DEMO_API_KEY
from dispatch.hub.process import HubProcess
from tests.kit.hub import client_keys, curve_client
from tests.kit.tls import hub_session

pytestmark = pytest.mark.integration

PNG_HEAD = b"\x89PNG\r\n\x1a\n"


def post_event(hub: HubProcess, ref: str) -> str:
    body = {
        "source": "grid_report",
        "source_ref": ref,
        "category": "neighbours",
        "priority": "urgent",
        "title": "楼道堆放杂物",
        "place": {"township": "t01", "village": "v01", "grid": "v01g1", "address": "东街12号"},
    }
    req = urllib.request.Request(
        f"{hub.http_url}/api/v1/events",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "X-Api-Key": DEMO_API_KEY},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=10, context=hub.ssl_context()) as resp:
        return str(json.loads(resp.read())["id"])


def run(fn: Callable[[], Awaitable[Any]]) -> Any:
    async def go() -> Any:
        return await asyncio.wait_for(fn(), 120)

    return asyncio.run(go())


def client(hub: HubProcess) -> HubClient:
    return HubClient(
        hub.req_endpoint,
        hub.pub_endpoint,
        keys=client_keys(hub),
        workstation="evidence-test",
        on_change=lambda ch: None,
        on_connection=lambda st: None,
    )


async def raw_request(hub: HubProcess, body: dict[str, Any]) -> dict[str, Any]:
    """One request frame sent by hand on a DEALER (what an old or hostile console sends)."""
    ctx = zmq.asyncio.Context()
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    curve_client(sock, client_keys(hub))
    try:
        sock.connect(hub.req_endpoint)
        await sock.send(json.dumps(body).encode())
        frame = await asyncio.wait_for(sock.recv(), 10)
        got: dict[str, Any] = json.loads(frame)
        return got
    finally:
        sock.close(linger=0)
        ctx.term()


def stored_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_evidence_is_uploaded_checked_stored_and_served_by_id(
    hub: HubProcess, tmp_path: Path
) -> None:
    store = tmp_path / "evidence"  # beside the hub's hall.db
    db = tmp_path / "hall.db"
    snap = tmp_path / "console" / "cam1_0901.png"
    snap.parent.mkdir()
    data = PNG_HEAD + os.urandom(600 * 1024)  # three chunks
    snap.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()

    async def body() -> None:
        eid = post_event(hub, "ev-1")
        c = client(hub)
        await c.start()
        try:
            await c.login("duty", "duty123")
            task = await c.tasks.dispatch_event(eid)
            # 1. the old request with a path is no request of this hub any more
            old = {
                "v": 1,
                "type": "attach_evidence",
                "rid": "old-1",
                "token": c.token(),
                "event_id": eid,
                "kind": "snapshot",
                "path": str(db),
                "sha256": hashlib.sha256(db.read_bytes()).hexdigest(),
            }
            rep = await raw_request(hub, old)
            assert rep["type"] == "error" and rep["code"] == ErrorCode.INVALID.value
            # nor does the new one take a path beside its fields
            begin = {k: v for k, v in old.items() if k != "type"} | {
                "type": "evidence_begin",
                "size": 10,
            }
            rep = await raw_request(hub, begin)
            assert rep["type"] == "error" and rep["code"] == ErrorCode.INVALID.value
            # 2. a wrong SHA-256 is refused and nothing is stored
            with pytest.raises(HubError) as err:
                await c.tasks.attach_evidence(eid, "snapshot", snap, "0" * 64, size=len(data))
            assert err.value.code is ErrorCode.INVALID and "SHA-256" in err.value.message
            assert stored_files(store) == []
            # bytes that are not what the kind says are refused too
            html = tmp_path / "console" / "page.png"
            html.write_bytes(b"<html><script>alert(1)</script></html>")
            page_sha = hashlib.sha256(html.read_bytes()).hexdigest()
            with pytest.raises(HubError) as err:
                await c.tasks.attach_evidence(eid, "snapshot", html, page_sha, size=9 + 29)
            assert err.value.code is ErrorCode.INVALID and "PNG" in err.value.message
            assert stored_files(store) == []
            assert (await c.tasks.tasks_detail(eid)).attachments == []
            # 3. the real upload: stored under the hub's name, 0600 in a 0700 folder
            att = await c.tasks.attach_evidence(eid, "snapshot", snap, digest, size=len(data))
            assert att.sha256 == digest and att.size == len(data) and att.stored
            assert att.name == "cam1_0901.png" and att.mime == "image/png"
            assert stored_files(store) == [f"{digest}.png"]
            assert stat.S_IMODE(store.stat().st_mode) == 0o700
            assert stat.S_IMODE((store / f"{digest}.png").stat().st_mode) == 0o600
            line = [a.note for a in await c.events.timeline(eid) if str(a.action) == "evidence"]
            assert line == [f"附证据（快照）：cam1_0901.png SHA-256 {digest[:12]}…"]
            link = await c.tasks.issue_phone_link(task.assignee)
        finally:
            await c.stop()
        # 4. served back identical through the phone link, by id; crafted ids are 404
        jar = aiohttp.CookieJar(unsafe=True)
        async with hub_session(hub, base_url=hub.http_url, cookie_jar=jar) as http:
            async with http.post(f"{link.path}/login", data={"pin": link.pin}) as r:
                assert r.status == 200  # followed the 303 to the page
            async with http.get(f"{link.path}/files/{att.id}") as r:
                assert r.status == 200
                assert await r.read() == data
                assert r.headers["Content-Type"] == "image/png"
                assert r.headers["X-Content-Type-Options"] == "nosniff"
                cd = r.headers["Content-Disposition"]
                assert cd.startswith('inline; filename="cam1_0901.png"'), cd
            for crafted in (
                "..%2F..%2Fhall.db",
                "%2e%2e%2fhall.db",
                "hall.db",
                f"{digest}.png",
                "ev-0000000000000000",
                att.id + "%00",
            ):
                async with http.get(f"{link.path}/files/{crafted}") as r:
                    assert r.status == 404, crafted
                    assert await r.read() != db.read_bytes()[:100]

    run(body)


def test_an_upload_is_the_operators_own_and_in_order(hub: HubProcess, tmp_path: Path) -> None:
    async def body() -> None:
        eid = post_event(hub, "ev-2")
        duty, leader = client(hub), client(hub)
        await duty.start()
        await leader.start()
        try:
            await duty.login("duty", "duty123")
            await leader.login("leader", "leader123")
            begin = {
                "v": 1,
                "type": "evidence_begin",
                "rid": "b",
                "token": duty.token(),
                "event_id": eid,
                "kind": "clip",
                "name": "../../etc/passwd",
                "sha256": "a" * 64,
                "size": 4,
            }
            rep = await raw_request(hub, begin)
            assert rep["type"] == "evidence_begin_ok", rep
            chunk = {
                "v": 1,
                "type": "evidence_chunk",
                "rid": "c",
                "token": leader.token(),
                "upload_id": rep["upload_id"],
                "offset": 0,
                "data": "AAAA",
            }
            other = await raw_request(hub, chunk)
            assert other["type"] == "error" and other["code"] == ErrorCode.NOT_FOUND.value
            skipped = await raw_request(hub, chunk | {"token": duty.token(), "offset": 2})
            assert skipped["type"] == "error" and skipped["code"] == ErrorCode.CONFLICT.value
            bogus = {"v": 1, "type": "evidence_begin", "rid": "x", "token": duty.token()}
            rep = await raw_request(hub, bogus | {"event_id": "E-none", "kind": "clip"})
            assert rep["type"] == "error"
        finally:
            await duty.stop()
            await leader.stop()

    run(body)
