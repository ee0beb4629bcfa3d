"""Remote video mediation sessions at the hub (issue 5).

The hub is the media centre of a star (see docs/mediation.md): every participant — the
console in the hall and each browser — has one peer connection to the hub's `Room`.
This module owns the sessions: the invited participants and their links (a random
token in the URL, a 6-digit PIN hashed with PBKDF2, an expiry, a lockout after
`MAX_PIN_FAILURES` wrong PINs: the rules of `dispatch.links.core`), the lobby (the
officer admits or removes), presence (join/leave intervals), mute state, recording
on/off, and the filing on close (a `mediation_sessions` row, the participants'
intervals, and an audit row on the event's timeline). The HTTP/WebSocket face is
`dispatch.mediation.web`.

Durable: everything that defines an open session is written as it happens (the session,
each participant with its lobby state and PIN failures, each join and leave, recording on
and off with its files) and, every `ALIVE_S`, the hub's last known alive time. `start()`
loads the open sessions back after a restart: the links, PINs and cookies keep working
(a participant's cookie is derived from the link and its PIN hash, like the roll-call
station's, so it needs no server-side state), admitted participants are admitted again,
an interval left open by the crash is closed at the session's last known alive time, and a
recording that was running goes on in a new file beside the one the crash cut short.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from dispatch.domain.model import AuditEntry
from dispatch.domain.wire import ErrorCode, HubError
from dispatch.hub.auth import Session
from dispatch.hub.writer import Tx
from dispatch.links.core import (
    hash_pin,
    link_state,
    matches_hash,
    new_pin,
    new_token,
    pin_failure,
    sign_cookie,
    token_hash,
    verify_cookie,
    verify_pin,
)
from dispatch.mediation import store as ms
from dispatch.mediation.messages import MediationInvite
from dispatch.tasks.service import DispatchService
from streams.webrtc.config import IceServer, rtc_configuration
from streams.webrtc.room import Room

log = logging.getLogger(__name__)

ROLE_LABELS = {
    "host": "指挥中心",
    "court": "法官",
    "notary": "公证员",
    "mediator": "调解员",
    "party": "当事人",
}
OUTCOME_LABELS = {"agreement": "达成协议", "no_agreement": "未达成协议", "referred": "转法院诉讼"}
MAX_PARTICIPANTS = 6
ALIVE_S = 5.0  # how often an open session's last known alive time is written


# -- pure helpers -------------------------------------------------------------------------------


def role_labels(invites: Sequence[MediationInvite]) -> list[str]:
    """法官, 公证员 …; parties are lettered 当事人A, 当事人B … when there are several."""
    parties = sum(1 for i in invites if i.role == "party")
    out, n = [], 0
    for inv in invites:
        if inv.role == "party" and parties > 1:
            out.append(f"当事人{chr(ord('A') + n)}")
            n += 1
        else:
            out.append(ROLE_LABELS[inv.role])
    return out


def total_seconds(intervals: Sequence[tuple[datetime, datetime | None]], end: datetime) -> float:
    return sum(((b or end) - a).total_seconds() for a, b in intervals)


def minutes_text(seconds: float) -> str:
    m, s = divmod(round(seconds), 60)
    return f"{m}分{s:02d}秒"


def close_crashed(
    intervals: Sequence[tuple[datetime, datetime | None]], alive_at: datetime | None
) -> list[tuple[datetime, datetime | None]]:
    """The intervals with one left open by a crash closed at the hub's last known alive
    time (never before the interval began)."""
    out = list(intervals)
    if out and out[-1][1] is None:
        start = out[-1][0]
        out[-1] = (start, max(start, alive_at) if alive_at is not None else start)
    return out


def recording_line(files: Sequence[tuple[Path, str]]) -> str:
    """'；录像 a.mp4 SHA-256 0123456789ab…、b.mp4 …' for the timeline ('' if none)."""
    if not files:
        return ""
    return "；录像 " + "、".join(f"{p.name} SHA-256 {sha[:12]}…" for p, sha in files)


def close_line(
    outcome: str, duration_s: float, people: Sequence[tuple[str, str, float]], notes: str
) -> str:
    """The timeline line of a closed session."""
    who = "、".join(f"{label}{name}（{minutes_text(sec)}）" for label, name, sec in people)
    line = (
        f"【远程调解】结束：{OUTCOME_LABELS[outcome]}；时长 {minutes_text(duration_s)}；参与：{who}"
    )
    return line + (f"；协议要点：{notes}" if notes else "")


# -- state --------------------------------------------------------------------------------------


@dataclass
class Participant:
    id: str
    session_id: str
    role: str
    label: str
    name: str
    token_hash: str
    pin_hash: str | None  # None: the console's host link (no PIN; authorised over zmq)
    expires_at: datetime
    failures: int = 0
    admitted: bool = False
    removed: bool = False
    session_hash: str | None = None  # the host's bearer session (hash); others: sign_cookie
    intervals: list[tuple[datetime, datetime | None]] = field(default_factory=list)
    sockets: int = 0
    audio_on: bool = True
    video_on: bool = True

    @property
    def host(self) -> bool:
        return self.role == "host"

    @property
    def online(self) -> bool:
        return self.sockets > 0


@dataclass
class MediationSession:
    id: str
    event_id: str
    opened_by: str
    opened_at: datetime
    room: Room
    participants: dict[str, Participant] = field(default_factory=dict)
    recorder: Any = None  # streams.webrtc.recorder.Recorder while recording
    recordings: list[Path] = field(default_factory=list)
    closed_at: datetime | None = None
    restored_at: datetime | None = None  # loaded back by a restarted hub

    def view(self) -> list[dict[str, Any]]:
        return [
            {
                "id": p.id,
                "role": p.role,
                "label": p.label,
                "name": p.name,
                "admitted": p.admitted,
                "online": p.online,
                "media": self.room.state(p.id),
                "audio": p.audio_on,
                "video": p.video_on,
            }
            for p in self.participants.values()
            if not p.removed
        ]


@dataclass(frozen=True)
class LoginResult:
    ok: bool
    reason: str  # ok | wrong | unknown | expired | locked | closed
    session: str = ""
    remaining: int = 0


Listener = Callable[[dict[str, Any]], None]


class MediationService:
    def __init__(
        self,
        dispatch: DispatchService,
        *,
        ice_servers: Sequence[IceServer] = (),
        keep_hosts: Sequence[str] | None = None,
        record_dir: Path,
        forward: bool = True,
        share_encoding: bool = True,
    ) -> None:
        self.dispatch = dispatch
        self.forward = forward
        self.share_encoding = share_encoding
        self.hub = dispatch.hub
        self.ice_servers = list(ice_servers)
        self.keep_hosts = list(keep_hosts) if keep_hosts else None
        self.record_dir = record_dir
        self._sessions: dict[str, MediationSession] = {}
        self._by_token: dict[str, Participant] = {}
        self._listeners: dict[str, list[Listener]] = {}
        self._push_due: set[str] = set()
        # this hub process: a page or console that sees it change rejoins at once
        self.epoch = secrets.token_hex(4)
        self._dirty: set[str] = set()
        self._wake: asyncio.Event | None = None
        self._saver: asyncio.Task[None] | None = None
        self._started = False

    async def start(self) -> None:
        """Load the open sessions back (a restarted hub) and start writing liveness."""
        if self._started:
            return
        self._started = True
        rows = await asyncio.to_thread(ms.open_sessions, self.dispatch.engine)
        for row in rows:
            sess = self._restore(row)
            if row.recording_on:
                try:
                    await self._start_recording(sess)
                except Exception:
                    log.exception("could not resume the recording of %s", sess.id)
            await self._save(sess)
            log.info(
                "mediation session %s restored (%d participants)", sess.id, len(row.participants)
            )
        self._wake = asyncio.Event()
        self._saver = asyncio.create_task(self._keep_alive(), name="mediation-alive")

    async def stop(self) -> None:
        saver, self._saver = self._saver, None
        if saver is not None:
            saver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await saver
        for s in list(self._sessions.values()):
            if s.closed_at is None:
                with contextlib.suppress(Exception):
                    await self._save(s)
            await self._end_media(s)
        self._started = False

    def _restore(self, row: ms.OpenSession) -> MediationSession:
        now = self.hub.clock()
        sid = row.row.id
        sess = MediationSession(
            sid, row.row.event_id, row.row.opened_by, row.row.opened_at, self._room(sid)
        )
        sess.restored_at = now
        sess.recordings = [Path(x) for x in row.recordings]

        def order(r: ms.ParticipantRow) -> tuple[int, str]:
            local = r.id.rsplit("/", 1)[-1]
            return (0, "") if local == "host" else (1, local.removeprefix("p").zfill(4))

        for r in sorted(row.participants, key=order):
            local = r.id.rsplit("/", 1)[-1]
            p = Participant(
                id=local,
                session_id=sid,
                role=r.role,
                label=r.label or ROLE_LABELS.get(r.role, r.role),
                name=r.name,
                token_hash=r.token_hash,
                pin_hash=r.pin_hash,
                expires_at=r.expires_at or now,
                failures=r.failures,
                admitted=r.admitted or local == "host",
                removed=r.removed,
                session_hash=r.session_hash,
                intervals=close_crashed(r.intervals, row.alive_at),
            )
            sess.participants[p.id] = p
            self._by_token[p.token_hash] = p
        self._sessions[sid] = sess
        return sess

    def _room(self, sid: str) -> Room:
        return Room(
            sid,
            config=rtc_configuration(self.ice_servers),
            keep_hosts=self.keep_hosts,
            on_change=lambda: self._schedule_push(sid),
            # one VP8 encode per sender, shared by its receivers (false: the old encode
            # per receiver, for the benchmark's comparison; hub config webrtc.share_encoding)
            share_encoding=self.share_encoding,
            forward=self.forward,
        )

    # -- durability ----------------------------------------------------------------------------
    async def _save(self, sess: MediationSession) -> None:
        """Write the session's changing state now (one transaction)."""
        if sess.closed_at is not None:
            return
        now = self.hub.clock()
        people = [
            (f"{sess.id}/{p.id}", p.failures, p.admitted, p.removed, list(p.intervals))
            for p in sess.participants.values()
        ]
        recording_on = sess.recorder is not None
        files = [str(x) for x in sess.recordings]
        sid = sess.id

        def job(tx: Tx) -> None:
            for pid, failures, admitted, removed, intervals in people:
                ms.save_participant(
                    tx.conn,
                    pid,
                    failures=failures,
                    admitted=admitted,
                    removed=removed,
                    intervals=intervals,
                )
            ms.save_session_state(
                tx.conn, sid, alive_at=now, recording_on=recording_on, recordings=files
            )

        await self.dispatch._commit(job)

    def _changed(self, sess: MediationSession) -> None:
        """A change made outside a coroutine (presence): written by the saver at once."""
        self._dirty.add(sess.id)
        if self._wake is not None:
            self._wake.set()

    async def _keep_alive(self) -> None:
        assert self._wake is not None
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), ALIVE_S)
            self._wake.clear()
            dirty, self._dirty = self._dirty, set()
            now = self.hub.clock()
            beat = [s.id for s in self._sessions.values() if s.closed_at is None]
            try:
                for sid in dirty:
                    sess = self._sessions.get(sid)
                    if sess is not None:
                        await self._save(sess)
                if beat:
                    await self.dispatch._commit(_beat_job(beat, now))
            except Exception:
                log.exception("writing mediation state failed; retrying")
                self._dirty |= dirty
                await asyncio.sleep(1.0)

    # -- lookups -----------------------------------------------------------------------------
    def session(self, sid: str) -> MediationSession:
        s = self._sessions.get(sid)
        if s is None:
            raise HubError(ErrorCode.NOT_FOUND, f"调解会话不存在 / no mediation session {sid!r}")
        return s

    def link_status(self, token: str) -> tuple[str, Participant | None]:
        """('ok' | 'unknown' | 'expired' | 'locked' | 'closed', the participant)."""
        p = self._by_token.get(token_hash(token))
        if p is None or p.removed:
            return "unknown", p
        if self._sessions[p.session_id].closed_at is not None:
            return "closed", p
        state = link_state(p.expires_at, p.failures, self.hub.clock())
        return state.value, p

    def participant(self, token: str, bearer: str | None) -> Participant | None:
        """The participant of a session token, if valid for this link now."""
        if not bearer:
            return None
        status, p = self.link_status(token)
        if status != "ok" or p is None:
            return None
        if p.host:
            good = p.session_hash is not None and matches_hash(bearer, p.session_hash)
        else:
            good = verify_cookie(bearer, token, p.pin_hash)
        return p if good else None

    # -- console side -------------------------------------------------------------------------
    async def open(
        self, by: Session, event_id: str, invites: Sequence[MediationInvite], ttl: timedelta
    ) -> tuple[MediationSession, list[tuple[Participant, str, str]], str, str]:
        """(session, [(participant, link token, PIN)], host link token, host session)."""
        if len(invites) + 1 > MAX_PARTICIPANTS:
            raise HubError(
                ErrorCode.INVALID,
                f"内置模式最多 {MAX_PARTICIPANTS} 方（含指挥中心）；更大的会议请配置 SFU",
            )
        ev = await self.dispatch._event(event_id)
        now = self.hub.clock()
        sid = f"M{now:%Y%m%d}-{secrets.token_hex(4)}"
        room = self._room(sid)
        sess = MediationSession(sid, ev.id, by.operator, now, room)
        exp = now + ttl
        host_token = new_token()
        host_session = new_token()
        host = Participant(
            id="host",
            session_id=sid,
            role="host",
            label=ROLE_LABELS["host"],
            name=by.operator,
            token_hash=token_hash(host_token),
            pin_hash=None,
            expires_at=exp,
            admitted=True,
            session_hash=token_hash(host_session),
        )
        links: list[tuple[Participant, str, str]] = []
        people = [host]
        for i, (inv, label) in enumerate(zip(invites, role_labels(invites), strict=True)):
            token = new_token()
            pin = new_pin()
            p = Participant(
                id=f"p{i + 1}",
                session_id=sid,
                role=inv.role,
                label=label,
                name=inv.name,
                token_hash=token_hash(token),
                pin_hash=await asyncio.to_thread(hash_pin, pin),
                expires_at=exp,
            )
            people.append(p)
            links.append((p, token, pin))
        invited = "、".join(f"{p.label}{p.name}" for p in people[1:])
        audit = AuditEntry(
            event_id=ev.id,
            at=now,
            operator=by.operator,
            role=by.role,
            workstation=by.workstation,
            action="mediation_open",
            from_state=ev.state,
            to_state=ev.state,
            note=f"【远程调解】发起会话 {sid}，邀请：{invited}",
        )

        def job(tx: Tx) -> int:
            ms.add_session(tx.conn, sid, ev.id, by.operator, now)
            for p in people:
                ms.add_participant(
                    tx.conn,
                    pid=f"{sid}/{p.id}",
                    session_id=sid,
                    role=p.role,
                    name=p.name,
                    token_hash=p.token_hash,
                    pin_hash=p.pin_hash,
                    expires_at=p.expires_at,
                    label=p.label,
                    admitted=p.admitted,
                    session_hash=p.session_hash,
                )
            ms.save_session_state(tx.conn, sid, alive_at=now)
            return self.dispatch._record(tx, [], now, by.role, extra_audit=[audit])

        await self.dispatch._commit(job)
        self._sessions[sid] = sess
        for p in people:
            sess.participants[p.id] = p
            self._by_token[p.token_hash] = p
        return sess, links, host_token, host_session

    async def close(
        self, by: Session, sid: str, outcome: str, notes: str
    ) -> tuple[MediationSession, float, Path | None]:
        """End the media, stop recording, file the session on the event."""
        sess = self.session(sid)
        if sess.closed_at is not None:
            raise HubError(ErrorCode.CONFLICT, f"调解会话 {sid} 已结束")
        if outcome not in OUTCOME_LABELS:
            raise HubError(ErrorCode.INVALID, f"未知的调解结果 {outcome!r}")
        now = self.hub.clock()
        for p in sess.participants.values():
            if p.intervals and p.intervals[-1][1] is None:
                p.intervals[-1] = (p.intervals[-1][0], now)
        sess.closed_at = now
        self._broadcast(sess, {"type": "closed", "outcome": OUTCOME_LABELS[outcome]})
        await self._end_media(sess)
        files = [(r, await asyncio.to_thread(_sha256, r)) for r in sess.recordings if r.is_file()]
        rec, sha = files[-1] if files else (None, None)
        duration = (now - sess.opened_at).total_seconds()
        people = [
            (p.label, p.name, total_seconds(p.intervals, now))
            for p in sess.participants.values()
            if p.intervals
        ]
        ev = await self.dispatch._event(sess.event_id)
        line = close_line(outcome, duration, people, notes) + recording_line(files)
        audit = AuditEntry(
            event_id=ev.id,
            at=now,
            operator=by.operator,
            role=by.role,
            workstation=by.workstation,
            action="mediation_close",
            from_state=ev.state,
            to_state=ev.state,
            note=line[:5000],
        )

        def job(tx: Tx) -> int:
            for p in sess.participants.values():
                ms.save_participant(
                    tx.conn,
                    f"{sid}/{p.id}",
                    failures=p.failures,
                    admitted=p.admitted,
                    removed=p.removed,
                    intervals=p.intervals,
                )
            ms.save_session_state(
                tx.conn,
                sid,
                alive_at=now,
                recordings=[str(r) for r, _ in files],
            )
            ms.close_session(
                tx.conn,
                sid,
                at=now,
                outcome=outcome,
                notes=notes,
                duration_s=duration,
                recording_path=str(rec) if rec is not None else None,
                recording_sha256=sha,
            )
            return self.dispatch._record(tx, [], now, by.role, extra_audit=[audit])

        await self.dispatch._commit(job)
        return sess, duration, rec

    async def _end_media(self, sess: MediationSession) -> None:
        await self._stop_recording(sess)
        await sess.room.close()

    # -- participants --------------------------------------------------------------------------
    async def login(self, token: str, pin: str) -> LoginResult:
        status, p = self.link_status(token)
        if status != "ok" or p is None:
            return LoginResult(False, status)
        if p.pin_hash is None or not await asyncio.to_thread(verify_pin, pin, p.pin_hash):
            wrong = pin_failure(p.failures + 1)
            p.failures = wrong.failures
            pid = f"{p.session_id}/{p.id}"
            await self.dispatch._commit(lambda tx: ms.set_failures(tx.conn, pid, wrong.failures))
            return LoginResult(False, "locked" if wrong.locked else "wrong", remaining=wrong.left)
        return LoginResult(True, "ok", session=sign_cookie(token, p.pin_hash))

    async def offer(self, p: Participant, sdp: str) -> str:
        """The SDP answer; only admitted participants get media."""
        if not p.admitted:
            raise HubError(ErrorCode.FORBIDDEN, "请在等候室等待主持人准许入会")
        sess = self._sessions[p.session_id]
        answer = await sess.room.answer(p.id, sdp)
        if sess.recorder is not None:
            sess.recorder.set_sources(self._record_sources(sess))
        return answer

    def connected(self, p: Participant, fn: Listener) -> None:
        """A WebSocket of `p` opened: presence, and pushes to `fn`."""
        self._listeners.setdefault(p.session_id, []).append(fn)
        p.sockets += 1
        if p.sockets == 1 and p.admitted:
            p.intervals.append((self.hub.clock(), None))
            self._changed(self._sessions[p.session_id])
        self._schedule_push(p.session_id)

    def disconnected(self, p: Participant, fn: Listener) -> None:
        ls = self._listeners.get(p.session_id, [])
        if fn in ls:
            ls.remove(fn)
        p.sockets = max(0, p.sockets - 1)
        if p.sockets == 0 and p.intervals and p.intervals[-1][1] is None:
            p.intervals[-1] = (p.intervals[-1][0], self.hub.clock())
            self._changed(self._sessions[p.session_id])
        self._schedule_push(p.session_id)

    async def command(self, p: Participant, msg: dict[str, Any]) -> None:
        """A message from a participant's WebSocket (mute state; the host's controls)."""
        sess = self._sessions[p.session_id]
        kind = msg.get("type")
        if kind == "media":
            p.audio_on = bool(msg.get("audio", True))
            p.video_on = bool(msg.get("video", True))
            self._schedule_push(sess.id)
            return
        if not p.host:
            raise HubError(ErrorCode.FORBIDDEN, "只有主持人可以执行此操作")
        if kind == "admit":
            q = sess.participants.get(str(msg.get("id")))
            if q is None or q.removed:
                raise HubError(ErrorCode.NOT_FOUND, "参与人不存在")
            if not q.admitted:
                q.admitted = True
                if q.online:
                    q.intervals.append((self.hub.clock(), None))
        elif kind == "remove":
            q = sess.participants.get(str(msg.get("id")))
            if q is None or q.host:
                raise HubError(ErrorCode.NOT_FOUND, "参与人不存在")
            q.removed = True
            q.admitted = False
            if q.intervals and q.intervals[-1][1] is None:
                q.intervals[-1] = (q.intervals[-1][0], self.hub.clock())
            self._broadcast(sess, {"type": "removed", "id": q.id})
            await sess.room.remove(q.id)
        elif kind == "record":
            if msg.get("on"):
                await self._start_recording(sess)
            else:
                await self._stop_recording(sess)
        else:
            raise HubError(ErrorCode.INVALID, f"未知的指令 {kind!r}")
        await self._save(sess)
        self._schedule_push(sess.id)

    # -- recording -------------------------------------------------------------------------------
    def _record_sources(self, sess: MediationSession) -> list[tuple[str, Any, Any]]:
        out = []
        for p in sess.participants.values():
            if p.removed or not p.admitted:
                continue
            v = sess.room.tap("recorder", p.id, "video")
            a = sess.room.tap("recorder", p.id, "audio")
            if v is not None or a is not None:
                out.append((f"{p.label} {p.name}", v, a))
        return out

    async def _start_recording(self, sess: MediationSession) -> None:
        if sess.recorder is not None:
            return
        from streams.webrtc.recorder import Recorder

        self.record_dir.mkdir(parents=True, exist_ok=True)
        n = len(sess.recordings) + 1
        path = self.record_dir / f"{sess.id}-{n}.mp4"
        rec = Recorder(path)
        rec.set_sources(self._record_sources(sess))
        await rec.start()
        sess.recorder = rec
        sess.recordings.append(path)
        self._broadcast(sess, {"type": "recording", "on": True})

    async def _stop_recording(self, sess: MediationSession) -> None:
        rec, sess.recorder = sess.recorder, None
        if rec is None:
            return
        await rec.stop()
        self._broadcast(sess, {"type": "recording", "on": False})

    # -- pushes ------------------------------------------------------------------------------------
    def _schedule_push(self, sid: str) -> None:
        if sid in self._push_due:
            return
        self._push_due.add(sid)
        asyncio.get_running_loop().call_soon(self._push, sid)

    def _push(self, sid: str) -> None:
        self._push_due.discard(sid)
        sess = self._sessions.get(sid)
        if sess is None:
            return
        if sess.recorder is not None:
            sess.recorder.set_sources(self._record_sources(sess))
        for fn in list(self._listeners.get(sid, ())):
            fn({"type": "state"})  # the web layer personalises (state_for)

    def state_for(self, p: Participant) -> dict[str, Any]:
        sess = self._sessions[p.session_id]
        names = {q.id: q for q in sess.participants.values()}
        slots = []
        for s in sess.room.slot_map(p.id):
            who = names.get(s.peer_id) if s.peer_id else None
            slots.append(
                {
                    "video_mid": s.video_mid,
                    "audio_mid": s.audio_mid,
                    "peer": None
                    if who is None
                    else {"id": who.id, "name": who.name, "label": who.label},
                }
            )
        return {
            "type": "state",
            "me": {
                "id": p.id,
                "name": p.name,
                "label": p.label,
                "host": p.host,
                "admitted": p.admitted,
                "removed": p.removed,
            },
            "session": {"id": sess.id, "event_id": sess.event_id},
            "epoch": self.epoch,
            "participants": sess.view(),
            "recording": sess.recorder is not None,
            "closed": sess.closed_at is not None,
            "slots": slots,
        }

    def _broadcast(self, sess: MediationSession, msg: dict[str, Any]) -> None:
        for fn in list(self._listeners.get(sess.id, ())):
            fn(msg)

    # -- queries ---------------------------------------------------------------------------
    async def month_figures(self, start: datetime, end: datetime) -> dict[str, Any]:
        return await asyncio.to_thread(ms.month_figures, self.dispatch.engine, start, end)


def _beat_job(sids: list[str], now: datetime) -> Callable[[Tx], None]:
    def job(tx: Tx) -> None:
        for sid in sids:
            ms.save_session_state(tx.conn, sid, alive_at=now)

    return job


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
