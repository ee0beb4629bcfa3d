"""The hub's domain service: intake, actions, login, snapshots and the deadline timers.

Transport-free (the zmq and HTTP layers call it) and clock-injected. All writes go
through the one `GroupWriter`; the in-memory view of open events, their colours and
the recent published changes is only touched on the asyncio loop's thread (in
`_committed`, which the writer schedules there after each commit), so a snapshot
built on the loop is exactly consistent with the seq it carries.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import random
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TypeVar

from pydantic import BaseModel
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from dispatch.db import store
from dispatch.domain import rules
from dispatch.domain.calendar import WorkCalendar
from dispatch.domain.model import (
    DEFAULT_CATEGORIES,
    Action,
    Actor,
    AuditEntry,
    Colour,
    Event,
    EventIntake,
    EventSource,
    Role,
    check_category,
    is_open,
    mask_reporter,
)
from dispatch.domain.strict import FROZEN
from dispatch.domain.wire import ErrorCode, HubError
from dispatch.events.core import (
    ChangeRing,
    TransitionError,
    allowed_actions,
    apply,
    live_timers,
    new_event,
)
from dispatch.events.messages import (
    EventChanged,
    SnapshotEntry,
    change_body_json,
    encode_changed,
    snapshot_entry_json,
)
from dispatch.hub import auth
from dispatch.hub.clock import CHINA_TZ, china_now
from dispatch.hub.hashing import HashPool, PoolBusy
from dispatch.hub.storage import (
    MESSAGES,
    RETRY_AFTER_S,
    StorageHealth,
    classify,
    database_folder,
    store_probe,
)
from dispatch.hub.writer import Committed, GroupWriter, Refused, Tx

log = logging.getLogger(__name__)

T = TypeVar("T")


_ids = random.Random(secrets.randbits(128))  # unique, not secret: no syscall per id


def new_event_id(now: datetime) -> str:
    d = now.astimezone(CHINA_TZ)
    return f"E{d.year:04d}{d.month:02d}{d.day:02d}-{_ids.getrandbits(40):010x}"


class _ChangeBody(BaseModel):
    """What a `changes` row stores (its seq is the row's key)."""

    model_config = FROZEN
    event: Event
    colour: Colour
    audit: list[AuditEntry]


def change_payload(ev: Event, colour: Colour, audit: list[AuditEntry]) -> str:
    return _ChangeBody(event=ev, colour=colour, audit=audit).model_dump_json()


@dataclass(frozen=True)
class EncodedChange:
    """A change serialised once: the event's whole JSON goes into its `events` row, its
    JSON as clients see it (the reporter's numbers masked) into the stored change row,
    the PUB frame and the snapshot entry (never serialised again). The published change
    carries the masked event too."""

    event: Event  # as clients see it (masked)
    colour: Colour
    audit: list[AuditEntry]
    event_json: str  # whole: the `events` row only
    wire_json: str  # masked: everything that leaves the store
    audit_json: list[str]

    @classmethod
    def of(cls, ev: Event, colour: Colour, audit: list[AuditEntry]) -> EncodedChange:
        whole = ev.model_dump_json()
        shown = mask_reporter(ev)
        wire = whole if shown is ev else shown.model_dump_json()
        return cls(shown, colour, audit, whole, wire, [a.model_dump_json() for a in audit])

    def payload(self) -> str:
        return change_body_json(self.wire_json, self.colour, self.audit_json)

    def committed(self, seq: int) -> Committed:
        ch = EventChanged.model_construct(
            seq=seq, event=self.event, colour=self.colour, audit=self.audit
        )
        frame = encode_changed(seq, self.wire_json, self.colour, self.audit_json)
        return Committed(ch, frame, snapshot_entry_json(self.wire_json, self.colour))


class IntakeRejected(Exception):
    """An intake that validated but cannot be accepted; `field` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class HubSettings:
    yellow_share: float = 0.25
    policy: rules.DeadlinePolicy = rules.DEFAULT_POLICY
    categories: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_CATEGORIES))
    ring_size: int = 20_000  # recent changes kept for "changes since N" resyncs
    ring_bytes: int = 4 * 1024 * 1024  # and their JSON's memory (events.core.ChangeRing)
    timers_slack: int = 1024  # stale timers tolerated beyond twice the open events


class HubService:
    def __init__(
        self,
        db: store.Store,
        *,
        clock: Callable[[], datetime] = china_now,
        calendar: WorkCalendar | None = None,
        settings: HubSettings | None = None,
        on_publish: Callable[[list[Committed]], None] | None = None,
        hasher: HashPool | None = None,
    ) -> None:
        self.store = db
        self.hasher = hasher if hasher is not None else HashPool()  # passwords only
        self.clock = clock
        self.calendar = calendar if calendar is not None else WorkCalendar()
        self.settings = settings if settings is not None else HubSettings()
        self.instance = secrets.token_hex(8)
        self.sessions = auth.Sessions()
        self._on_publish = on_publish
        self.storage = StorageHealth(
            store_probe(lambda: self.store.engine, database_folder(db.url)), clock=clock
        )
        self._writer: GroupWriter | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # The open events as JSON (their snapshot entries) and versions, not as models:
        # 10,000 open events as pydantic models were ~100,000 objects for every full
        # garbage collection to walk (40-65 ms pauses); strings and ints are not walked.
        self._open_json: dict[str, str] = {}
        self._versions: dict[str, int] = {}
        self.colours: dict[str, Colour] = {}
        self.last_seq = 0
        # recent changes as (seq, event id, snapshot entry JSON): strings, so that a long
        # ring adds nothing for the garbage collector to walk
        self._ring = ChangeRing(self.settings.ring_size, self.settings.ring_bytes)
        self._timers: list[tuple[datetime, str, int]] = []
        self._timer_lock = asyncio.Lock()

    # -- life cycle --------------------------------------------------------------------
    async def start(self) -> None:
        if self._writer is not None:
            return
        self._loop = asyncio.get_running_loop()
        await asyncio.to_thread(self.store.open)
        rows = await asyncio.to_thread(self.store.open_events)
        self.last_seq = await asyncio.to_thread(self.store.last_seq)
        now = self.clock()
        for ev, colour, _seq in rows:
            self._versions[ev.id] = ev.version
            self.colours[ev.id] = colour
            shown = mask_reporter(ev).model_dump_json()
            self._open_json[ev.id] = snapshot_entry_json(shown, colour)
            # a colour that changed while the hub was down is due at once
            due = now if self._colour(ev, now) is not colour else self._next_check(ev, now)
            if due is not None:
                heapq.heappush(self._timers, (due, ev.id, ev.version))
        self._writer = GroupWriter(self.store, self._committed, loop=self._loop)
        self._writer.start()

    async def stop(self) -> None:
        if self._writer is None:
            return
        writer, self._writer = self._writer, None
        await self.storage.stop()
        self.hasher.stop()
        await asyncio.to_thread(writer.stop)
        await asyncio.to_thread(self.store.close)

    @property
    def writer(self) -> GroupWriter:
        if self._writer is None:
            raise HubError(ErrorCode.INTERNAL, "hub is not running")
        return self._writer

    async def _write(self, fn: Callable[[Tx], T]) -> T:
        """Every write of the hub: a full disk or an unreachable database sets the store's
        state and is answered `busy` with why (`dispatch.hub.storage`); a commit sets ok."""
        try:
            got = await self.writer.submit_async(fn)
        except Exception as exc:
            state = classify(exc)
            if state is None:
                raise
            self.storage.failed(state, exc)
            raise HubError(ErrorCode.BUSY, MESSAGES[state], retry_after_s=RETRY_AFTER_S) from exc
        if self.storage.state != "ok":
            self.storage.succeeded()
        return got

    def _committed(self, published: list[Committed]) -> None:
        """On the loop: update the view and the timers, then publish (in seq order)."""
        now = self.clock()
        fresh: list[Committed] = []
        for c in published:
            ch = c.change
            if ch.seq <= self.last_seq:
                continue
            fresh.append(c)
            self.last_seq = ch.seq
            ev = ch.event
            entry = c.entry
            self._ring.append(ch.seq, ev.id, entry)
            if is_open(ev.state):
                self._versions[ev.id] = ev.version
                self.colours[ev.id] = ch.colour
                self._open_json[ev.id] = entry
                due = self._next_check(ev, now)
                if due is not None:
                    heapq.heappush(self._timers, (due, ev.id, ev.version))
            else:
                self._versions.pop(ev.id, None)
                self.colours.pop(ev.id, None)
                self._open_json.pop(ev.id, None)
        self._compact_timers()
        if self._on_publish is not None and fresh:
            self._on_publish(fresh)

    def _compact_timers(self) -> None:
        """Each change pushes a timer; the old version's would wait in the heap until it
        is due, hours or days away, even after the event was archived (`live_timers`)."""
        if len(self._timers) > 2 * len(self._versions) + self.settings.timers_slack:
            self._timers = live_timers(self._timers, self._versions)

    @property
    def pending_timers(self) -> int:
        """Timers in the heap (live and not yet compacted away)."""
        return len(self._timers)

    # -- rules ---------------------------------------------------------------------------
    def _colour(self, ev: Event, now: datetime) -> Colour:
        return rules.colour(
            ev, now, self.calendar, self.settings.yellow_share, self.settings.policy
        )

    def _next_check(self, ev: Event, now: datetime) -> datetime | None:
        """When this event's colour may change next, or its next 催办 is due."""
        if not is_open(ev.state):
            return None
        pol = self.settings.policy
        times = [
            rules.next_colour_change(ev, now, self.calendar, self.settings.yellow_share, pol),
            rules.next_reminder_at(ev, ev.last_reminder_at, self.calendar, pol),
        ]
        present = [t for t in times if t is not None]
        return min(present) if present else None

    # -- intake ---------------------------------------------------------------------------
    async def intake(self, intake: EventIntake) -> tuple[Event, bool]:
        """Accept an event; return it and whether it is new (False: the first of a repeat).

        The event, its colour and its JSON are made here on the loop; the writer's job
        is only the duplicate check and the inserts.
        """
        try:
            check_category(intake.category, self.settings.categories)
        except ValueError as exc:
            raise IntakeRejected("category", str(exc)) from None
        now = self.clock()
        try:
            ev, entry = new_event(intake, event_id=new_event_id(now), now=now)
        except ValueError as exc:
            fieldname = getattr(exc, "field", "body")
            raise IntakeRejected(str(fieldname), str(exc)) from None
        enc = EncodedChange.of(ev, self._colour(ev, now), [entry])
        payload = enc.payload()
        source, ref = intake.source, intake.source_ref

        def job(tx: Tx) -> tuple[Event | str, bool]:
            existing = store.find_json_by_source_ref(tx.conn, source, ref)
            if existing is not None:
                return existing, False
            try:
                with tx.savepoint():
                    seq = store.insert_event(
                        tx.conn, ev, enc.colour, enc.audit, payload, data=enc.event_json
                    )
            except IntegrityError:
                # a concurrent repeat (another hub on the same PostgreSQL) won the
                # UNIQUE (source, source_ref): return it, on the careful run
                if not tx.careful:
                    raise
                existing = store.find_json_by_source_ref(tx.conn, source, ref)
                if existing is None:
                    raise
                return existing, False
            tx.published.append(enc.committed(seq))
            return ev, True

        got, created = await self._write(job)
        if isinstance(got, str):
            got = Event.model_validate_json(got)
        return got, created

    async def get_event(self, event_id: str) -> Event | None:
        return await asyncio.to_thread(self.store.get_event, event_id)

    # -- the public API of the timeline for other features (mediation, …) --------------------
    @property
    def engine(self) -> Engine:
        """The store's engine, for a feature's own reads off the loop (asyncio.to_thread)."""
        return self.store.engine

    async def commit(self, fn: Callable[[Tx], T]) -> T:
        """Run `fn` as one transaction of the single writer; its result once committed."""
        return await self._write(fn)

    async def require_event(self, event_id: str) -> Event:
        """The event as last published if open, else as stored; NOT_FOUND if there is none."""
        ev = self.open_event(event_id)
        if ev is None:
            ev = await self.get_event(event_id)
        if ev is None:
            raise HubError(ErrorCode.NOT_FOUND, f"事件不存在 / no event {event_id!r}")
        return ev

    def event_in(self, tx: Tx, event_id: str) -> Event:
        """Inside a writer job (`commit`): the event as stored now; NOT_FOUND if none."""
        ev = store.load_event(tx.conn, event_id)
        if ev is None:
            raise HubError(ErrorCode.NOT_FOUND, f"事件不存在 / no event {event_id!r}")
        return ev

    def append_timeline(
        self,
        tx: Tx,
        ev: Event,
        entries: Sequence[AuditEntry],
        now: datetime,
        *,
        extra: Callable[[int], Sequence[bytes]] | None = None,
    ) -> int:
        """Inside a writer job (`commit`): append `entries` to the timeline of `ev` (as
        `event_in` gave it) as one published change, its frame followed by `extra(seq)`
        (a feature's own frames, e.g. `TaskChanged`); the change's seq.

        The event itself does not change (no state, no version): consoles see the new
        timeline lines with the event's current colour.
        """
        audit = list(entries)
        colour = self.colours.get(ev.id) or self._colour(ev, now)
        enc = EncodedChange.of(ev, colour, audit)
        seq = store.append_change(tx.conn, ev.id, now, enc.payload())
        store.touch_event(tx.conn, ev.id, seq, colour)
        store.append_audit(tx.conn, audit)
        frames = tuple(extra(seq)) if extra is not None else ()
        tx.published.append(replace(enc.committed(seq), extra=frames))
        return seq

    # -- operators --------------------------------------------------------------------------
    async def login(self, operator: str, password: str, workstation: str) -> auth.Session:
        """A session for the right password; HubError AUTH, or BUSY when the hashing
        pool is full (the look-up and the hash run there, not in the shared pool)."""

        def check() -> tuple[store.OperatorRecord | None, bool]:
            rec = self.store.operator(operator)
            return rec, auth.check_login(password, rec.password_hash if rec else None)

        try:
            rec, ok = await self.hasher.run(check)
        except PoolBusy:
            raise HubError(ErrorCode.BUSY, "服务器繁忙，请稍后重试 / hub busy, retry") from None
        if rec is None or not ok or rec.disabled:
            raise HubError(ErrorCode.AUTH, "用户名或密码错误 / wrong operator name or password")
        return self.sessions.open(rec.name, rec.role, workstation)

    def session(self, token: str) -> auth.Session:
        s = self.sessions.get(token)
        if s is None:
            raise HubError(ErrorCode.AUTH, "未登录或会话已失效 / not logged in or session expired")
        return s

    async def add_operator(self, name: str, role: Role, password: str) -> None:
        if role not in auth.OPERATOR_ROLES:
            raise ValueError(f"role must be one of {[r.value for r in auth.OPERATOR_ROLES]}")
        h = await asyncio.to_thread(auth.hash_password, password)
        now = self.clock()
        await self._write(lambda tx: store.upsert_operator(tx.conn, name, role, h, now))

    async def add_api_key(self, key: str, name: str, sources: Iterable[EventSource]) -> None:
        src = list(sources)
        now = self.clock()
        await self._write(lambda tx: store.put_api_key(tx.conn, key, name, src, now))

    # -- actions ------------------------------------------------------------------------------
    async def act(
        self,
        session: auth.Session,
        event_id: str,
        action: Action,
        *,
        note: str = "",
        assignee: str | None = None,
        extension_days: int = 0,
    ) -> EventChanged:
        actor = Actor(operator=session.operator, role=session.role, workstation=session.workstation)
        now = self.clock()

        def job(tx: Tx) -> EventChanged:
            ev = store.load_event(tx.conn, event_id)
            if ev is None:  # refused before any write: the batch goes on (`Refused`)
                raise Refused(HubError(ErrorCode.NOT_FOUND, f"事件不存在 / no event {event_id!r}"))
            try:
                tr = apply(
                    ev, action, actor, now, note=note, assignee=assignee,
                    extension_days=extension_days,
                )  # fmt: skip
            except TransitionError as exc:
                code = (
                    ErrorCode.FORBIDDEN
                    if exc.code == "role" or _forbidden(ev, action, actor.role)
                    else ErrorCode.TRANSITION
                )
                raise Refused(HubError(code, str(exc))) from None
            enc = EncodedChange.of(tr.event, self._colour(tr.event, now), [tr.audit])
            seq = store.update_event(
                tx.conn,
                tr.event,
                enc.colour,
                ev.version,
                enc.audit,
                enc.payload(),
                now,
                data=enc.event_json,
            )
            c = enc.committed(seq)
            tx.published.append(c)
            return c.change

        return await self._write(job)

    async def timeline(self, event_id: str) -> list[AuditEntry]:
        ev = await asyncio.to_thread(self.store.get_event, event_id)
        if ev is None:
            raise HubError(ErrorCode.NOT_FOUND, f"事件不存在 / no event {event_id!r}")
        return await asyncio.to_thread(self.store.timeline, event_id)

    # -- snapshots -----------------------------------------------------------------------------
    def snapshot(self, since: int | None) -> tuple[int, bool, list[str]]:
        """(seq, full, entries as SnapshotEntry JSON): the changes after `since` if still
        in memory, else every open event."""
        if since is not None and since <= self.last_seq:
            latest = self._ring.since(since, self.last_seq)
            if latest is not None:
                return self.last_seq, False, latest
        return self.last_seq, True, list(self._open_json.values())

    async def events_by_id(self, ids: list[str]) -> tuple[int, list[SnapshotEntry], list[str]]:
        """(seq, the events that exist with their colours, the ids that do not)."""
        seq = self.last_seq  # read before: what is returned is at least this new
        found = await asyncio.to_thread(self.store.events_json_by_id, ids)
        entries = [
            SnapshotEntry(event=mask_reporter(Event.model_validate_json(data)), colour=colour)
            for data, colour in (found[i] for i in ids if i in found)
        ]
        return seq, entries, [i for i in ids if i not in found]

    def open_event(self, event_id: str) -> Event | None:
        """An open event as the hub last published it (None if unknown or closed)."""
        entry = self._open_json.get(event_id)
        return SnapshotEntry.model_validate_json(entry).event if entry is not None else None

    def open_event_ids(self) -> list[str]:
        return list(self._open_json)

    # -- timers --------------------------------------------------------------------------------
    def next_timer(self) -> datetime | None:
        return self._timers[0][0] if self._timers else None

    def recheck_all(self) -> int:
        """Every open event is due at once, and only at once (the wall clock jumped: each
        colour is recomputed at the new time by the next `run_timers`, which schedules
        each event's next check again); returns how many open events."""
        now = self.clock()
        self._timers = [(now, eid, version) for eid, version in self._versions.items()]
        heapq.heapify(self._timers)
        return len(self._timers)

    async def run_timers(self) -> int:
        """Handle every timer due at `clock()`; return how many changes were written."""
        async with self._timer_lock:
            now = self.clock()
            due: dict[str, int] = {}
            while self._timers and self._timers[0][0] <= now:
                _, eid, version = heapq.heappop(self._timers)
                if self._versions.get(eid) == version:
                    due[eid] = version
            if not due:
                return 0
            jobs = (self._write(self._timer_job(eid, now)) for eid in due)
            results = await asyncio.gather(*jobs, return_exceptions=True)
            # events whose check changed nothing get their next check scheduled here, and
            # a check that could not be written (a full disk) is tried again, not dropped
            failed: BaseException | None = None
            for eid, changed in zip(due, results, strict=True):
                ev = self.open_event(eid)
                if isinstance(changed, BaseException):
                    failed = changed
                    if ev is not None:
                        heapq.heappush(self._timers, (now + _RETRY_STEP, eid, ev.version))
                elif not changed and ev is not None:
                    nxt = self._next_check(ev, now)
                    if nxt is not None:
                        heapq.heappush(self._timers, (max(nxt, now + _MIN_STEP), eid, ev.version))
            if failed is not None:
                raise failed
            return sum(1 for r in results if r is True)

    def _timer_job(self, event_id: str, now: datetime) -> Callable[[Tx], bool]:
        def job(tx: Tx) -> bool:
            ev = store.load_event(tx.conn, event_id)
            if ev is None or not is_open(ev.state):
                return False
            colour = self._colour(ev, now)
            audit: list[AuditEntry] = []
            new = ev
            if rules.reminder_due(
                ev, ev.last_reminder_at, now, self.calendar, self.settings.policy
            ):
                tr = apply(ev, Action.REMIND, _TIMER_ACTOR, now, note="已超期，系统催办")
                new, audit = tr.event, [tr.audit]
                store.set_reminder(tx.conn, ev.id, now)
            if not audit and colour is self.colours.get(ev.id):
                return False
            enc = EncodedChange.of(new, colour, audit)
            if new is ev:
                seq = store.append_change(tx.conn, ev.id, now, enc.payload())
                store.touch_event(tx.conn, ev.id, seq, colour)
            else:
                seq = store.update_event(
                    tx.conn, new, colour, ev.version, audit, enc.payload(), now, data=enc.event_json
                )
            tx.published.append(enc.committed(seq))
            return True

        return job


_MIN_STEP = timedelta(seconds=1)
_RETRY_STEP = timedelta(seconds=RETRY_AFTER_S)
_TIMER_ACTOR = Actor(operator="system", role=Role.SYSTEM, workstation="hub")


def _forbidden(ev: Event, action: Action, role: Role) -> bool:
    """True if another (human) role could take the action now: the role is the reason."""
    if action in allowed_actions(ev, role):
        return False
    return any(
        action in allowed_actions(ev, other) for other in auth.OPERATOR_ROLES if other is not role
    )
