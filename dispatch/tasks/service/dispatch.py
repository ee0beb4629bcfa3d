"""The hub's dispatch service: one-click dispatch to grid leaders, the task states
reported by their phones, escalation timers, the push outbox and evidence attachments.

Built on `HubService` (its one writer, its seq and publishing): every task change is
ONE transaction that writes the task, its history row, a timeline (audit) row on the
event and a change row (the seq), and is published after the commit as the event's
`EventChanged` (carrying the timeline row) followed by a `TaskChanged` with the same
seq. Phones are told after the commit too (listeners), so nothing is pushed that is
not durable. Clock injected (the hub's); escalation is driven by `run_escalations()`.

Delivery to phones: a new task gets a row in `push_outbox`; it stays pending until the
phone acks it (`ack`: the task becomes delivered, idempotently). A phone that connects
gets all its open tasks, the pending ones flagged for ack, so one that was offline (or
a hub that restarted) loses nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import heapq
import hmac
import logging
import os
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine

from dispatch.db import store
from dispatch.domain import geo, rules
from dispatch.domain.model import AuditEntry, Event, Role, is_open, mask_phone
from dispatch.domain.rules import DEFAULT_LADDER, EscalationLadder
from dispatch.domain.site import Grid, Person, Site
from dispatch.domain.wire import ErrorCode, HubError, encode
from dispatch.events.service import CHINA_TZ, EncodedChange, HubService
from dispatch.hub.auth import Session
from dispatch.hub.writer import Tx
from dispatch.tasks import store as st
from dispatch.tasks.core import (
    STATE_LABELS_ZH,
    ActorKind,
    DispatchTask,
    InstructionTemplates,
    Outcome,
    TaskAction,
    TaskActor,
    TaskTransition,
    TaskTransitionError,
    apply,
    describe,
    escalate,
    instruction_for,
    load_templates,
    new_task,
    next_escalation_at,
    reassign,
)
from dispatch.tasks.messages import (
    AttachmentInfo,
    CameraDistance,
    DispatchPreviewReply,
    PersonInfo,
    TaskChanged,
)
from dispatch.tasks.uploads import check_photo

log = logging.getLogger(__name__)
T = TypeVar("T")

PIN_ITERATIONS = 20_000  # PBKDF2-SHA256 (~10 ms); links also lock after MAX_PIN_FAILURES
MAX_PIN_FAILURES = 5
PHOTO_ID_PREFIX = "ph-"

_FIELD_ACTIONS = {
    "read": TaskAction.READ,
    "accept": TaskAction.ACCEPT,
    "return": TaskAction.RETURN,
    "arrive": TaskAction.ARRIVE,
    "feedback": TaskAction.FEEDBACK,
}
_OFFICER_ACTIONS = {
    "confirm": TaskAction.CONFIRM,
    "rework": TaskAction.REWORK,
    "cancel": TaskAction.CANCEL,
}


# -- pure helpers ---------------------------------------------------------------------------


def new_task_id(now: datetime) -> str:
    d = now.astimezone(CHINA_TZ)
    return f"T{d:%Y%m%d}-{secrets.token_hex(5)}"


def hash_pin(pin: str, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else os.urandom(16)
    dk = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, PIN_ITERATIONS)
    return f"pbkdf2${PIN_ITERATIONS}${salt.hex()}${dk.hex()}"


def verify_pin(pin: str, stored: str) -> bool:
    try:
        _, iters, salt, want = stored.split("$")
        dk = hashlib.pbkdf2_hmac("sha256", pin.encode(), bytes.fromhex(salt), int(iters))
    except ValueError:
        return False
    return hmac.compare_digest(dk.hex(), want)


def person_info(p: Person) -> PersonInfo:
    return PersonInfo(id=p.id, name=p.name, role=p.role, phone=mask_phone(p.phone))


def attachment_info(a: st.Attachment) -> AttachmentInfo:
    return AttachmentInfo(
        id=a.id,
        event_id=a.event_id,
        task_id=a.task_id,
        kind=a.kind,
        path=a.path,
        sha256=a.sha256,
        size=a.size,
        mime=a.mime,
        added_by=a.added_by,
        at=a.at,
        note=a.note,
    )


def timeline_action(row: TaskTransition) -> str:
    """The audit row's action for a task row: `task_<action>` (e.g. task_deliver)."""
    return f"task_{row.action.value}"


