"""The event queue's state, free of Qt and of I/O (napari style).

`EventQueueModel` holds what the hub client has told the console (events with their
colour and sequence number, timelines fetched on demand), the operator's session, the
connection state, the filters and search text and the red alarms not yet acknowledged.
It is changed only by its methods (called on the Qt main thread by the controller) and
tells observers through `console.kit.observable.Observable`s
(`model.rows_changed.connect(fn)`). Time comes from the clock passed in; deadlines and
allowed actions come from functions passed in (the workflow core's in production), so
that tests drive it with a fake clock.

Archived events are kept only in a bounded window (`closed_window`, the newest
archived ones, for the archived filter and the event an operator has open): a console
that runs for days must not keep every event it ever saw. An event that leaves the
window leaves a tombstone (its version, also bounded), so that a late copy of an older
version cannot bring it back as open.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TypeVar

from console.events.actions import operator_actions
from console.kit.observable import Observable
from dispatch.domain.model import (
    Action,
    AuditEntry,
    Colour,
    Event,
    EventSource,
    EventState,
    Priority,
    Role,
    is_open,
)

T = TypeVar("T")

COLOUR_RANK: dict[Colour, int] = {Colour.RED: 0, Colour.YELLOW: 1, Colour.GREEN: 2}
PRIORITY_RANK: dict[Priority, int] = {
    Priority.EMERGENCY: 0,
    Priority.URGENT: 1,
    Priority.ROUTINE: 2,
}
_FAR_FUTURE = datetime.max.replace(tzinfo=UTC)
CLOSED_WINDOW = 500
"""Archived events kept for the archived filter (the newest ones)."""
TOMBSTONES_PER_CLOSED = 4
"""Versions of forgotten archived events kept, per event of the window: 2,000, which
guard an event for the whole window's turnover again after it left (a late copy comes
from a resync crossing the archive, seconds, not minutes). 20 kept 1.4 MB that a busy
console filled over its first 40 minutes (the soak, issue 16)."""


class ConnKind(StrEnum):
    DISCONNECTED = "disconnected"  # before the first connection attempt
    CONNECTING = "connecting"
    CONNECTED = "connected"
    LOST = "lost"
    REFUSED = "refused"  # the hub refuses this workstation's key (not enrolled, revoked)


@dataclass(frozen=True)
class Connection:
    kind: ConnKind = ConnKind.DISCONNECTED
    since: datetime | None = None  # when the hub was lost (kind LOST)
    # the hub's store, from its heartbeat: "disk_full" or "db_unreachable" while it saves
    # nothing (the banner says so), else "ok"
    hub_storage: str = "ok"
    storage_since: datetime | None = None


@dataclass(frozen=True)
class Session:
    operator: str
    role: Role
    workstation: str
    public_url: str = ""  # the hub's public base URL (links start with it); "": unknown


@dataclass(frozen=True)
class Change:
    """One published change as the console keeps it (from the hub's EventChanged)."""

    seq: int
    event: Event
    colour: Colour
    audit: tuple[AuditEntry, ...] = ()


@dataclass(frozen=True)
class Row:
    event: Event
    colour: Colour
    seq: int
    deadline: datetime | None


@dataclass(frozen=True)
class Filters:
    """None means "any"; `states` None means every open (not archived) state."""

    states: frozenset[EventState] | None = None
    sources: frozenset[EventSource] | None = None
    categories: frozenset[str] | None = None
    townships: frozenset[str] | None = None
    search: str = ""


@dataclass(frozen=True)
class Message:
    text: str
    error: bool = False


# ---------------------------------------------------------------- pure helpers


def sort_key(row: Row) -> tuple[int, datetime, int, datetime, str]:
    """Red first, then yellow, then green; each by the deadline of the current stage."""
    return (
        COLOUR_RANK[row.colour],
        row.deadline or _FAR_FUTURE,
        PRIORITY_RANK[row.event.priority],
        row.event.accepted_at,
        row.event.id,
    )


def search_text(event: Event, township_names: Mapping[str, str]) -> str:
    """The lower-cased text a search matches against (never the reporter's numbers)."""
    place = event.place
    parts = [
        event.id,
        event.title,
        event.description,
        event.source_ref,
        event.category,
        place.address,
        event.assignee or "",
        event.reporter.name,
        township_names.get(place.township or "", place.township or ""),
    ]
    return "\n".join(parts).lower()


def matches(row: Row, filters: Filters, township_names: Mapping[str, str]) -> bool:
    e = row.event
    if filters.states is None:
        if not is_open(e.state):
            return False
    elif e.state not in filters.states:
        return False
    if filters.sources is not None and e.source not in filters.sources:
        return False
    if filters.categories is not None and e.category not in filters.categories:
        return False
    if filters.townships is not None and (e.place.township or "") not in filters.townships:
        return False
    terms = filters.search.lower().split()
    if terms:
        hay = search_text(e, township_names)
        return all(t in hay for t in terms)
    return True


def supersedes(new: Change, old: Row | None) -> bool:
    """Whether a change replaces what the console holds (never go back in version or seq)."""
    if old is None:
        return True
    if new.event.version != old.event.version:
        return new.event.version > old.event.version
    return new.seq >= old.seq


def becomes_red(new: Row, old: Row | None) -> bool:
    """A red alarm: an open event seen red for the first time or just turned red."""
    if new.colour is not Colour.RED or not is_open(new.event.state):
        return False
    return old is None or old.colour is not Colour.RED


# ---------------------------------------------------------------- the model


@dataclass
class _Alarm:
    event_id: str
    raised_at: datetime
    order: int


@dataclass
class _State:
    rows: dict[str, Row] = field(default_factory=dict)
    closed: OrderedDict[str, None] = field(default_factory=OrderedDict)  # oldest first
    forgotten: OrderedDict[str, int] = field(default_factory=OrderedDict)  # id -> version
    timelines: dict[str, list[AuditEntry]] = field(default_factory=dict)
    alarms: dict[str, _Alarm] = field(default_factory=dict)
    filters: Filters = field(default_factory=Filters)
    only: frozenset[str] | None = None  # show only these events (a hot spot's), any state
    selected: str | None = None
    session: Session | None = None
    connection: Connection = field(default_factory=Connection)
    last_seq: int = 0
    alarm_counter: int = 0
    last_update: datetime | None = None
    message: Message | None = None


DeadlineFn = Callable[[Event], datetime | None]
AllowedFn = Callable[[Event, Role], list[Action]]


class EventQueueModel:
    """What the event queue shows. Methods run on one thread (the Qt main thread)."""

    def __init__(
        self,
        *,
        clock: Callable[[], datetime],
        deadline_fn: DeadlineFn,
        allowed_fn: AllowedFn,
        township_names: Mapping[str, str] | None = None,
        closed_window: int = CLOSED_WINDOW,
    ) -> None:
        self._clock = clock
        self.closed_window = closed_window
        self._deadline_fn = deadline_fn
        self._allowed_fn = allowed_fn
        self.township_names: dict[str, str] = dict(township_names or {})
        self._s = _State()
        self._visible: list[Row] | None = None
        # observers
        self.rows_changed: Observable[None] = Observable()
        self.selection_changed: Observable[str | None] = Observable()
        self.timeline_changed: Observable[str] = Observable()
        self.connection_changed: Observable[Connection] = Observable()
        self.session_changed: Observable[Session | None] = Observable()
        self.alarms_changed: Observable[list[str]] = Observable()
        self.message_changed: Observable[Message | None] = Observable()
        self.forgotten: Observable[list[str]] = Observable()  # archived, out of the window

    # ------------------------------------------------------------ clock
    def now(self) -> datetime:
        return self._clock()

    # ------------------------------------------------------------ updates from the hub
    def apply_changes(self, changes: Iterable[Change]) -> int:
        """Take published changes (a snapshot or live ones); returns how many were taken."""
        taken = 0
        alarms_before = len(self._s.alarms)
        alarms_touched = False
        selected_touched = False
        for ch in changes:
            old = self._s.rows.get(ch.event.id)
            self._s.last_seq = max(self._s.last_seq, ch.seq)
            self._append_audit(ch.event.id, ch.audit)
            if not supersedes(ch, old) or self._was_forgotten(ch.event):
                continue
            row = Row(ch.event, ch.colour, ch.seq, self._deadline_fn(ch.event))
            self._put(row)
            taken += 1
            if becomes_red(row, old):
                self._s.alarm_counter += 1
                alarm = _Alarm(row.event.id, self._clock(), self._s.alarm_counter)
                self._s.alarms[row.event.id] = alarm
                alarms_touched = True
            elif row.event.id in self._s.alarms and (
                row.colour is not Colour.RED or not is_open(row.event.state)
            ):
                del self._s.alarms[row.event.id]
                alarms_touched = True
            if row.event.id == self._s.selected:
                selected_touched = True
        if taken:
            self._trim_closed()
            self._s.last_update = self._clock()
            self._visible = None
            self.rows_changed.emit(None)
        if alarms_touched or len(self._s.alarms) != alarms_before:
            self.alarms_changed.emit(self.unacknowledged())
        if selected_touched:
            self.selection_changed.emit(self._s.selected)
        return taken

    def forget_missing(self, open_ids: set[str]) -> list[str]:
        """After a full resync: drop open events the hub's view no longer has (closed meanwhile)."""
        gone = [i for i, r in self._s.rows.items() if is_open(r.event.state) and i not in open_ids]
        if not gone:
            return []
        for i in gone:
            del self._s.rows[i]
            self._s.closed.pop(i, None)
            self._s.timelines.pop(i, None)
        alarms = [i for i in gone if self._s.alarms.pop(i, None) is not None]
        if self._s.selected in gone:
            self._s.selected = None
            self.selection_changed.emit(None)
        self._visible = None
        self.rows_changed.emit(None)
        if alarms:
            self.alarms_changed.emit(self.unacknowledged())
        return gone

    def apply_event(self, event: Event) -> bool:
        """An event returned by an action's reply: taken if newer; keeps colour and seq."""
        old = self._s.rows.get(event.id)
        if old is None or event.version <= old.event.version:
            return False
        self._put(Row(event, old.colour, old.seq, self._deadline_fn(event)))
        self._trim_closed()
        self._visible = None
        self.rows_changed.emit(None)
        if event.id == self._s.selected:
            self.selection_changed.emit(event.id)
        return True

    def _put(self, row: Row) -> None:
        """Store a row; an archived one joins the window of closed events (newest last)."""
        eid = row.event.id
        self._s.rows[eid] = row
        if is_open(row.event.state):
            self._s.closed.pop(eid, None)
        else:
            self._s.closed[eid] = None
            self._s.closed.move_to_end(eid)

    def _was_forgotten(self, event: Event) -> bool:
        """An archived event that left the window, and this is no newer version of it."""
        version = self._s.forgotten.get(event.id)
        return version is not None and event.version <= version

    def _trim_closed(self) -> None:
        """Forget the oldest archived events beyond the window (never the one selected or
        one shown by `show_only`); each leaves a tombstone."""
        s = self._s
        keep = {s.selected, *(s.only or ())}
        excess = len(s.closed) - self.closed_window
        gone: list[str] = []
        for eid in list(s.closed):
            if excess <= 0:
                break
            if eid in keep:
                continue
            del s.closed[eid]
            row = s.rows.pop(eid)
            s.timelines.pop(eid, None)
            s.alarms.pop(eid, None)
            s.forgotten[eid] = row.event.version
            gone.append(eid)
            excess -= 1
        while len(s.forgotten) > max(1, self.closed_window) * TOMBSTONES_PER_CLOSED:
            s.forgotten.popitem(last=False)
        if gone:
            self.forgotten.emit(gone)

    def _append_audit(self, event_id: str, rows: Sequence[AuditEntry]) -> None:
        timeline = self._s.timelines.get(event_id)
        if timeline is None or not rows:
            return  # not loaded yet: fetched whole when the operator opens the event
        new = [r for r in rows if r not in timeline]
        if new:
            timeline.extend(new)
            timeline.sort(key=lambda r: r.at)
            self.timeline_changed.emit(event_id)

    def set_timeline(self, event_id: str, rows: Sequence[AuditEntry]) -> None:
        merged = list(rows)
        for r in self._s.timelines.get(event_id, []):
            if r not in merged:
                merged.append(r)
        merged.sort(key=lambda r: r.at)
        self._s.timelines[event_id] = merged
        self.timeline_changed.emit(event_id)

    def set_connection(
        self, kind: ConnKind, since: datetime | None = None, hub_storage: str = "ok"
    ) -> None:
        if kind is ConnKind.LOST and since is None:
            since = self._clock()
        if kind is not ConnKind.LOST:
            since = None
        old = self._s.connection
        storage_since = None
        if hub_storage != "ok":
            storage_since = old.storage_since if old.hub_storage == hub_storage else None
            storage_since = storage_since or self._clock()
        conn = Connection(kind, since, hub_storage, storage_since)
        if conn == self._s.connection:
            return
        self._s.connection = conn
        self.connection_changed.emit(conn)

    def set_session(self, session: Session | None) -> None:
        self._s.session = session
        self.session_changed.emit(session)
        self.selection_changed.emit(self._s.selected)  # allowed actions depend on the role

    def set_message(self, message: Message | None) -> None:
        self._s.message = message
        self.message_changed.emit(message)

    # ------------------------------------------------------------ operator's view
    def set_filters(self, filters: Filters) -> None:
        if filters == self._s.filters:
            return
        self._s.filters = filters
        self._visible = None
        self.rows_changed.emit(None)

    def set_search(self, text: str) -> None:
        self.set_filters(replace(self._s.filters, search=text))

    def show_only(self, ids: Iterable[str]) -> None:
        """Show only these events (e.g. a hot spot's), whatever their state, until
        `clear_only`; the other filters still apply except the open-states default."""
        only = frozenset(ids)
        if only == self._s.only:
            return
        self._s.only = only
        self._visible = None
        self.rows_changed.emit(None)

    def clear_only(self) -> None:
        if self._s.only is None:
            return
        self._s.only = None
        self._visible = None
        self.rows_changed.emit(None)

    @property
    def only(self) -> frozenset[str] | None:
        return self._s.only

    def select(self, event_id: str | None) -> None:
        if event_id is not None and event_id not in self._s.rows:
            raise KeyError(f"no event {event_id!r} in the queue")
        if event_id == self._s.selected:
            return
        self._s.selected = event_id
        self.selection_changed.emit(event_id)

    def acknowledge(self, event_id: str | None = None) -> list[str]:
        """Acknowledge one red alarm (or all when None); returns the ids acknowledged."""
        if event_id is None:
            done = list(self._s.alarms)
        elif event_id in self._s.alarms:
            done = [event_id]
        else:
            done = []
        for i in done:
            del self._s.alarms[i]
        if done:
            self.alarms_changed.emit(self.unacknowledged())
        return done

    # ------------------------------------------------------------ queries
    @property
    def filters(self) -> Filters:
        return self._s.filters

    @property
    def session(self) -> Session | None:
        return self._s.session

    @property
    def connection(self) -> Connection:
        return self._s.connection

    @property
    def message(self) -> Message | None:
        return self._s.message

    @property
    def last_seq(self) -> int:
        return self._s.last_seq

    @property
    def last_update(self) -> datetime | None:
        return self._s.last_update

    @property
    def stale(self) -> bool:
        """True while what is shown may be out of date (the hub is not connected)."""
        return self._s.connection.kind is not ConnKind.CONNECTED

    def data_as_of(self) -> datetime | None:
        """The time the shown data was last known to be current (for the lost banner)."""
        conn = self._s.connection
        if conn.kind is ConnKind.LOST:
            return conn.since
        return self._s.last_update

    def total(self) -> int:
        return len(self._s.rows)

    def visible(self) -> list[Row]:
        if self._visible is None:
            names = self.township_names
            only, filters = self._s.only, self._s.filters
            if only is not None and filters.states is None:
                filters = replace(filters, states=frozenset(EventState))
            rows = [
                r
                for r in self._s.rows.values()
                if (only is None or r.event.id in only) and matches(r, filters, names)
            ]
            rows.sort(key=sort_key)
            self._visible = rows
        return self._visible

    def row(self, event_id: str) -> Row | None:
        return self._s.rows.get(event_id)

    def rows(self) -> list[Row]:
        return list(self._s.rows.values())

    @property
    def selected_id(self) -> str | None:
        return self._s.selected

    def selected(self) -> Row | None:
        return self._s.rows.get(self._s.selected) if self._s.selected else None

    def timeline(self, event_id: str) -> list[AuditEntry] | None:
        t = self._s.timelines.get(event_id)
        return list(t) if t is not None else None

    def allowed_actions(self, event_id: str) -> list[Action]:
        """The actions the logged-in operator may take by hand on the event now."""
        row = self._s.rows.get(event_id)
        if row is None or self._s.session is None:
            return []
        return operator_actions(self._allowed_fn(row.event, self._s.session.role))

    def countdown(self, event_id: str) -> timedelta | None:
        """Time left in the current stage (negative when overdue), by the clock passed in."""
        row = self._s.rows.get(event_id)
        if row is None or row.deadline is None:
            return None
        return row.deadline - self._clock()

    def unacknowledged(self) -> list[str]:
        """Red alarms not yet acknowledged, newest first."""
        alarms = sorted(self._s.alarms.values(), key=lambda a: a.order, reverse=True)
        return [a.event_id for a in alarms]

    def alarm_raised_at(self, event_id: str) -> datetime | None:
        alarm = self._s.alarms.get(event_id)
        return alarm.raised_at if alarm else None

    def categories(self) -> list[str]:
        return sorted({r.event.category for r in self._s.rows.values()})

    def townships(self) -> list[str]:
        present = {r.event.place.township for r in self._s.rows.values()} - {None}
        return sorted({*self.township_names, *(t for t in present if t)})
