"""The hub's dispatch service: one-click dispatch to grid leaders, the task states
reported by their phones, and the parts it is made of.

`DispatchService` is the face the hub, its zmq server and the phone page use. It owns the
parts, each one concept, built in its constructor (no I/O there): `People` (the site's
people), `TaskRecorder` (the one transaction of a task change, see its module),
`TaskBoard` (the open tasks, the push outbox, the phones listening), `EscalationQueue`
and `Escalator` (the escalation timers, driven by `run_escalations()`),
`EvidenceService` (attachments and feedback photos) and `PhoneLinks` (personal links,
PINs, sessions). Clock injected (the hub's).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine

from dispatch.domain import geo, rules
from dispatch.domain.model import AuditEntry, Event, Role, is_open
from dispatch.domain.rules import DEFAULT_LADDER, EscalationLadder
from dispatch.domain.site import Grid, Person, Site
from dispatch.domain.wire import ErrorCode, HubError
from dispatch.events.service import HubService
from dispatch.hub.auth import Session
from dispatch.hub.writer import Tx
from dispatch.links.core import LoginResult
from dispatch.tasks import store as st
from dispatch.tasks.core import (
    ActorKind,
    DispatchTask,
    InstructionTemplates,
    Outcome,
    TaskAction,
    TaskActor,
    TaskTransition,
    TaskTransitionError,
    apply,
    instruction_for,
    load_templates,
    new_task,
    reassign,
)
from dispatch.tasks.messages import AttachmentInfo, CameraDistance, DispatchPreviewReply
from dispatch.tasks.service.board import Listener, TaskBoard
from dispatch.tasks.service.escalation import EscalationQueue, Escalator
from dispatch.tasks.service.evidence import EvidenceService, check_photos_of_task
from dispatch.tasks.service.links import PhoneLinks
from dispatch.tasks.service.people import People, person_info
from dispatch.tasks.service.recorder import TaskRecorder, load_task, new_task_id
from dispatch.tasks.service.upload import EvidenceUploads

T = TypeVar("T")

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


def _officer(session: Session) -> TaskActor:
    return TaskActor(kind=ActorKind.OFFICER, id=session.operator, via=session.workstation)


class DispatchService:
    def __init__(
        self,
        hub: HubService,
        site: Site | None,
        *,
        upload_dir: Path,
        evidence_dir: Path,
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
        self.people = People(site)
        self.recorder = TaskRecorder(hub, self.people.names())
        self.queue = EscalationQueue(ladder)
        self.board = TaskBoard(on_open=self.queue.schedule)
        self.escalator = Escalator(site, hub.clock, self.recorder, self.board, self.queue)
        self.evidence_store = EvidenceService(
            hub, self.recorder, self.board, upload_dir, evidence_dir
        )
        self.uploads = EvidenceUploads(self.evidence_store.files)
        self.links = PhoneLinks(hub, self.recorder, self.people, session_ttl)
        self._started = False

    # -- life cycle -------------------------------------------------------------------------
    async def start(self) -> None:
        if self._started:
            return
        if self._templates is None:
            self._templates = await asyncio.to_thread(load_templates)
        engine = self.hub.store.engine
        tasks = await asyncio.to_thread(st.open_tasks, engine)
        pushes = await asyncio.to_thread(st.pending_pushes, engine)
        self.board.load(tasks, pushes)
        await asyncio.to_thread(self.evidence_store.files.drop_parts)
        self._started = True

    async def stop(self) -> None:
        self._started = False
        self.board.clear_listeners()
        await self.uploads.close()

    @property
    def engine(self) -> Engine:
        return self.hub.store.engine

    def _need_site(self) -> Site:
        if self.site is None:
            raise HubError(ErrorCode.INVALID, "未配置辖区（--site），无法派单 / no site configured")
        return self.site

    def names(self) -> dict[str, str]:
        return dict(self.people.names())

    def person(self, person_id: str) -> Person:
        return self.people.person(person_id)

    # -- the parts' faces (callers keep one service to talk to) --------------------------------
    def listen(self, person_id: str, fn: Listener) -> None:
        self.board.listen(person_id, fn)

    def unlisten(self, person_id: str, fn: Listener) -> None:
        self.board.unlisten(person_id, fn)

    def sessions_connected(self) -> int:
        return self.board.sessions_connected()

    def open_tasks_of(self, person_id: str) -> list[tuple[DispatchTask, bool]]:
        """The person's open tasks, oldest first, each with 'still awaiting the phone's ack'."""
        return self.board.open_tasks_of(person_id)

    async def evidence(self, event_id: str) -> list[AttachmentInfo]:
        return await self.evidence_store.of_event(event_id)

    async def begin_evidence(
        self,
        session: Session,
        event_id: str,
        kind: str,
        *,
        name: str,
        sha256: str,
        size: int,
        task_id: str | None = None,
        note: str = "",
    ) -> str:
        """Open an evidence upload for an event (see `upload.py`); its id."""
        await self.recorder.event(event_id)  # NOT_FOUND before any byte is sent
        return await self.uploads.begin(
            session, event_id, kind, name=name, sha256=sha256, size=size, task_id=task_id, note=note
        )

    async def evidence_chunk(self, session: Session, upload_id: str, offset: int, data: str) -> int:
        return await self.uploads.chunk(session, upload_id, offset, data)

    async def finish_evidence(self, session: Session, upload_id: str) -> tuple[AttachmentInfo, int]:
        """Check and store the upload, attach it to its event (a timeline row too)."""
        f = await self.uploads.finish(session, upload_id)
        return await self.evidence_store.attach(
            session, f.event_id, f.kind, f.stored, task_id=f.task_id, note=f.note
        )

    async def store_photo(self, person_id: str, task_id: str, data: bytes) -> AttachmentInfo:
        """Check and store a feedback photo; raises `UploadRefused` (nothing stored)."""
        return await self.evidence_store.store_photo(person_id, task_id, data)

    async def file_for(self, person_id: str, att_id: str) -> tuple[AttachmentInfo, Path] | None:
        """An attachment the person may see and its file in the hub's own store."""
        return await self.evidence_store.file_for(person_id, att_id)

    async def issue_link(self, person_id: str, ttl: timedelta) -> tuple[str, str, datetime]:
        """(token, PIN, expires at) of a new personal link for a person of the site."""
        return await self.links.issue(person_id, ttl)

    async def link_status(self, token: str) -> tuple[str, st.PhoneLink | None]:
        """('ok' | 'unknown' | 'expired' | 'locked', the link)."""
        return await self.links.status(token)

    async def login(self, token: str, pin: str) -> LoginResult:
        return await self.links.login(token, pin)

    async def session_person(self, token: str, session: str | None) -> str | None:
        """The person of a phone session cookie, if it is valid for this link."""
        return await self.links.session_person(token, session)

    def next_escalation(self) -> datetime | None:
        return self.escalator.next_due()

    async def run_escalations(self) -> int:
        """Escalate every task whose acknowledgement is overdue at `clock()`; return how many."""
        return await self.escalator.run()

    # -- borrowed by mediation (until the events service offers them) --------------------------
    def _record(
        self,
        tx: Tx,
        outcomes: Sequence[tuple[Outcome, int | None]],
        now: datetime,
        role: Role,
        extra_audit: Sequence[AuditEntry] = (),
    ) -> int:
        return self.recorder.record(tx, outcomes, now, role, extra_audit)

    async def _commit(self, fn: Callable[[Tx], T]) -> T:
        return await self.recorder.commit(fn)

    async def _event(self, event_id: str) -> Event:
        return await self.recorder.event(event_id)

    # -- console side ----------------------------------------------------------------------------
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
        ev = await self.recorder.event(event_id)
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
        ev = await self.recorder.event(event_id)
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
        for t in self.board.open_tasks():
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
            seq = self.recorder.record(tx, [(out, None)], now, session.role)
            st.add_outbox(tx.conn, out.task.id, person.id, now)
            return seq

        seq = await self.recorder.commit(job)
        self.board.after([out], [(person.id, out.task.id)])
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
                t = load_task(tx, task_id)
                old, new = reassign(t, to, by, now, new_task_id=new_id, note=note)
                seq = self.recorder.record(tx, [(old, t.version), (new, None)], now, session.role)
                st.add_outbox(tx.conn, new.task.id, to.id, now)
                return seq, [old, new]

            seq, outs = await self.recorder.commit(rjob)
            self.board.after(outs, [(to.id, new_id)])
            return outs[1].task, seq
        act = _OFFICER_ACTIONS.get(action)
        if act is None:
            raise HubError(ErrorCode.INVALID, f"unknown task action {action!r}")
        return await self._apply(task_id, act, by, now, session.role, note=note)

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
            t = load_task(tx, task_id)
            if ack_person is not None:
                st.ack_outbox(tx.conn, task_id, ack_person, now)
            out = apply(t, action, by, now, note=note, photos=photos)
            if out.transition is None:
                return out, 0
            if photos:
                check_photos_of_task(tx, t.id, photos)
            return out, self.recorder.record(tx, [(out, t.version)], now, role)

        out, seq = await self.recorder.commit(job)
        if ack_person is not None:
            self.board.acked(ack_person, task_id)
        self.board.after([out])
        return out.task, seq

    async def tasks_of_event(
        self, event_id: str
    ) -> tuple[list[DispatchTask], list[TaskTransition], list[AttachmentInfo]]:
        tasks = await asyncio.to_thread(st.tasks_of_event, self.engine, event_id)
        hist = await asyncio.to_thread(st.history, self.engine, event_id=event_id)
        return tasks, [row for _, row in hist], await self.evidence(event_id)

    # -- phone side ----------------------------------------------------------------------------
    async def ack(self, person_id: str, task_id: str) -> None:
        """The phone received a pushed task: delivered (idempotent; unknown ids are ignored
        so that a late ack of a task moved away meanwhile is harmless)."""
        person = self.people.get(person_id)
        if person is None:
            return
        now = self.hub.clock()
        if self.board.get(task_id) is None:

            def ack_only(tx: Tx) -> None:
                st.ack_outbox(tx.conn, task_id, person_id, now)

            await self.recorder.commit(ack_only)
            self.board.acked(person_id, task_id)
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
        self.board.mine(person_id, task_id)
        by = TaskActor.field(self.person(person_id))
        task, _ = await self._apply(
            task_id, act, by, self.hub.clock(), Role.SYSTEM, note=note, photos=photos
        )
        return task
