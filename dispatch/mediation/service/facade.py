"""Remote video mediation sessions at the hub (issue 5): the one object the hub, the zmq
server and the web layer talk to.

The hub is the media centre of a star (see docs/mediation.md): every participant — the
console in the hall and each browser — has one peer connection to the hub's `Room`.
The service owns the sessions: the invited participants and their links (a random
token in the URL, a 6-digit PIN hashed with PBKDF2, an expiry, a lockout after
`MAX_PIN_FAILURES` wrong PINs), the lobby (the officer admits or removes), presence
(join/leave intervals), mute state, recording on/off, and the filing on close. Its parts,
one concept each, sit beside it: `sessions` (the registry and link checks), `filing`
(open and close on the event's timeline), `durable` (written as it happens, loaded back
after a restart), `recording`, `pushes` (what the sockets are told). The rules of a
participant are pure, in `dispatch.mediation.core`; the page's wire is
`dispatch.mediation.messages`; the HTTP/WebSocket face is `dispatch.mediation.web`.

Everything it writes goes through the events service's public API (`commit`,
`append_timeline`, `require_event`), passed in to the constructor.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

from dispatch.db.store import append_audit
from dispatch.domain.security import CLIENT, security_entry
from dispatch.domain.wire import ErrorCode, HubError
from dispatch.events.service import HubService
from dispatch.hub import heap
from dispatch.hub.auth import Session
from dispatch.links.core import LoginResult, pin_failure, sign_cookie, verify_pin
from dispatch.mediation import store as ms
from dispatch.mediation.core import (
    OUTCOME_LABELS,
    LinkStatus,
    Participant,
    close_line,
    recording_line,
    total_seconds,
)
from dispatch.mediation.media import MediationConfig, PlacementRefused, place
from dispatch.mediation.messages import (
    AdmitIn,
    ClosedOut,
    HostCommand,
    MediaIn,
    MediationInvite,
    PageInMsg,
    RecordIn,
    RemovedOut,
    RemoveIn,
    StateOut,
)
from dispatch.mediation.service import filing
from dispatch.mediation.service.durable import Durable, restore
from dispatch.mediation.service.janus import JanusRooms
from dispatch.mediation.service.pushes import Listener, Pushes, state_for
from dispatch.mediation.service.recording import Recording, sha256_file
from dispatch.mediation.service.sessions import MediationSession, Sessions
from streams.webrtc.config import IceSource, static_ice
from streams.webrtc.room import Room

log = logging.getLogger(__name__)

# how long a closed session's links still answer 'closed' (会话已结束) before they
# read 'unknown' as after a restart; a page reloaded after a call ends is told why
CLOSED_KEPT = timedelta(minutes=30)

# (session, the invited participants' links with their PINs, host link token, host session)
Opened = tuple[MediationSession, list[filing.Link], str, str]


class MediationService:
    def __init__(
        self,
        events: HubService,
        *,
        ice: IceSource | None = None,
        keep_hosts: Sequence[str] | None = None,
        record_dir: Path,
        forward: bool = True,
        share_encoding: bool = True,
        placement: MediationConfig | None = None,
    ) -> None:
        self._events = events
        self.forward = forward
        self.share_encoding = share_encoding
        self.ice: IceSource = ice or static_ice()  # name → servers (minted TURN credentials)
        self.keep_hosts = list(keep_hosts) if keep_hosts else None
        self._sessions = Sessions(events.clock)
        self._pushes = Pushes(self._before_push)
        self._recording = Recording(record_dir, self._pushes.broadcast)
        self._durable = Durable(events, self._sessions)
        # sessions beyond the star's 6 parties (or all, by configuration) on Janus; the
        # hub hands its engine over (`janus.media`) when `[janus]` has one
        self.placement = placement or MediationConfig()
        self.janus = JanusRooms(record_dir, self._pushes.broadcast)
        self._janus_poll: asyncio.Task[None] | None = None
        # this hub process: a page or console that sees it change rejoins at once
        self.epoch = secrets.token_hex(4)
        self._started = False

    async def start(self) -> None:
        """Load the open sessions back (a restarted hub) and start writing liveness."""
        if self._started:
            return
        self._started = True
        for row in await self._durable.open_rows():
            sess = restore(row, self._room(row.row.id), self._events.clock())
            self._sessions.add(sess)
            if row.recording_on:
                try:
                    await self._recording.start(sess)
                except Exception:
                    log.exception("could not resume the recording of %s", sess.id)
            await self._durable.save(sess)
            log.info(
                "mediation session %s restored (%d participants)", sess.id, len(row.participants)
            )
        self._durable.start()
        self._janus_poll = asyncio.create_task(self._poll_janus(), name="mediation-janus")

    async def _poll_janus(self, every_s: float = 1.0) -> None:
        """Who publishes in each Janus room (the pages' media state), pushed on change."""
        while True:
            await asyncio.sleep(every_s)
            for s in self._sessions:
                live = s.janus is not None and s.closed_at is None
                if live and s.janus is not None and await self.janus.refresh(s.id, s.janus):
                    self._pushes.schedule(s.id)

    async def stop(self) -> None:
        poll, self._janus_poll = self._janus_poll, None
        if poll is not None:
            poll.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poll
        await self._durable.stop()
        for s in self._sessions:
            if s.closed_at is None:
                try:
                    await self._durable.save(s)
                except Exception:
                    log.debug("could not write session %s at stop", s.id, exc_info=True)
            await self._end_media(s, finish=False)  # a Janus recording: left as .mjr
        self._started = False

    def _room(self, sid: str) -> Room:
        return Room(
            sid,
            ice=self.ice,
            keep_hosts=self.keep_hosts,
            on_change=lambda: self._pushes.schedule(sid),
            # one VP8 encode per sender, shared by its receivers (false: the old encode
            # per receiver, for the benchmark's comparison; hub config webrtc.share_encoding)
            share_encoding=self.share_encoding,
            forward=self.forward,
        )

    def _forget_closed(self, now: datetime) -> None:
        """Sessions closed more than `CLOSED_KEPT` ago leave the registry with their
        links and sockets: a hub that runs for months holds only the recent ones."""
        for sid in self._sessions.prune(now - CLOSED_KEPT):
            self._pushes.forget(sid)
            log.debug("mediation session %s forgotten (closed)", sid)

    # -- lookups -----------------------------------------------------------------------------
    def session(self, sid: str) -> MediationSession:
        return self._sessions.get(sid)

    def link_status(self, token: str) -> tuple[LinkStatus, Participant | None]:
        """('ok' | 'unknown' | 'expired' | 'locked' | 'closed', the participant)."""
        return self._sessions.link_status(token)

    def participant(self, token: str, bearer: str | None) -> Participant | None:
        """The participant of a session token, if valid for this link now."""
        return self._sessions.participant(token, bearer)

    # -- console side -------------------------------------------------------------------------
    async def open(
        self, by: Session, event_id: str, invites: Sequence[MediationInvite], ttl: timedelta
    ) -> Opened:
        """(session, [(participant, link token, PIN)], host link token, host session)."""
        parties = len(invites) + 1  # the console too
        try:
            where = place(self.placement, parties, janus=self.janus.available())
        except PlacementRefused as e:
            log.warning("mediation of %d parties refused: %s", parties, e)
            raise HubError(ErrorCode.INVALID, str(e)) from e
        ev = await self._events.require_event(event_id)
        now = self._events.clock()
        self._forget_closed(now)
        sid = f"M{now:%Y%m%d}-{secrets.token_hex(4)}"
        log.info("mediation %s: %d parties on %s (%s)", sid, parties, where.engine, where.reason)
        sess = MediationSession(sid, ev.id, by.operator, now, self._room(sid))
        host, host_link = filing.host_of(sid, by, now + ttl)
        links = await filing.invite(sid, invites, now + ttl)
        for p in [host, *(link.participant for link in links)]:
            sess.participants[p.id] = p
        if where.engine == "janus":
            sess.janus = await self.janus.open(sid, f"调解 {sid}", parties)
            await self.janus.admit(sid, sess.janus, host)
        invited = "、".join(f"{x.participant.label}{x.participant.name}" for x in links)
        note = f"【远程调解】发起会话 {sid}，邀请：{invited}"
        audit = filing.audit_line(ev, by, now, "mediation_open", note)
        await self._events.commit(filing.open_job(self._events, sess, audit))
        self._sessions.add(sess)
        return sess, links, host_link.token, host_link.session

    async def close(
        self, by: Session, sid: str, outcome: str, notes: str
    ) -> tuple[MediationSession, float, Path | None]:
        """End the media, stop recording, file the session on the event."""
        sess = self._sessions.get(sid)
        if sess.closed_at is not None:
            raise HubError(ErrorCode.CONFLICT, f"调解会话 {sid} 已结束")
        if outcome not in OUTCOME_LABELS:
            raise HubError(ErrorCode.INVALID, f"未知的调解结果 {outcome!r}")
        now = self._events.clock()
        for p in sess.participants.values():
            p.end(now)
        sess.closed_at = now
        self._forget_closed(now)
        self._pushes.broadcast(sid, ClosedOut(outcome=OUTCOME_LABELS[outcome]))
        await self._end_media(sess)
        # the call's peer connections are garbage in cycles now, holding codec buffers:
        # freed at once, not at the next (rare) full collection (`dispatch.hub.heap`)
        await heap.release()
        files = [
            (r, await asyncio.to_thread(sha256_file, r)) for r in sess.recordings if r.is_file()
        ]
        duration = (now - sess.opened_at).total_seconds()
        people = [
            (p.label, p.name, total_seconds(p.intervals, now))
            for p in sess.participants.values()
            if p.intervals
        ]
        ev = await self._events.require_event(sess.event_id)
        line = close_line(outcome, duration, people, notes) + recording_line(files)
        audit = filing.audit_line(ev, by, now, "mediation_close", line[:5000])
        closing = filing.Closing(outcome, notes, duration, files)
        await self._events.commit(filing.close_job(self._events, sess, closing, audit))
        return sess, duration, files[-1][0] if files else None

    async def _end_media(self, sess: MediationSession, *, finish: bool = True) -> None:
        await self._recording.stop(sess)
        await sess.room.close()
        if sess.janus is not None and finish:
            n = len(sess.recordings) + 1
            mp4 = await self.janus.close(sess.id, sess.janus, n)
            if mp4 is not None:
                sess.recordings.append(mp4)

    # -- participants --------------------------------------------------------------------------
    async def login(self, token: str, pin: str) -> LoginResult:
        status, p = self._sessions.link_status(token)
        if status != "ok" or p is None:
            return LoginResult.refused(status)
        # the attempt is counted before the PIN is checked (no await between the
        # status and the count: concurrent guesses cannot slip past the lock)
        p.failures += 1
        count = p.failures
        pid = f"{p.session_id}/{p.id}"
        # the job writes the count in memory when it runs: the latest one wins
        await self._events.commit(lambda tx: ms.set_failures(tx.conn, pid, p.failures))
        if p.pin_hash is None or not await asyncio.to_thread(verify_pin, pin, p.pin_hash):
            wrong = pin_failure(count)
            if wrong.locked:  # audited in the security log, with the client's address
                now = self._events.clock()
                entry = security_entry(now, "link", f"v:{pid}", CLIENT.get())
                await self._events.commit(lambda tx: append_audit(tx.conn, [entry]))
            return LoginResult.wrong(wrong)
        p.failures = max(0, p.failures - 1)  # a right PIN is not a failure (no reset)
        await self._events.commit(lambda tx: ms.set_failures(tx.conn, pid, p.failures))
        return LoginResult.granted(sign_cookie(token, p.pin_hash))

    async def offer(self, p: Participant, sdp: str) -> str:
        """The SDP answer; only admitted participants get media."""
        if not p.admitted:
            raise HubError(ErrorCode.FORBIDDEN, "请在等候室等待主持人准许入会")
        sess = self._sessions.of(p)
        if sess.janus is not None:
            raise HubError(ErrorCode.CONFLICT, "本次调解在 Janus 上进行，请刷新页面")
        answer = await sess.room.answer(p.id, sdp)
        self._recording.follow(sess)
        return answer

    def connected(self, p: Participant, fn: Listener) -> None:
        """A WebSocket of `p` opened: presence, and pushes to `fn`."""
        self._pushes.listen(p.session_id, fn)
        if p.socket_opened(self._events.clock()):
            self._durable.changed(self._sessions.of(p))
        self._pushes.schedule(p.session_id)

    def disconnected(self, p: Participant, fn: Listener) -> None:
        self._pushes.unlisten(p.session_id, fn)
        sess = self._sessions.find(p.session_id)
        if sess is None:  # a page of a forgotten session leaving
            return
        if p.socket_closed(self._events.clock()):
            self._durable.changed(sess)
        self._pushes.schedule(p.session_id)

    async def command(self, p: Participant, msg: PageInMsg) -> None:
        """A message from a participant's WebSocket (mute state; the host's controls)."""
        sess = self._sessions.of(p)
        if isinstance(msg, MediaIn):
            p.audio_on, p.video_on = msg.audio, msg.video
            self._pushes.schedule(sess.id)
            return
        if not p.host:
            raise HubError(ErrorCode.FORBIDDEN, "只有主持人可以执行此操作")
        await self._host_command(sess, msg)
        await self._durable.save(sess)
        self._pushes.schedule(sess.id)

    async def _host_command(self, sess: MediationSession, msg: HostCommand) -> None:
        now = self._events.clock()
        if isinstance(msg, AdmitIn):
            q = sess.participants.get(msg.id)
            if q is None or q.removed:
                raise HubError(ErrorCode.NOT_FOUND, "参与人不存在")
            if sess.janus is not None:  # its token first: no admitted party without one
                await self.janus.admit(sess.id, sess.janus, q)
            q.admit(now)
        elif isinstance(msg, RemoveIn):
            q = sess.participants.get(msg.id)
            if q is None or q.host:
                raise HubError(ErrorCode.NOT_FOUND, "参与人不存在")
            q.remove(now)
            self._pushes.broadcast(sess.id, RemovedOut(id=q.id))
            await sess.room.remove(q.id)
            if sess.janus is not None:
                await self.janus.remove(sess.id, sess.janus, q)
        elif isinstance(msg, RecordIn):
            if sess.janus is not None:
                await self.janus.record(sess.id, sess.janus, msg.on)
            elif msg.on:
                await self._recording.start(sess)
            else:
                await self._recording.stop(sess)

    # -- pushes ------------------------------------------------------------------------------------
    def _before_push(self, sid: str) -> bool:
        sess = self._sessions.find(sid)
        if sess is None:
            return False
        self._recording.follow(sess)
        return True

    def state_for(self, p: Participant) -> StateOut:
        sess = self._sessions.of(p)
        ticket = None
        if sess.janus is not None:
            ticket = self.janus.ticket(sess.janus, p, self.ice(f"med-{p.id}"))
        return state_for(sess, p, self.epoch, ticket)
