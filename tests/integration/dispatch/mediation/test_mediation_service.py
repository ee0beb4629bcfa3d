"""The mediation service in process, on a real SQLite file and the real events service,
with a fake clock: open and close filed on the event's timeline (through the events
service's public API), PIN lockout counted in the store, the host's typed commands and
their presence intervals, and a restarted service taking an open session back."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription

from dispatch.db.store import Store
from dispatch.domain.calendar import WorkCalendar
from dispatch.domain.model import EventIntake, EventSource, Place, Priority, Role
from dispatch.domain.security import SECURITY_LOG
from dispatch.domain.wire import ErrorCode, HubError
from dispatch.events.service import CHINA_TZ, HubService
from dispatch.hub.auth import Session
from dispatch.hub.writer import Committed
from dispatch.links.core import LoginResult
from dispatch.mediation import store as ms
from dispatch.mediation.messages import (
    AdmitIn,
    MediaIn,
    MediationInvite,
    RecordIn,
    RemovedOut,
    RemoveIn,
)
from dispatch.mediation.service import MediationService
from dispatch.mediation.service.facade import CLOSED_KEPT
from dispatch.mediation.service.pushes import Push, StateDue
from streams.webrtc.config import SyntheticCamera, restrict_host_addresses, rtc_configuration
from tests.kit import FakeClock, async_wait_until

pytestmark = pytest.mark.integration

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=CHINA_TZ)
HOST = Session("tok", "duty", Role.DUTY_OFFICER, "ws1")
INVITES = [MediationInvite(role="court", name="王法官"), MediationInvite(role="party", name="李")]


class Rig:
    def __init__(self, tmp: Path) -> None:
        self.url = f"sqlite:///{tmp / 'hall.db'}"
        self.records = tmp / "recordings"
        self.clock = FakeClock(T0)
        self.published: list[Committed] = []

    async def life(self, body: Callable[[HubService, MediationService], Awaitable[Any]]) -> Any:
        hub = HubService(
            Store(self.url),
            clock=self.clock,
            calendar=WorkCalendar(),
            on_publish=self.published.extend,
        )
        await hub.start()
        med = MediationService(hub, record_dir=self.records)
        await med.start()
        await med.start()  # twice is harmless
        try:
            return await body(hub, med)
        finally:
            await med.stop()
            await med.stop()
            await hub.stop()


def run(coro: Awaitable[Any]) -> Any:
    async def go() -> Any:
        return await asyncio.wait_for(coro, 60)

    return asyncio.run(go())


async def new_event(hub: HubService) -> str:
    ev, _ = await hub.intake(
        EventIntake(
            source=EventSource.GRID_REPORT,
            category="neighbours",
            priority=Priority.EMERGENCY,
            title="两户村民因宅基地界线争执",
            place=Place(township="t01", village="v01", grid="v01g1", address="东街12号"),
        )
    )
    return ev.id


def test_open_and_close_are_filed_on_the_timeline(tmp_path: Path) -> None:
    rig = Rig(tmp_path)

    async def body(hub: HubService, med: MediationService) -> None:
        eid = await new_event(hub)
        with pytest.raises(HubError) as nf:
            await med.open(HOST, "no-such-event", INVITES, timedelta(hours=1))
        assert nf.value.code is ErrorCode.NOT_FOUND
        n = len(rig.published)
        sess, links, host_token, host_session = await med.open(
            HOST, eid, INVITES, timedelta(hours=1)
        )
        assert [(x.participant.label, x.participant.name) for x in links] == [
            ("法官", "王法官"),
            ("当事人", "李"),
        ]
        assert len(rig.published) == n + 1  # the opening line went out as a change
        host = med.participant(host_token, host_session)
        assert host is not None and host.host and host.admitted
        rig.clock.set(T0 + timedelta(minutes=12, seconds=5))
        closed, duration, rec = await med.close(HOST, sess.id, "agreement", "界线以溪为准")
        assert closed is sess and duration == 725.0 and rec is None
        with pytest.raises(HubError) as again:
            await med.close(HOST, sess.id, "agreement", "")
        assert again.value.code is ErrorCode.CONFLICT
        assert med.link_status(links[0].token)[0] == "closed"
        lines = {e.action: e.note for e in await hub.timeline(eid)}
        assert "邀请：法官王法官、当事人李" in lines["mediation_open"]
        assert lines["mediation_close"].startswith("【远程调解】结束：达成协议；时长 12分05秒")
        assert "协议要点：界线以溪为准" in lines["mediation_close"]
        row = ms.session(hub.engine, sess.id)
        assert row is not None and row.outcome == "agreement"

    run(rig.life(body))


def test_wrong_pins_lock_the_link_and_count_in_the_store(tmp_path: Path) -> None:
    rig = Rig(tmp_path)

    async def body(hub: HubService, med: MediationService) -> None:
        eid = await new_event(hub)
        sess, links, _, _ = await med.open(HOST, eid, INVITES[:1], timedelta(hours=1))
        court = links[0]
        wrong = "000000" if court.pin != "000000" else "111111"
        first = await med.login(court.token, wrong)
        assert (first.ok, first.reason, first.remaining) == (False, "wrong", 4)
        ok = await med.login(court.token, court.pin)
        assert ok.ok and med.participant(court.token, ok.session) is court.participant
        assert med.participant(court.token, "forged") is None
        for _ in range(4):
            res = await med.login(court.token, wrong)
        assert (res.ok, res.reason) == (False, "locked")
        assert med.link_status(court.token)[0] == "locked"
        assert (await med.login(court.token, court.pin)).reason == "locked"
        (stored,) = [p for p in ms.participants(hub.engine, sess.id) if p.role == "court"]
        assert stored.failures == 5

    run(rig.life(body))


def test_concurrent_guesses_cannot_pass_the_lock(tmp_path: Path) -> None:
    """39 wrong PINs at once and the right one 50 ms later: the right one is refused
    (each attempt is counted before its PIN is checked), and only 4 were "wrong"."""
    rig = Rig(tmp_path)

    async def body(hub: HubService, med: MediationService) -> None:
        eid = await new_event(hub)
        sess, links, _, _ = await med.open(HOST, eid, INVITES[:1], timedelta(hours=1))
        court = links[0]
        wrong = [f"{(int(court.pin) + 1 + i) % 1_000_000:06d}" for i in range(39)]

        async def right() -> LoginResult:
            await asyncio.sleep(0.05)
            return await med.login(court.token, court.pin)

        *bad, good = await asyncio.gather(*(med.login(court.token, w) for w in wrong), right())
        assert (good.ok, good.reason) == (False, "locked")
        assert sum(r.reason == "wrong" for r in bad) == 4
        assert med.link_status(court.token)[0] == "locked"
        (stored,) = [p for p in ms.participants(hub.engine, sess.id) if p.role == "court"]
        assert stored.failures == 5
        rows = hub.store.timeline(SECURITY_LOG)  # the lock, audited once
        assert [(a.action, a.operator) for a in rows] == [("link_locked", f"v:{sess.id}/p1")]

    run(rig.life(body))


def test_host_commands_move_presence_and_reach_the_sockets(tmp_path: Path) -> None:
    rig = Rig(tmp_path)

    async def body(hub: HubService, med: MediationService) -> None:
        eid = await new_event(hub)
        sess, links, host_token, host_session = await med.open(
            HOST, eid, INVITES, timedelta(hours=1)
        )
        host = med.participant(host_token, host_session)
        assert host is not None
        court, party = links[0].participant, links[1].participant
        got: list[Push] = []
        med.connected(host, got.append)
        med.connected(court, lambda _: None)
        assert len(host.intervals) == 1 and court.intervals == []  # the lobby is not presence
        with pytest.raises(HubError) as forbidden:
            await med.command(court, AdmitIn(type="admit", id=court.id))
        assert forbidden.value.code is ErrorCode.FORBIDDEN
        await med.command(court, MediaIn(type="media", audio=False, video=True))
        assert not court.audio_on and court.video_on
        rig.clock.set(T0 + timedelta(minutes=1))
        await med.command(host, AdmitIn(type="admit", id=court.id))
        assert court.admitted and court.intervals == [(rig.clock(), None)]
        with pytest.raises(HubError) as unknown:
            await med.command(host, RemoveIn(type="remove", id="p9"))
        assert unknown.value.code is ErrorCode.NOT_FOUND
        rig.clock.set(T0 + timedelta(minutes=3))
        await med.command(host, RemoveIn(type="remove", id=court.id))
        assert court.removed and court.intervals[-1][1] == rig.clock()
        assert RemovedOut(id=court.id) in got
        await asyncio.sleep(0)  # the scheduled state push
        assert any(isinstance(m, StateDue) for m in got)
        state = med.state_for(host)
        assert [p.id for p in state.participants] == ["host", party.id]  # removed: gone
        assert state.me.host and not state.recording and not state.closed
        assert state.model_dump()["session"] == {"id": sess.id, "event_id": eid}
        stored = {p.id.rsplit("/", 1)[-1]: p for p in ms.participants(hub.engine, sess.id)}
        assert stored[court.id].removed and stored[court.id].intervals == court.intervals
        await med.command(host, RecordIn(type="record", on=False))  # not recording: no-op

    run(rig.life(body))


def test_a_closed_call_frees_its_peer_connections_at_once(tmp_path: Path) -> None:
    """The hub's peer connection of a call is garbage in reference cycles once closed
    (holding codec buffers); closing the session collects it then and there, without
    waiting for a full collection, which the hub makes rare (`gc.freeze()`): here the
    automatic collections are off."""
    rig = Rig(tmp_path)

    async def body(hub: HubService, med: MediationService) -> None:
        eid = await new_event(hub)
        sess, _, host_token, host_session = await med.open(
            HOST, eid, INVITES[:1], timedelta(hours=1)
        )
        host = med.participant(host_token, host_session)
        assert host is not None
        console = RTCPeerConnection(rtc_configuration([]))
        console.addTransceiver(SyntheticCamera("hall", 160, 120), direction="sendonly")
        console.addTransceiver("video", direction="recvonly")
        await console.setLocalDescription(await console.createOffer())
        answer = await med.offer(host, console.localDescription.sdp)
        await console.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        await async_wait_until(lambda: sess.room.state(host.id) == "connected", 30)
        hub_pc = weakref.ref(sess.room._peers[host.id].pc)
        await console.close()
        del console
        await med.close(HOST, sess.id, "agreement", "")
        assert hub_pc() is None

    restrict_host_addresses(["127.0.0.1"])
    gc.disable()
    try:
        run(rig.life(body))
    finally:
        gc.enable()
        restrict_host_addresses(None)


def test_a_closed_session_is_forgotten_after_a_while(tmp_path: Path) -> None:
    """A hub that runs for months keeps only its recent closed sessions: for
    `CLOSED_KEPT` a closed session's link still says it closed (会话已结束), then the
    session leaves the registry with its links and sockets, as after a restart."""
    rig = Rig(tmp_path)

    async def body(hub: HubService, med: MediationService) -> None:
        eid = await new_event(hub)
        old, links, host_token, host_session = await med.open(
            HOST, eid, INVITES, timedelta(hours=1)
        )
        host = med.participant(host_token, host_session)
        assert host is not None
        got: list[Push] = []
        med.connected(host, got.append)
        rig.clock.set(T0 + timedelta(minutes=5))
        await med.close(HOST, old.id, "agreement", "")
        closed_at = rig.clock()
        assert med.link_status(links[0].token)[0] == "closed"

        rig.clock.set(closed_at + CLOSED_KEPT - timedelta(seconds=1))
        kept, _, _, _ = await med.open(HOST, eid, INVITES[:1], timedelta(hours=1))
        assert med.session(old.id) is old  # not yet
        assert med.link_status(links[0].token)[0] == "closed"

        rig.clock.set(closed_at + CLOSED_KEPT + timedelta(seconds=1))
        await med.open(HOST, eid, INVITES[:1], timedelta(hours=1))
        with pytest.raises(HubError) as gone:
            med.session(old.id)
        assert gone.value.code is ErrorCode.NOT_FOUND
        assert med.link_status(links[0].token)[0] == "unknown"
        assert med.link_status(host_token)[0] == "unknown"
        assert med.participant(host_token, host_session) is None
        assert med.session(kept.id) is kept  # open sessions are never forgotten
        assert med._pushes.sessions() == 0  # the old session's socket list went with it
        med.disconnected(host, got.append)  # its page leaving late is harmless
        # the filed record stays on the event whatever the registry forgot
        lines = [e.action for e in await hub.timeline(eid)]
        assert lines.count("mediation_open") == 3 and lines.count("mediation_close") == 1

    run(rig.life(body))


def test_a_restarted_service_takes_the_open_session_back(tmp_path: Path) -> None:
    rig = Rig(tmp_path)

    async def first(hub: HubService, med: MediationService) -> tuple[str, str, str, str]:
        eid = await new_event(hub)
        sess, links, _, _ = await med.open(HOST, eid, INVITES[:1], timedelta(hours=1))
        login = await med.login(links[0].token, links[0].pin)
        return sess.id, links[0].token, login.session, links[0].participant.id

    sid, token, cookie, pid = run(rig.life(first))
    rig.clock.set(T0 + timedelta(minutes=5))

    async def second(hub: HubService, med: MediationService) -> None:
        sess = med.session(sid)
        assert sess.restored_at == rig.clock()
        p = med.participant(token, cookie)  # the stateless cookie still works
        assert p is not None and p.id == pid and not p.admitted
        assert list(sess.participants) == ["host", pid]

    run(rig.life(second))