@dataclass(frozen=True)
class LoginResult:
    ok: bool
    reason: str  # ok | unknown | expired | locked | wrong
    person_id: str = ""
    session: str = ""
    remaining: int = 0


Listener = Callable[[DispatchTask, bool], None]  # (task, needs ack)


class DispatchService:
    def __init__(
        self,
        hub: HubService,
        site: Site | None,
        *,
        upload_dir: Path,
        templates: InstructionTemplates | None = None,
        ladder: EscalationLadder = DEFAULT_LADDER,
        session_ttl: timedelta = timedelta(days=30),
    ) -> None:
        self.hub = hub
        self.site = site
        self.upload_dir = upload_dir
        self.ladder = ladder
        self.session_ttl = session_ttl
        self._templates = templates
        self._people: dict[str, Person] = {p.id: p for p in site.people} if site else {}
        self._open: dict[str, DispatchTask] = {}
        self._pending: dict[str, dict[str, None]] = {}  # person → task ids awaiting ack
        self._listeners: dict[str, set[Listener]] = {}
        self._esc: list[tuple[datetime, str, int]] = []
        self._esc_lock = asyncio.Lock()
        self._evidence: dict[str, list[AttachmentInfo]] = {}
        self._sessions: dict[str, tuple[str, str, datetime]] = {}
        self._started = False

    # -- life cycle -------------------------------------------------------------------------
    async def start(self) -> None:
        if self._started:
            return
        if self._templates is None:
            self._templates = await asyncio.to_thread(load_templates)
        engine = self.hub.store.engine
        for t in await asyncio.to_thread(st.open_tasks, engine):
            self._open[t.id] = t
            self._schedule(t)
        for person, tid in await asyncio.to_thread(st.pending_pushes, engine):
            if tid in self._open:
                self._pending.setdefault(person, {})[tid] = None
        self._started = True

    async def stop(self) -> None:
        self._started = False
        self._listeners.clear()

    @property
    def engine(self) -> Engine:
        return self.hub.store.engine

    def _need_site(self) -> Site:
        if self.site is None:
            raise HubError(ErrorCode.INVALID, "未配置辖区（--site），无法派单 / no site configured")
        return self.site

    def names(self) -> dict[str, str]:
        return {p.id: p.name for p in self._people.values()}

    def person(self, person_id: str) -> Person:
        p = self._people.get(person_id)
        if p is None:
            raise HubError(ErrorCode.NOT_FOUND, f"人员不存在 / no person {person_id!r}")
        return p

    # -- listeners (phone sockets) -------------------------------------------------------------
    def listen(self, person_id: str, fn: Listener) -> None:
        self._listeners.setdefault(person_id, set()).add(fn)

    def unlisten(self, person_id: str, fn: Listener) -> None:
        got = self._listeners.get(person_id)
        if got is not None:
            got.discard(fn)
            if not got:
                del self._listeners[person_id]

    def sessions_connected(self) -> int:
        return sum(len(v) for v in self._listeners.values())

    def open_tasks_of(self, person_id: str) -> list[tuple[DispatchTask, bool]]:
        """The person's open tasks, oldest first, each with 'still awaiting the phone's ack'."""
        pending = self._pending.get(person_id, {})
        mine = [t for t in self._open.values() if t.assignee == person_id]
        mine.sort(key=lambda t: (t.sent_at, t.id))
        return [(t, t.id in pending) for t in mine]

    async def evidence(self, event_id: str) -> list[AttachmentInfo]:
        got = self._evidence.get(event_id)
        if got is None:
            rows = await asyncio.to_thread(st.attachments_of, self.engine, event_id=event_id)
            got = [attachment_info(a) for a in rows]
            self._evidence[event_id] = got
        return got

    # -- the one transaction of a task change -------------------------------------------------
    def _record(
        self,
        tx: Tx,
        outcomes: Sequence[tuple[Outcome, int | None]],
        now: datetime,
        role: Role,
        extra_audit: Sequence[AuditEntry] = (),
    ) -> int:
        rows = [(o, prev) for o, prev in outcomes if o.transition is not None]
        event_id = rows[0][0].task.event_id if rows else extra_audit[0].event_id
        ev = store.load_event(tx.conn, event_id)
        if ev is None:
            raise HubError(ErrorCode.NOT_FOUND, f"事件不存在 / no event {event_id!r}")
        names = self.names()
        audit = list(extra_audit)
        for o, prev in rows:
            st.save_task(tx.conn, o.task, prev)
            tr = o.transition
            assert tr is not None
            audit.append(
                AuditEntry(
                    event_id=ev.id,
                    at=now,
                    operator=tr.by.id,
                    role=role,
                    workstation=tr.by.via or tr.by.kind.value,
                    action=timeline_action(tr),
                    from_state=ev.state,
                    to_state=ev.state,
                    note=self.line(tr, o.task, names),
                )
            )
        colour = self.hub.colours.get(ev.id) or self.hub._colour(ev, now)
        enc = EncodedChange.of(ev, colour, audit)
        seq = store.append_change(tx.conn, ev.id, now, enc.payload())
        store.touch_event(tx.conn, ev.id, seq, colour)
        store.append_audit(tx.conn, audit)
        frames = []
        for (o, _), a in zip(rows, audit[len(extra_audit) :], strict=True):
            tr = o.transition
            assert tr is not None
            st.add_history(tx.conn, tr, seq)
            frames.append(encode(TaskChanged(seq=seq, task=o.task, transition=tr, line=a.note)))
        tx.published.append(replace(enc.committed(seq), extra=tuple(frames)))
        return seq

    @staticmethod
    def line(tr: TaskTransition, task: DispatchTask, names: dict[str, str]) -> str:
        """The timeline line: "【派单】张建国 送达（已送达）"."""
        head = describe(tr, names)
        if tr.from_state is None and tr.action is not TaskAction.DISPATCH:
            head = f"{head} → {names.get(task.assignee, task.assignee)}"  # the new task
        return f"【派单】{head}（{STATE_LABELS_ZH[tr.to_state]}）"

    def _after(self, outcomes: Sequence[Outcome], pushes: Sequence[tuple[str, str]] = ()) -> None:
        """On the loop after a commit: the view, the timers, then tell the phones."""
        for o in outcomes:
            t = o.task
            cur = self._open.get(t.id)
            if cur is not None and cur.version >= t.version:
                continue
            if t.closed_at is None:
                self._open[t.id] = t
                self._schedule(t)
            else:
                self._open.pop(t.id, None)
                self._pending.get(t.assignee, {}).pop(t.id, None)
        for person, tid in pushes:
            if tid in self._open:
                self._pending.setdefault(person, {})[tid] = None
        for o in outcomes:
            if o.transition is None:
                continue
            t = o.task
            ack = t.id in self._pending.get(t.assignee, {})
            for fn in list(self._listeners.get(t.assignee, ())):
                try:
                    fn(t, ack)
                except Exception:
                    log.exception("phone listener failed")

    async def _commit(self, fn: Callable[[Tx], T]) -> T:
        try:
            return await self.hub.writer.submit_async(fn)
        except TaskTransitionError as exc:
            raise HubError(ErrorCode.TRANSITION, exc.message_zh) from None
        except store.VersionConflict as exc:  # pragma: no cover - one writer
            raise HubError(ErrorCode.CONFLICT, str(exc)) from None

    # -- console side ----------------------------------------------------------------------------
    async def _event(self, event_id: str) -> Event:
        ev = self.hub.open_event(event_id)
        if ev is None:
            ev = await self.hub.get_event(event_id)
        if ev is None:
            raise HubError(ErrorCode.NOT_FOUND, f"事件不存在 / no event {event_id!r}")
        return ev

    def _instruction(self, ev: Event, grid: Grid | None, site: Site) -> str:
        assert self._templates is not None
        return instruction_for(
            ev.category,
            ev,
            self._templates,
            place=geo.describe_place(site, ev.place),
            deadline=rules.deadline(ev, self.hub.calendar, self.hub.settings.policy),
            grid=grid.name if grid is not None else "",
            categories=self.hub.settings.categories,
        )

    async def preview(self, event_id: str, n_cameras: int = 4) -> DispatchPreviewReply:
        site = self._need_site()
        ev = await self._event(event_id)
        grid = geo.grid_for_place(site, ev.place)
        chain = geo.responsible_people(site, grid.id) if grid is not None else None
        suggested = chain.suggested() if chain is not None else None
        cams: list[CameraDistance] = []
        pt = geo.place_point(site, ev.place)
        if pt is not None and n_cameras > 0:
            cams = [
                CameraDistance(camera_id=c.id, name=c.name, metres=round(m, 1))
                for c, m in geo.nearest_cameras(site, pt[0], pt[1], n=n_cameras)
            ]
        return DispatchPreviewReply(
            rid="",
            event_id=ev.id,
            grid_id=grid.id if grid is not None else None,
            grid_name=grid.name if grid is not None else "",
            place=geo.describe_place(site, ev.place),
            suggested=person_info(suggested) if suggested is not None else None,
            chain=[person_info(p) for p in chain.people()] if chain is not None else [],
            instruction=self._instruction(ev, grid, site),
            cameras=cams,
        )

    async def dispatch(
        self,
        session: Session,
        event_id: str,
        *,
        person_id: str | None = None,
        note: str = "",
        instruction: str | None = None,
    ) -> tuple[DispatchTask, int]:
        site = self._need_site()
        ev = await self._event(event_id)
        if not is_open(ev.state):
            raise HubError(
                ErrorCode.TRANSITION, f"事件已归档，不能派单 / event {ev.id} is archived"
            )
        grid = geo.grid_for_place(site, ev.place)
        if person_id is None:
            chain = geo.responsible_people(site, grid.id) if grid is not None else None
            person = chain.suggested() if chain is not None else None
            if person is None:
                raise HubError(
                    ErrorCode.INVALID,
                    "无法确定网格长（事件地点不在任何网格内），请选择派单对象 / "
                    "no grid leader for this place: choose a person",
                )
        else:
            person = self.person(person_id)
        for t in self._open.values():
            if t.event_id == ev.id and t.assignee == person.id:
                raise HubError(
                    ErrorCode.CONFLICT,
                    f"该事件已派给{person.name}，尚未办结（任务 {t.id}） / already dispatched",
                )
        now = self.hub.clock()
        text = instruction if instruction else self._instruction(ev, grid, site)
        by = _officer(session)
        try:
            out = new_task(
                task_id=new_task_id(now),
                event=ev,
                recipient=person,
                by=by,
                now=now,
                instruction=text,
                note=note,
                grid_id=grid.id if grid is not None else None,
            )
        except TaskTransitionError as exc:
            raise HubError(ErrorCode.INVALID, exc.message_zh) from None

        def job(tx: Tx) -> int:
            seq = self._record(tx, [(out, None)], now, session.role)
            st.add_outbox(tx.conn, out.task.id, person.id, now)
            return seq

        seq = await self._commit(job)
        self._after([out], [(person.id, out.task.id)])
        return out.task, seq

    async def officer_act(
        self,
        session: Session,
        task_id: str,
        action: str,
        *,
        note: str = "",
        person_id: str | None = None,
    ) -> tuple[DispatchTask, int]:
        by = _officer(session)
        now = self.hub.clock()
        if action == "reassign":
            if person_id is None:
                raise HubError(ErrorCode.INVALID, "改派需要选择人员 / reassign needs person_id")
            to = self.person(person_id)
            new_id = new_task_id(now)

            def rjob(tx: Tx) -> tuple[int, list[Outcome]]:
                t = self._load(tx, task_id)
                old, new = reassign(t, to, by, now, new_task_id=new_id, note=note)
                seq = self._record(tx, [(old, t.version), (new, None)], now, session.role)
                st.add_outbox(tx.conn, new.task.id, to.id, now)
                return seq, [old, new]

            seq, outs = await self._commit(rjob)
            self._after(outs, [(to.id, new_id)])
            return outs[1].task, seq
        act = _OFFICER_ACTIONS.get(action)
        if act is None:
            raise HubError(ErrorCode.INVALID, f"unknown task action {action!r}")
        return await self._apply(task_id, act, by, now, session.role, note=note)

    def _load(self, tx: Tx, task_id: str) -> DispatchTask:
        t = st.load_task(tx.conn, task_id)
        if t is None:
            raise HubError(ErrorCode.NOT_FOUND, f"任务不存在 / no task {task_id!r}")
        return t

    async def _apply(
        self,
        task_id: str,
        action: TaskAction,
        by: TaskActor,
        now: datetime,
        role: Role,
        *,
        note: str = "",
        photos: Sequence[str] = (),
        ack_person: str | None = None,
    ) -> tuple[DispatchTask, int]:
        def job(tx: Tx) -> tuple[Outcome, int]:
            t = self._load(tx, task_id)
            if ack_person is not None:
                st.ack_outbox(tx.conn, task_id, ack_person, now)
            out = apply(t, action, by, now, note=note, photos=photos)
            if out.transition is None:
                return out, 0
            if photos:
                have = {a.id for a in _attachments_in(tx, photos) if a.task_id == t.id}
                missing = [p for p in photos if p not in have]
                if missing:
                    raise HubError(ErrorCode.INVALID, f"照片不存在或不属于本任务：{missing[0]}")
            return out, self._record(tx, [(out, t.version)], now, role)

        out, seq = await self._commit(job)
        if ack_person is not None:
            self._pending.get(ack_person, {}).pop(task_id, None)
        self._after([out])
        return out.task, seq

    async def tasks_of_event(
        self, event_id: str
    ) -> tuple[list[DispatchTask], list[TaskTransition], list[AttachmentInfo]]:
        tasks = await asyncio.to_thread(st.tasks_of_event, self.engine, event_id)
        hist = await asyncio.to_thread(st.history, self.engine, event_id=event_id)
        return tasks, [row for _, row in hist], await self.evidence(event_id)

    async def attach_evidence(
        self,
        session: Session,
        event_id: str,
        *,
        kind: str,
        path: str,
        sha256: str,
        size: int = 0,
        task_id: str | None = None,
        note: str = "",
    ) -> tuple[AttachmentInfo, int]:
        ev = await self._event(event_id)
        now = self.hub.clock()
        name = Path(path).name
        att = st.Attachment(
            id=f"ev-{secrets.token_hex(8)}",
            event_id=ev.id,
            task_id=task_id,
            kind=kind,
            path=path,
            sha256=sha256,
            size=size,
            mime="video/mp4" if kind == "clip" else "image/png",
            added_by=session.operator,
            at=now,
            note=note,
        )
        label = "录像片段" if kind == "clip" else "快照"
        audit = AuditEntry(
            event_id=ev.id,
            at=now,
            operator=session.operator,
            role=session.role,
            workstation=session.workstation,
            action="evidence",
            from_state=ev.state,
            to_state=ev.state,
            note=f"附证据（{label}）：{name} SHA-256 {sha256[:12]}…" + (f" {note}" if note else ""),
        )

        def job(tx: Tx) -> int:
            st.add_attachment(tx.conn, att)
            return self._record(tx, [], now, session.role, extra_audit=[audit])

        seq = await self._commit(job)
        info = attachment_info(att)
        self._evidence.setdefault(ev.id, []).append(info)
        # the grid leaders working on the event see it in their task view
        for t in list(self._open.values()):
            if t.event_id == ev.id:
                ack = t.id in self._pending.get(t.assignee, {})
                for fn in list(self._listeners.get(t.assignee, ())):
                    fn(t, ack)
        return info, seq

    # -- phone side ----------------------------------------------------------------------------
    def _mine(self, person_id: str, task_id: str) -> DispatchTask:
        t = self._open.get(task_id)
        if t is None or t.assignee != person_id:
            raise HubError(ErrorCode.NOT_FOUND, "任务不存在或已转派、撤销 / no such open task")
        return t

    async def ack(self, person_id: str, task_id: str) -> None:
        """The phone received a pushed task: delivered (idempotent; unknown ids are ignored
        so that a late ack of a task moved away meanwhile is harmless)."""
        person = self._people.get(person_id)
        if person is None:
            return
        now = self.hub.clock()
        if task_id not in self._open:

            def ack_only(tx: Tx) -> None:
                st.ack_outbox(tx.conn, task_id, person_id, now)

            await self._commit(ack_only)
            self._pending.get(person_id, {}).pop(task_id, None)
            return
        by = TaskActor.field(person)
        await self._apply(task_id, TaskAction.DELIVER, by, now, Role.SYSTEM, ack_person=person_id)

    async def field_act(
        self,
        person_id: str,
        task_id: str,
        action: str,
        *,
        note: str = "",
        photos: Sequence[str] = (),
    ) -> DispatchTask:
        act = _FIELD_ACTIONS.get(action)
        if act is None:
            raise HubError(ErrorCode.INVALID, f"未知操作 / unknown action {action!r}")
        self._mine(person_id, task_id)
        by = TaskActor.field(self.person(person_id))
        task, _ = await self._apply(
            task_id, act, by, self.hub.clock(), Role.SYSTEM, note=note, photos=photos
        )
        return task

    async def store_photo(self, person_id: str, task_id: str, data: bytes) -> AttachmentInfo:
        """Check and store a feedback photo; raises `UploadRefused` (nothing stored)."""
        kind = check_photo(data)
        t = self._mine(person_id, task_id)
        digest = hashlib.sha256(data).hexdigest()
        pid = f"{PHOTO_ID_PREFIX}{digest[:32]}"
        for a in await self.evidence(t.event_id):
            if a.id == pid:
                return a
        path = self.upload_dir / f"{pid}{kind.ext}"
        await asyncio.to_thread(_write_file, path, data)
        now = self.hub.clock()
        att = st.Attachment(
            id=pid,
            event_id=t.event_id,
            task_id=t.id,
            kind="photo",
            path=str(path),
            sha256=digest,
            size=len(data),
            mime=kind.mime,
            added_by=person_id,
            at=now,
            note="",
        )

        def job(tx: Tx) -> None:
            st.add_attachment(tx.conn, att)

        try:
            await self._commit(job)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        info = attachment_info(att)
        self._evidence.setdefault(t.event_id, []).append(info)
        return info

    async def attachment_for(self, person_id: str, att_id: str) -> AttachmentInfo | None:
        """An attachment the person may see: of an event they have an open task for."""
        rows = await asyncio.to_thread(st.attachments_of, self.engine, ids=[att_id])
        if not rows:
            return None
        a = rows[0]
        if not any(
            t.event_id == a.event_id and t.assignee == person_id for t in self._open.values()
        ):
            return None
        return attachment_info(a)

    # -- phone links and sessions ----------------------------------------------------------------
    async def issue_link(self, person_id: str, ttl: timedelta) -> tuple[str, str, datetime]:
        """(token, PIN, expires at) of a new personal link for a person of the site."""
        self.person(person_id)
        token = secrets.token_urlsafe(24)
        pin = f"{secrets.randbelow(10**6):06d}"
        h = await asyncio.to_thread(hash_pin, pin)
        now = self.hub.clock()
        exp = now + ttl
        await self._commit(
            lambda tx: st.put_phone_link(tx.conn, st.token_hash(token), person_id, h, now, exp)
        )
        return token, pin, exp

    async def link_status(self, token: str) -> tuple[str, st.PhoneLink | None]:
        """('ok' | 'unknown' | 'expired' | 'locked', the link)."""
        link = await asyncio.to_thread(st.phone_link, self.engine, st.token_hash(token))
        if link is None or link.revoked or link.person_id not in self._people:
            return "unknown", link
        if link.expires_at <= self.hub.clock():
            return "expired", link
        if link.failures >= MAX_PIN_FAILURES:
            return "locked", link
        return "ok", link

    async def login(self, token: str, pin: str) -> LoginResult:
        status, link = await self.link_status(token)
        if status != "ok" or link is None:
            return LoginResult(False, status)
        lh = st.token_hash(token)
        ok = await asyncio.to_thread(verify_pin, pin, link.pin_hash)
        if not ok:
            failures = link.failures + 1
            await self._commit(lambda tx: st.set_link_failures(tx.conn, lh, failures))
            left = max(0, MAX_PIN_FAILURES - failures)
            return LoginResult(False, "wrong" if left else "locked", remaining=left)
        session = secrets.token_urlsafe(24)
        sh = st.token_hash(session)
        now = self.hub.clock()
        exp = min(now + self.session_ttl, link.expires_at)

        def job(tx: Tx) -> None:
            if link.failures:
                st.set_link_failures(tx.conn, lh, 0)
            st.put_phone_session(tx.conn, sh, lh, link.person_id, now, exp)

        await self._commit(job)
        self._sessions[sh] = (lh, link.person_id, exp)
        return LoginResult(True, "ok", person_id=link.person_id, session=session)

    async def session_person(self, token: str, session: str | None) -> str | None:
        """The person of a phone session cookie, if it is valid for this link."""
        if not session:
            return None
        sh = st.token_hash(session)
        got = self._sessions.get(sh)
        if got is None:
            got = await asyncio.to_thread(st.phone_session, self.engine, sh)
            if got is None:
                return None
            self._sessions[sh] = got
        lh, person, exp = got
        if lh != st.token_hash(token) or exp <= self.hub.clock():
            return None
        return person

    # -- escalation --------------------------------------------------------------------------------
    def _schedule(self, t: DispatchTask) -> None:
        if t.grid_id is None:
            return
        # the next step after the task's last change: one that fell due while the hub
        # was down is in the past, so it runs at once
        due = next_escalation_at(t, t.updated_at, self.ladder)
        if due is not None:
            heapq.heappush(self._esc, (due, t.id, t.version))

    def next_escalation(self) -> datetime | None:
        while self._esc:
            due, tid, version = self._esc[0]
            t = self._open.get(tid)
            if t is not None and t.version == version:
                return due
            heapq.heappop(self._esc)
        return None

    async def run_escalations(self) -> int:
        """Escalate every task whose acknowledgement is overdue at `clock()`; return how many."""
        if self.site is None:
            return 0
        site = self.site
        async with self._esc_lock:
            now = self.hub.clock()
            due: list[str] = []
            while self._esc and self._esc[0][0] <= now:
                _, tid, version = heapq.heappop(self._esc)
                t = self._open.get(tid)
                if t is not None and t.version == version and tid not in due:
                    due.append(tid)
            n = 0
            for tid in due:
                new_id = new_task_id(now)

                def job(tx: Tx, tid: str = tid, new_id: str = new_id) -> list[Outcome] | None:
                    t = self._load(tx, tid)
                    if t.grid_id is None:
                        return None
                    chain = geo.responsible_people(site, t.grid_id)
                    got = escalate(t, chain, now, new_task_id=new_id, ladder=self.ladder)
                    if got is None:
                        return None
                    old, new = got
                    self._record(tx, [(old, t.version), (new, None)], now, Role.SYSTEM)
                    st.add_outbox(tx.conn, new.task.id, new.task.assignee, now)
                    return [old, new]

                try:
                    outs = await self._commit(job)
                except HubError as exc:
                    log.warning("escalation of %s failed: %s", tid, exc)
                    continue
                if outs is None:
                    t = self._open.get(tid)
                    if t is not None:  # nobody higher: look again at its next step, if any
                        self._schedule(t)
                    continue
                self._after(outs, [(outs[1].task.assignee, outs[1].task.id)])
                n += 1
            return n


def _officer(session: Session) -> TaskActor:
    return TaskActor(kind=ActorKind.OFFICER, id=session.operator, via=session.workstation)


def _attachments_in(tx: Tx, ids: Sequence[str]) -> list[st.Attachment]:
    from sqlalchemy import select

    q = select(st.attachments).where(st.attachments.c.id.in_(list(ids)))
    return [st._attachment(r) for r in tx.conn.execute(q)]


def _write_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
