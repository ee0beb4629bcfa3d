"""HubClient against a real hall-hub process over real zmq sockets on loopback."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from dispatch.client.connection import HubClient
from dispatch.client.state import ConnectionState, ConnectionStatus, EventRemoved
from dispatch.db.store import Store
from dispatch.domain.model import Action, EventState, Role
from dispatch.domain.wire import AuthError, ErrorCode, HubError
from dispatch.events.messages import EventChanged
from dispatch.events.service import HubService
from dispatch.hub.process import TEST_CONSOLE, HubProcess
from tests.kit import async_wait_until
from tests.kit.hub import HUB_API_KEY, client_keys
from tests.kit.tls import hub_session

pytestmark = pytest.mark.integration


def run(coro: Any, timeout: float = 90) -> Any:
    return asyncio.run(asyncio.wait_for(coro, timeout))


class Recorder:
    def __init__(self) -> None:
        self.changes: list[EventChanged] = []
        self.states: list[ConnectionState] = []

    def change(self, ch: EventChanged) -> None:
        self.changes.append(ch)

    def conn(self, st: ConnectionState) -> None:
        self.states.append(st)


def client(hub: HubProcess, rec: Recorder, ws: str = "席位1") -> HubClient:
    return HubClient(
        hub.req_endpoint,
        hub.pub_endpoint,
        keys=client_keys(hub),
        workstation=ws,
        on_change=rec.change,
        on_connection=rec.conn,
    )


async def post(hub: HubProcess, n: int, *, ref: str | None = None) -> dict[str, Any]:
    body = {
        "source": "grid_report",
        "source_ref": ref or f"g-{n}",
        "category": "neighbours",
        "title": f"邻里纠纷 {n}",
        "place": {"township": "t01"},
    }
    async with (
        hub_session(hub) as s,
        s.post(f"{hub.http_url}/api/v1/events", json=body, headers={"X-Api-Key": HUB_API_KEY}) as r,
    ):
        assert r.status in (200, 201), await r.text()
        ev: dict[str, Any] = await r.json()
        return ev


def test_two_clients_see_the_same_change(hub: HubProcess) -> None:
    async def go() -> None:
        ra, rb = Recorder(), Recorder()
        a, b = client(hub, ra, "席位1"), client(hub, rb, "席位2")
        await a.start()
        await b.start()
        try:
            await a.login("duty", "duty123")
            await b.login("leader", "leader123")
            ev = await post(hub, 1)
            await async_wait_until(
                lambda: ev["id"] in a.events.view() and ev["id"] in b.events.view()
            )
            assert a.last_seq == b.last_seq
            changed = await a.events.act(ev["id"], Action.REGISTER, note="已登记")
            assert changed.state is EventState.REGISTERED
            await async_wait_until(lambda: b.events.view()[ev["id"]].state is EventState.REGISTERED)
            got = [c for c in rb.changes if c.event.id == ev["id"]][-1]
            # the session is the enrolled console's (declared "席位1", enrolled TEST_CONSOLE)
            assert got.audit[0].operator == "duty" and got.audit[0].workstation == TEST_CONSOLE
            tl = await b.events.timeline(ev["id"])
            assert [e.action for e in tl] == ["accept", Action.REGISTER]
            assert tl[-1].workstation == TEST_CONSOLE
            assert ra.states[-1].status is ConnectionStatus.CONNECTED
        finally:
            await a.stop()
            await b.stop()
            await a.stop()

    run(go())


def test_auth_forbidden_and_transition_errors(hub: HubProcess) -> None:
    async def go() -> None:
        rec = Recorder()
        c = client(hub, rec)
        await c.start()
        try:
            with pytest.raises(AuthError):
                await c.login("duty", "wrong")
            with pytest.raises(AuthError):
                await c.login("nobody", "duty123")
            with pytest.raises(AuthError):
                await c.events.act("E-1", Action.REGISTER)  # not logged in
            await c.login("duty", "duty123")
            ev = await post(hub, 2)
            with pytest.raises(HubError) as e1:
                await c.events.act(ev["id"], Action.ARCHIVE)
            assert e1.value.code is ErrorCode.TRANSITION
            assert "accepted" in e1.value.message or "已受理" in e1.value.message
            await c.events.act(ev["id"], Action.REGISTER)
            await c.events.act(ev["id"], Action.ROUTE, assignee="城关镇司法所")
            await c.events.act(
                ev["id"], Action.REQUEST_EXTENSION, note="需现场测量", extension_days=2
            )
            with pytest.raises(HubError) as e2:
                await c.events.act(ev["id"], Action.GRANT_EXTENSION)
            assert e2.value.code is ErrorCode.FORBIDDEN
            await c.events.act(ev["id"], Action.START_HANDLING)
            await c.events.act(ev["id"], Action.FEEDBACK, note="已调解")
            with pytest.raises(HubError) as e3:
                await c.events.act(ev["id"], Action.ARCHIVE)  # duty officer: not verified yet
            assert e3.value.code is ErrorCode.FORBIDDEN
            with pytest.raises(HubError) as e4:
                await c.events.act("E-nope", Action.REGISTER)
            assert e4.value.code is ErrorCode.NOT_FOUND
            await c.login("leader", "leader123")
            await c.events.act(ev["id"], Action.ARCHIVE)
            await async_wait_until(lambda: ev["id"] not in c.events.view())
        finally:
            await c.stop()

    run(go())


def test_client_that_missed_changes_resyncs_to_the_same_view(hub: HubProcess) -> None:
    async def go() -> None:
        ra, rb = Recorder(), Recorder()
        a, b = client(hub, ra), client(hub, rb)
        await a.start()
        await b.start()
        try:
            await a.login("duty", "duty123")
            await b.login("duty", "duty123")
            first = await post(hub, 10)
            await async_wait_until(lambda: first["id"] in b.events.view())
            assert b.transport.sub is not None
            b.transport.sub.disconnect(hub.pub_endpoint)  # b misses what follows
            ids = [(await post(hub, 11 + i))["id"] for i in range(5)]
            await a.events.act(first["id"], Action.REGISTER)
            await async_wait_until(lambda: all(i in a.events.view() for i in ids))
            assert not any(i in b.events.view() for i in ids)
            resyncs = b.resyncs
            b.transport.sub.connect(hub.pub_endpoint)
            # the next heartbeat's seq is ahead of b's: b asks for the changes since
            await async_wait_until(lambda: b.last_seq == a.last_seq and b.resyncs > resyncs, 10)
            assert b.events.view() == a.events.view()
            assert b.events.colours() == a.events.colours()
        finally:
            await a.stop()
            await b.stop()

    run(go())


def _port(endpoint: str) -> int:
    return int(endpoint.rsplit(":", 1)[1])


def test_hub_restart_client_shows_lost_then_catches_up(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'hall.db'}"
    hub = HubProcess(db, demo=True)
    hub.start(timeout_s=60)
    fixed = dict(
        http_port=int(hub.http_url.rsplit(":", 1)[1]),
        zmq_req=hub.req_endpoint,
        zmq_pub=hub.pub_endpoint,
    )

    async def go() -> None:
        rec = Recorder()
        c = client(hub, rec)
        await c.start()
        try:
            await c.login("duty", "duty123")
            ev = await post(hub, 1)
            await async_wait_until(lambda: ev["id"] in c.events.view())
            hub.kill()
            await async_wait_until(lambda: c.state.status is ConnectionStatus.LOST, 10)
            assert c.state.lost_at is not None
            assert ev["id"] in c.events.view()  # keeps what it shows
            hub2 = HubProcess(db, demo=True, **fixed)  # type: ignore[arg-type]
            await asyncio.to_thread(hub2.start, 60)
            try:
                ev2 = await post(hub2, 2)
                await async_wait_until(
                    lambda: (
                        c.state.status is ConnectionStatus.CONNECTED
                        and ev2["id"] in c.events.view()
                    ),
                    15,
                )
                assert ev["id"] in c.events.view()
                changed = await c.events.act(
                    ev2["id"], Action.REGISTER
                )  # logged in again by itself
                assert changed.state is EventState.REGISTERED
                statuses = [s.status for s in rec.states]
                lost = statuses.index(ConnectionStatus.LOST)
                assert ConnectionStatus.CONNECTED in statuses[lost:]
            finally:
                hub2.stop()
        finally:
            await c.stop()

    try:
        run(go())
    finally:
        hub.stop()


async def _archive_offline(db: str, event_id: str) -> None:
    """Close an event through the hub's service on the same database while no hub
    process runs (so no client can hear about it)."""
    svc = HubService(Store(db))
    await svc.start()
    try:
        leader = svc.sessions.open("leader", Role.SUPERVISOR, "席位9")
        await svc.act(leader, event_id, Action.REGISTER)
        await svc.act(leader, event_id, Action.ROUTE, assignee="城关镇司法所")
        await svc.act(leader, event_id, Action.START_HANDLING)
        await svc.act(leader, event_id, Action.FEEDBACK, note="已调解")
        await svc.act(leader, event_id, Action.ARCHIVE, note="办结")
    finally:
        await svc.stop()


def test_event_closed_while_client_away_is_delivered_not_dropped(tmp_path: Path) -> None:
    """A full snapshot lacks the events closed meanwhile: the client must say so."""
    db = f"sqlite:///{tmp_path / 'hall.db'}"
    hub = HubProcess(db, demo=True)
    hub.start(timeout_s=60)
    fixed = dict(
        http_port=int(hub.http_url.rsplit(":", 1)[1]),
        zmq_req=hub.req_endpoint,
        zmq_pub=hub.pub_endpoint,
    )
    removed: list[EventRemoved] = []
    hubs = [hub]

    async def go() -> None:
        rec = Recorder()
        c = HubClient(
            hub.req_endpoint,
            hub.pub_endpoint,
            keys=client_keys(hub),
            workstation="席位1",
            on_change=rec.change,
            on_connection=rec.conn,
            on_remove=removed.append,
        )
        await c.start()
        try:
            await c.login("duty", "duty123")
            closed = await post(hub, 1)
            kept = await post(hub, 2)
            await async_wait_until(
                lambda: closed["id"] in c.events.view() and kept["id"] in c.events.view()
            )
            hub.kill()
            await async_wait_until(lambda: c.state.status is ConnectionStatus.LOST, 10)
            await _archive_offline(db, closed["id"])
            full = c.full_snapshots
            hub2 = HubProcess(db, demo=True, **fixed)  # type: ignore[arg-type]
            hubs.append(hub2)
            await asyncio.to_thread(hub2.start, 60)

            def final_state() -> EventState:
                return [ch for ch in rec.changes if ch.event.id == closed["id"]][-1].event.state

            # told, with its final state, and then no longer in the view
            await async_wait_until(
                lambda: final_state() is EventState.ARCHIVED, 15, what="archive not told"
            )
            assert closed["id"] not in c.events.view()
            assert c.full_snapshots > full  # it did come from a full snapshot
            assert kept["id"] in c.events.view()
            assert removed == []
            # a hub on another database has no record of what the client shows
            hub2.stop()
            hub3 = HubProcess(f"sqlite:///{tmp_path / 'other.db'}", demo=True, **fixed)  # type: ignore[arg-type]
            hubs.append(hub3)
            await asyncio.to_thread(hub3.start, 60)
            await async_wait_until(
                lambda: kept["id"] not in c.events.view(), 15, what="vanished event still shown"
            )
            assert [r.event_id for r in removed] == [kept["id"]]
            assert c.events.view() == {}
        finally:
            await c.stop()

    try:
        run(go())
    finally:
        for h in hubs:
            h.stop()


def test_sigkill_during_intake_loses_no_acknowledged_event(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'hall.db'}"
    hub = HubProcess(db, demo=True)
    hub.start(timeout_s=60)
    acked: dict[str, str] = {}  # source_ref -> id of every 201/200

    async def load() -> None:
        async with hub_session(hub) as s:

            async def one(n: int) -> None:
                body = {
                    "source": "hotline_12345",
                    "source_ref": f"k-{n}",
                    "category": "wages",
                    "title": f"讨薪 {n}",
                }
                try:
                    async with s.post(
                        f"{hub.http_url}/api/v1/events",
                        data=json.dumps(body),
                        headers={"X-Api-Key": HUB_API_KEY},
                    ) as r:
                        if r.status in (200, 201):
                            acked[f"k-{n}"] = (await r.json())["id"]
                except (TimeoutError, aiohttp.ClientError):
                    pass  # the hub died under this request: not acknowledged

            async def worker(start: int) -> None:
                for n in range(start, start + 10_000, 16):
                    await one(n)

            tasks = [asyncio.create_task(worker(i)) for i in range(16)]
            await async_wait_until(lambda: len(acked) >= 300, 60)
            hub.kill()
            await asyncio.gather(*tasks)

    try:
        run(load())
        assert len(acked) >= 300
        hub2 = HubProcess(db, demo=True)
        hub2.start(timeout_s=60)
        try:

            async def check() -> list[dict[str, Any]]:
                out: list[dict[str, Any]] = []
                async with hub_session(hub2) as s:
                    offset = 0
                    while True:
                        async with s.get(
                            f"{hub2.http_url}/api/v1/events",
                            params={"limit": "1000", "offset": str(offset)},
                            headers={"X-Api-Key": HUB_API_KEY},
                        ) as r:
                            page = (await r.json())["events"]
                        out += page
                        offset += len(page)
                        if not page:
                            return out

            stored = run(check())
        finally:
            hub2.stop()
        refs = [e["source_ref"] for e in stored]
        assert len(refs) == len(set(refs))  # none twice
        by_ref = {e["source_ref"]: e["id"] for e in stored}
        missing = [r for r in acked if r not in by_ref]
        assert missing == []
        assert all(by_ref[r] == i for r, i in acked.items())
    finally:
        hub.stop()


def test_stop_right_after_a_timed_out_request_returns() -> None:
    """A hub that does not answer: the request times out, the DEALER is renewed, and the
    console closes at once (the reply loop never saw the swap). `stop()` must return, not
    wait forever in zmq's context term on the old DEALER (seen in CI: a console's login
    timed out under load and its shutdown hung until pytest's timeout)."""
    import threading

    import zmq

    ctx = zmq.Context()
    silent = ctx.socket(zmq.ROUTER)  # binds, reads, never answers
    silent.setsockopt(zmq.LINGER, 0)
    port = silent.bind_to_random_port("tcp://127.0.0.1")
    outcome: list[object] = []

    async def body() -> None:
        rec = Recorder()
        c = HubClient(
            f"tcp://127.0.0.1:{port}",
            f"tcp://127.0.0.1:{port + 1}",
            keys=None,  # a plain ROUTER: CURVE plays no part in this
            workstation="席位1",
            on_change=rec.change,
            on_connection=rec.conn,
            request_timeout_s=0.3,
        )
        await c.start()
        try:
            await c.login("duty", "duty123")
        except HubError as exc:
            outcome.append(exc.code)
        finally:
            await c.stop()  # no await in between: the old DEALER is still open
        outcome.append("stopped")

    t = threading.Thread(target=lambda: asyncio.run(body()), daemon=True)
    try:
        t.start()
        t.join(timeout=30)
        assert not t.is_alive(), "HubClient.stop() hung after a timed-out request"
        assert outcome == [ErrorCode.TIMEOUT, "stopped"]
    finally:
        silent.close(linger=0)
        ctx.term()
