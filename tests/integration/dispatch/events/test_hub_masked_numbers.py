"""A reporter's phone and ID numbers never leave a real `hall-hub` whole, except by an
audited request of a role allowed to see them (issue 12, hole 2).

A raw SUB socket takes every published frame during intake and a workflow (register,
route, handle, a task dispatched, a timeline line); the replies a console gets
(snapshot, events by id, act) are read raw too; the whole numbers appear in none of
them. A duty officer asking for the full number is refused (and audited); a supervisor
gets it, with an audit row and a timeline line.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import zmq
import zmq.asyncio

from dispatch.client.connection import HubClient
from dispatch.db.store import Store
from dispatch.domain.model import Action
from dispatch.domain.wire import ErrorCode, HubError
from dispatch.events import store as es
from dispatch.hub.demo import DEMO_API_KEY
from dispatch.hub.process import HubProcess
from tests.kit.hub import client_keys, curve_client

pytestmark = pytest.mark.integration

PHONE = "13812345678"
ID_NUMBER = "11010119900307123X"
WHOLE = (PHONE.encode(), ID_NUMBER.encode(), b"12345678", b"199003071")


def post_event(hub: HubProcess, ref: str) -> str:
    body = {
        "source": "hotline_12345",
        "source_ref": ref,
        "category": "neighbours",
        "priority": "urgent",
        "title": "噪音扰民",
        "place": {"township": "t01", "village": "v01", "grid": "v01g1", "address": "东街12号"},
        "reporter": {"name": "李先生", "phone": PHONE, "id_number": ID_NUMBER},
    }
    req = urllib.request.Request(
        f"{hub.http_url}/api/v1/events",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "X-Api-Key": DEMO_API_KEY},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=10, context=hub.ssl_context()) as resp:
        got: dict[str, Any] = json.loads(resp.read())
    return str(got["id"])


def run(fn: Callable[[], Awaitable[Any]]) -> Any:
    async def go() -> Any:
        return await asyncio.wait_for(fn(), 120)

    return asyncio.run(go())


def client(hub: HubProcess, name: str) -> HubClient:
    return HubClient(
        hub.req_endpoint,
        hub.pub_endpoint,
        keys=hub.enrol_console(name),  # the session's workstation is the enrolled name
        workstation=name,
        on_change=lambda ch: None,
        on_connection=lambda st: None,
    )


class RawSub:
    """Every frame the hub publishes, as bytes (no decoding, no login)."""

    def __init__(self, hub: HubProcess) -> None:
        self.ctx = zmq.asyncio.Context()
        self.sock = self.ctx.socket(zmq.SUB)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.setsockopt(zmq.SUBSCRIBE, b"")
        curve_client(self.sock, client_keys(hub))  # an enrolled console, not logged in
        self.sock.connect(hub.pub_endpoint)
        self.frames: list[bytes] = []
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            self.frames.append(await self.sock.recv())

    async def until(self, needle: bytes) -> None:
        async def wait() -> None:
            while not any(needle in f for f in self.frames):
                await asyncio.sleep(0.02)

        await asyncio.wait_for(wait(), 15)

    async def close(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        self.sock.close(linger=0)
        self.ctx.term()


async def raw_request(hub: HubProcess, body: dict[str, Any]) -> bytes:
    ctx = zmq.asyncio.Context()
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    curve_client(sock, client_keys(hub))
    try:
        sock.connect(hub.req_endpoint)
        await sock.send(json.dumps(body).encode())
        frame: bytes = await asyncio.wait_for(sock.recv(), 10)
        return frame
    finally:
        sock.close(linger=0)
        ctx.term()


def assert_masked(frames: list[bytes]) -> None:
    for f in frames:
        for whole in WHOLE:
            assert whole not in f, f[:400]


def test_published_changes_and_replies_carry_masked_numbers(
    hub: HubProcess, tmp_path: Path
) -> None:
    async def body() -> None:
        sub = RawSub(hub)
        duty, leader = client(hub, "ws-duty"), client(hub, "ws-leader")
        await asyncio.sleep(1.5)  # the hub rereads its enrolment book every 0.5 s
        await duty.start()
        await leader.start()
        try:
            await duty.login("duty", "duty123")
            await leader.login("leader", "leader123")
            await sub.until(b'"heartbeat"')  # subscribed before the first change
            eid = post_event(hub, "r-1")
            assert post_event(hub, "r-1") == eid  # a repeat answers the first
            await sub.until(eid.encode())
            ev = await duty.events.act(eid, Action.REGISTER, note="已登记")
            assert ev.reporter.phone == "138****5678"
            assert ev.reporter.id_number == "110101********123X"
            await duty.events.act(eid, Action.ROUTE, assignee="城关镇司法所")
            await duty.events.act(eid, Action.START_HANDLING)
            await duty.tasks.dispatch_event(eid)
            replies = []
            for req in (
                {"type": "snapshot"},
                {"type": "snapshot", "since": 0},
                {"type": "events", "ids": [eid]},
                {"type": "timeline", "event_id": eid},
                {"type": "act", "event_id": eid, "action": "note", "note": "电话回访"},
            ):
                base = {"v": 1, "rid": "r", "token": duty.token()}
                replies.append(await raw_request(hub, base | req))
            assert b"138****5678" in replies[0] and b'"events_ok"' in replies[2]
            # the audited request: refused for a duty officer, granted to a supervisor
            with pytest.raises(HubError) as err:
                await duty.events.reveal(eid, "phone", "回访核实")
            assert err.value.code is ErrorCode.FORBIDDEN
            assert await leader.events.reveal(eid, "phone", "回访核实身份") == PHONE
            assert await leader.events.reveal(eid, "id_number", "核对身份证") == ID_NUMBER
            await sub.until("核对身份证".encode())
            line = [a for a in await leader.events.timeline(eid) if str(a.action) == "reveal"]
            assert [(a.operator, a.note) for a in line] == [
                ("leader", "查看完整联系电话：回访核实身份"),
                ("leader", "查看完整身份证号：核对身份证"),
            ]
        finally:
            await duty.stop()
            await leader.stop()
            await sub.close()
        published = [f for f in sub.frames if b'"event_changed"' in f]
        assert len(published) >= 6 and any(b"138****5678" in f for f in published)
        assert_masked(sub.frames)
        assert_masked(replies)
        store = Store(f"sqlite:///{tmp_path / 'hall.db'}")
        store.open()
        try:
            rows = es.reveals(store.engine, eid)
            assert [(r.operator, r.role, r.field, r.granted, r.reason) for r in rows] == [
                ("duty", "duty_officer", "phone", False, "回访核实"),
                ("leader", "supervisor", "phone", True, "回访核实身份"),
                ("leader", "supervisor", "id_number", True, "核对身份证"),
            ]
            assert rows[1].workstation == "ws-leader"
            whole = store.get_event(eid)
            assert whole is not None and whole.reporter.phone == PHONE  # kept whole at rest
        finally:
            store.close()

    run(body)
