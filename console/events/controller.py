"""Turns the operator's intent into hub client calls, and the hub's answers into model updates.

Runs on the Qt main thread; every network call is a coroutine submitted to the network
thread (`console.kit.net.NetThread`), and every result comes back through
`console.kit.net.QtBridge.post`, so the model is only touched on the main thread. Changes
published by the hub are batched: the network thread appends them to an inbox and posts
one drain per batch, so a snapshot of thousands of events is one model update.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import math
import threading
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Generic, TypeVar, cast

from console.events.actions import ActionRequest, validate_request
from console.events.evidence import EvidenceDigest, evidence_digest
from console.events.hubapi import (
    ClientFactory,
    DispatchClientLike,
    HubClientLike,
    to_change,
    to_connection,
    to_session,
)
from console.events.model import (
    Change,
    ConnKind,
    EventQueueModel,
    Filters,
    Message,
    Session,
)
from console.events.strings import action_name, task_action_name, tr
from console.kit.net import NetThread, NetThreadError, QtBridge, submit_to_qt
from console.kit.observable import Observable
from console.tasks.model import NEEDS_REASON, DispatchModel
from dispatch.client.state import ConnectionState
from dispatch.domain.model import Action, AuditEntry, Event, EventSource, Priority
from dispatch.domain.wire import AuthError, ErrorCode, HubError
from dispatch.events.messages import EventChanged, RevealField
from dispatch.hub.messages import LoginReply
from dispatch.tasks.core import DispatchTask, TaskAction
from dispatch.tasks.messages import (
    AttachmentInfo,
    DispatchPreviewReply,
    EvidenceKind,
    OfficerTaskAction,
    TaskChanged,
    TasksReply,
)

T = TypeVar("T")
_log = logging.getLogger(__name__)

LOGIN_TIMEOUT_S = 10.0
CALL_TIMEOUT_S = 10.0
UPLOAD_TIMEOUT_S = 600.0  # an evidence upload: many calls of CALL_TIMEOUT_S each at most
LINKAGE_CAMERAS = 6  # the 1+5 linkage layout
AUTO_LINK_PRIORITIES = frozenset({Priority.URGENT, Priority.EMERGENCY})
AUTO_LINK_WINDOW = timedelta(minutes=10)  # older events arriving (a snapshot) do not link


@dataclass(frozen=True)
class LinkageRequest:
    """Put these cameras on the wall for this event (nearest first; maximise: alarm camera)."""

    event_id: str
    title: str
    camera_ids: tuple[str, ...]
    maximise: bool = False
    automatic: bool = False


def auto_link_candidate(
    new: list[Event], now: datetime, window: timedelta = AUTO_LINK_WINDOW
) -> Event | None:
    """Of events that just arrived, the one to link the wall to by itself: a camera alarm
    or an urgent/emergency event accepted within `window`; the most urgent, then newest."""
    fresh = [
        e
        for e in new
        if (e.priority in AUTO_LINK_PRIORITIES or camera_of(e) is not None)
        and now - e.accepted_at <= window
    ]
    if not fresh:
        return None
    rank = {Priority.EMERGENCY: 0, Priority.URGENT: 1, Priority.ROUTINE: 2}
    return min(fresh, key=lambda e: (rank[e.priority], -e.accepted_at.timestamp()))


def camera_of(event: Event) -> str | None:
    """The camera of a camera alarm (opened maximised), else None."""
    if event.source is EventSource.CAMERA_ALARM and event.camera_id:
        return event.camera_id
    return None


@dataclass(frozen=True)
class LoginOutcome:
    session: Session | None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.session is not None


def error_text(exc: BaseException) -> str:
    """What the operator reads about a failed call."""
    if isinstance(exc, TimeoutError | asyncio.TimeoutError | concurrent.futures.TimeoutError):
        return tr("error.timeout")
    if isinstance(exc, HubError):
        return exc.message
    return str(exc) or type(exc).__name__


class _Inbox(Generic[T]):
    """Changes from the network thread waiting for the main thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[T] = []

    def put(self, change: T) -> bool:
        """Add; True when the inbox was empty (the caller must post a drain)."""
        with self._lock:
            self._items.append(change)
            return len(self._items) == 1

    def take(self) -> list[T]:
        with self._lock:
            items, self._items = self._items, []
            return items


class EventQueueController:
    """The event queue's controller. Construct on the Qt main thread; no I/O here."""

    def __init__(
        self,
        model: EventQueueModel,
        net: NetThread,
        bridge: QtBridge,
        client_factory: ClientFactory,
        dispatch: DispatchModel | None = None,
    ) -> None:
        self.model = model
        self.dispatch = dispatch or DispatchModel()
        model.forgotten.connect(self.dispatch.forget)  # tasks of forgotten events too
        self.linkage_requested: Observable[LinkageRequest] = Observable()
        self.auto_linkage = True
        self._net = net
        self._bridge = bridge
        self._factory = client_factory
        self._client: HubClientLike | None = None
        self._client_ws: str | None = None
        self._inbox: _Inbox[Change] = _Inbox()
        self._task_inbox: _Inbox[DispatchTask] = _Inbox()
        self._pending: set[concurrent.futures.Future[Any]] = set()
        self._was_lost = False

    # ------------------------------------------------------------ plumbing
    def _submit(
        self,
        coro: Coroutine[Any, Any, T],
        on_ok: Callable[[T], None],
        on_error: Callable[[BaseException], None],
    ) -> None:
        submit_to_qt(self._net.submit, self._bridge.post, coro, on_ok, on_error, self._pending)

    # called on the network thread by the hub client
    def _on_change(self, msg: EventChanged) -> None:
        if self._inbox.put(to_change(msg)):
            self._bridge.post(self._drain)

    def on_task_changed(self, msg: TaskChanged) -> None:
        """On the network thread (`HubClient(on_task=...)`); batched as the events are."""
        if self._task_inbox.put(msg.task):
            self._bridge.post(self._drain_tasks)

    def _drain_tasks(self) -> None:
        self.dispatch.apply_tasks(self._task_inbox.take())

    def _on_connection(self, state: ConnectionState) -> None:
        kind, since, storage = to_connection(state)
        self._bridge.post(lambda: self._connection(kind, since, storage))

    # on the main thread
    def _drain(self) -> None:
        changes = self._inbox.take()
        known = {c.event.id for c in changes if self.model.row(c.event.id) is not None}
        self.model.apply_changes(changes)
        sel = self.model.selected_id  # its timeline not loaded (fetch failed or out): the
        if sel and self.model.timeline(sel) is None and any(c.event.id == sel for c in changes):
            self._fetch_timeline(sel)  # model dropped this change's rows, so fetch it whole
        if not self.auto_linkage or self.model.session is None:
            return  # changes that arrive with the login snapshot are not new alarms
        new = [c.event for c in changes if c.event.id not in known]
        pick = auto_link_candidate(new, self.model.now())
        if pick is not None:
            self.link_video(pick.id, automatic=True)

    def _connection(self, kind: ConnKind, since: datetime | None, storage: str = "ok") -> None:
        self.model.set_connection(kind, since, storage)
        if kind is ConnKind.LOST:
            self._was_lost = True
        elif kind is ConnKind.CONNECTED and self._was_lost:
            self._was_lost = False
            self._reconcile()
            sel = self.model.selected_id
            if sel is not None:
                self._fetch_timeline(sel)
                self.fetch_tasks(sel)

    def _reconcile(self) -> None:
        """Events closed while the hub was away are not in its snapshot: drop them."""
        client = self._client
        if client is None:
            return

        async def view() -> set[str]:
            return set(client.events.view())

        def ok(open_ids: set[str]) -> None:
            self._drain()  # changes that came with the snapshot first
            self.model.forget_missing(open_ids)

        self._submit(view(), ok, lambda exc: None)

    # ------------------------------------------------------------ intent
    def login(
        self,
        operator: str,
        password: str,
        workstation: str,
        done: Callable[[LoginOutcome], None],
    ) -> None:
        """Connect (creating the client for this workstation) and log in; `done` gets the result."""

        async def run() -> LoginReply:
            client = self._client
            if client is None or self._client_ws != workstation:
                if client is not None:
                    await client.stop()
                self._client = self._client_ws = None
                client = self._factory(workstation, self._on_change, self._on_connection)
                try:
                    await asyncio.wait_for(client.start(), LOGIN_TIMEOUT_S)
                except BaseException:
                    with contextlib.suppress(Exception):
                        await client.stop()
                    raise
                self._client, self._client_ws = client, workstation
            return await asyncio.wait_for(client.login(operator, password), LOGIN_TIMEOUT_S)

        def ok(reply: LoginReply) -> None:
            session = to_session(reply, workstation)
            self.model.set_session(session)
            done(LoginOutcome(session))

        def failed(exc: BaseException) -> None:
            if self._client is None:
                self.model.set_connection(ConnKind.DISCONNECTED)
            if isinstance(exc, AuthError):
                done(LoginOutcome(None, tr("login.bad_credentials")))
            elif isinstance(exc, HubError) and exc.code is ErrorCode.THROTTLED:
                wait = max(1, math.ceil(exc.retry_after_s))
                done(LoginOutcome(None, tr("login.throttled", seconds=wait)))
            elif isinstance(exc, HubError) and exc.code is ErrorCode.BUSY:
                done(LoginOutcome(None, tr("login.hub_busy")))
            elif isinstance(exc, HubError) and exc.code is ErrorCode.REFUSED:
                done(LoginOutcome(None, tr("login.refused")))
            else:
                done(LoginOutcome(None, tr("login.unreachable", message=error_text(exc))))

        self.model.set_connection(ConnKind.CONNECTING)
        self._submit(run(), ok, failed)

    def act(self, req: ActionRequest, done: Callable[[bool], None] | None = None) -> None:
        """Send an action; the reply's event updates the model, an error becomes a message."""
        problems = validate_request(req)
        if problems:
            raise ValueError("; ".join(f"{k}: {v}" for k, v in problems.items()))
        client = self._client
        if client is None or self.model.session is None:
            self.model.set_message(Message(tr("error.not_logged_in"), error=True))
            if done:
                done(False)
            return
        row = self.model.row(req.event_id)
        title = row.event.title if row else req.event_id

        async def run() -> Event:
            return await asyncio.wait_for(
                client.events.act(
                    req.event_id,
                    req.action,
                    note=req.note,
                    assignee=req.assignee,
                    extension_days=req.extension_days,
                ),
                CALL_TIMEOUT_S,
            )

        def ok(event: Event) -> None:
            self.model.apply_event(event)
            text = tr("status.done", action=action_name(req.action), title=title)
            self.model.set_message(Message(text))
            if self.model.timeline(req.event_id) is not None:
                self._fetch_timeline(req.event_id)
            if done:
                done(True)

        def failed(exc: BaseException) -> None:
            self.model.set_message(Message(tr("error.act", message=error_text(exc)), error=True))
            if done:
                done(False)

        self._submit(run(), ok, failed)

    def select(self, event_id: str | None) -> None:
        self.model.select(event_id)
        if event_id is not None and self.model.timeline(event_id) is None:
            self._fetch_timeline(event_id)
        if event_id is not None:
            self.fetch_tasks(event_id)

    def _fetch_timeline(self, event_id: str) -> None:
        client = self._client
        if client is None:
            return

        async def run() -> list[AuditEntry]:
            return await asyncio.wait_for(client.events.timeline(event_id), CALL_TIMEOUT_S)

        def failed(exc: BaseException) -> None:
            _log.warning("timeline of %s not fetched: %s", event_id, error_text(exc))

        self._submit(run(), lambda rows: self.model.set_timeline(event_id, rows), failed)

    def acknowledge(self, event_id: str | None = None) -> list[str]:
        """Acknowledge red alarms; each is also written to the event's timeline as a note."""
        done = self.model.acknowledge(event_id)
        for i in done:
            if Action.NOTE in self.model.allowed_actions(i):
                self.act(ActionRequest(i, Action.NOTE, note=tr("ack.note")))
        return done

    def set_filters(self, filters: Filters) -> None:
        self.model.set_filters(filters)

    def set_search(self, text: str) -> None:
        self.model.set_search(text)

    # ------------------------------------------------------------ dispatch (issue 4)
    def _dispatch_client(self) -> DispatchClientLike | None:
        """The client when logged in and able to dispatch; else says why and returns None."""
        client = self._client
        if client is None or self.model.session is None:
            self.model.set_message(Message(tr("error.not_logged_in"), error=True))
            return None
        tasks = getattr(client, "tasks", None)
        if tasks is None:
            self.model.set_message(Message(tr("error.no_dispatch"), error=True))
            return None
        return cast(DispatchClientLike, tasks)

    def _title(self, event_id: str) -> str:
        row = self.model.row(event_id)
        return row.event.title if row else event_id

    def _fail(self, key: str) -> Callable[[BaseException], None]:
        def failed(exc: BaseException) -> None:
            self.model.set_message(Message(tr(key, message=error_text(exc)), error=True))

        return failed

    def fetch_tasks(self, event_id: str) -> None:
        """Load the event's tasks (kept live afterwards by TaskChanged)."""
        client = self._client
        tasks = getattr(client, "tasks", None)
        if tasks is None:
            return
        dc = cast(DispatchClientLike, tasks)

        async def run() -> TasksReply:
            return await asyncio.wait_for(dc.tasks_detail(event_id), CALL_TIMEOUT_S)

        def failed(exc: BaseException) -> None:
            _log.warning("tasks of %s not fetched: %s", event_id, error_text(exc))

        def ok(rep: TasksReply) -> None:
            self.dispatch.apply_tasks(rep.tasks)

        self._submit(run(), ok, failed)

    def reveal(
        self, event_id: str, reason: str, done: Callable[[dict[str, str] | None], None]
    ) -> None:
        """The reporter's whole numbers (field → number): an audited request the hub
        grants to supervisors and admins only; `done(None)` on a refusal."""
        client, row = self._client, self.model.row(event_id)
        if client is None or row is None:
            return done(None)
        r = row.event.reporter
        fields: list[RevealField] = [f for f in ("phone", "id_number") if "*" in getattr(r, f)]

        async def run() -> dict[str, str]:
            ask = client.events.reveal
            return {
                f: await asyncio.wait_for(ask(event_id, f, reason), CALL_TIMEOUT_S) for f in fields
            }

        def failed(exc: BaseException) -> None:
            self._fail("error.reveal")(exc)
            done(None)

        self._submit(run(), done, failed)

    def _dispatch_call(
        self,
        call: Callable[[DispatchClientLike], Awaitable[T]],
        ok: Callable[[T], None],
        error_key: str,
        done: Callable[[T | None], None] | None,
        *,
        timeout_s: float | None = CALL_TIMEOUT_S,
    ) -> None:
        """Run `call(client)` (within `timeout_s`) when a dispatch client is there; then
        `ok` with its result, or the `error_key` message. `done` gets the result, or None
        on an error or at once without a client."""
        client = self._dispatch_client()
        if client is None:
            if done:
                done(None)
            return

        async def run() -> T:
            return await asyncio.wait_for(call(client), timeout_s)

        def on_ok(result: T) -> None:
            ok(result)
            if done:
                done(result)

        def on_error(exc: BaseException) -> None:
            self._fail(error_key)(exc)
            if done:
                done(None)

        self._submit(run(), on_ok, on_error)

    def preview(
        self, event_id: str, done: Callable[[DispatchPreviewReply | None], None] | None = None
    ) -> None:
        """Ask the hub whom one-click dispatch would reach, with what, and the cameras."""
        self._dispatch_call(
            lambda client: client.dispatch_preview(event_id, cameras=LINKAGE_CAMERAS),
            self.dispatch.set_preview,
            "error.preview",
            done,
        )

    def dispatch_event(
        self,
        event_id: str,
        person_id: str | None = None,
        *,
        note: str = "",
        instruction: str | None = None,
        done: Callable[[DispatchTask | None], None] | None = None,
    ) -> None:
        """One-click dispatch (None: the suggested person, the category's instruction)."""
        title = self._title(event_id)

        def ok(task: DispatchTask) -> None:
            self.dispatch.apply_task(task)
            who = task.assignee_name or task.assignee
            self.model.set_message(Message(tr("status.dispatched", title=title, person=who)))

        self._dispatch_call(
            lambda client: client.dispatch_event(
                event_id, person_id, note=note.strip(), instruction=instruction
            ),
            ok,
            "error.dispatch",
            done,
        )

    def task_act(
        self,
        task_id: str,
        action: TaskAction,
        *,
        note: str = "",
        person_id: str | None = None,
        done: Callable[[DispatchTask | None], None] | None = None,
    ) -> None:
        """confirm / rework (reason) / cancel (reason) / reassign (person) on a task."""
        if action not in (
            TaskAction.CONFIRM,
            TaskAction.REWORK,
            TaskAction.CANCEL,
            TaskAction.REASSIGN,
        ):
            raise ValueError(f"{action.value} is not an officer's task action")
        if action in NEEDS_REASON and not note.strip():
            raise ValueError(f"{action.value} needs a reason")
        if action is TaskAction.REASSIGN and not person_id:
            raise ValueError("reassign needs a person")
        act = cast(OfficerTaskAction, action.value)

        def ok(task: DispatchTask) -> None:
            self.dispatch.apply_task(task)
            self.fetch_tasks(task.event_id)  # the replaced task of a reassignment too
            self.model.set_message(Message(tr("status.task_done", action=task_action_name(action))))

        self._dispatch_call(
            lambda client: client.task_act(task_id, act, note=note.strip(), person_id=person_id),
            ok,
            "error.task",
            done,
        )

    def attach_evidence(
        self,
        event_id: str,
        kind: EvidenceKind,
        path: Path,
        done: Callable[[AttachmentInfo | None], None] | None = None,
    ) -> None:
        """Attach a saved snapshot/clip (SHA-256 from its sidecar, else hashed off-thread)."""
        title = self._title(event_id)

        async def attach(client: DispatchClientLike) -> AttachmentInfo:
            d: EvidenceDigest = await asyncio.to_thread(evidence_digest, path)
            return await asyncio.wait_for(
                client.attach_evidence(event_id, kind, d.path, d.sha256, size=d.size),
                UPLOAD_TIMEOUT_S,
            )

        def ok(att: AttachmentInfo) -> None:
            self.model.set_message(Message(tr("status.evidence_attached", title=title)))
            if self.model.timeline(event_id) is not None:
                self._fetch_timeline(event_id)

        self._dispatch_call(attach, ok, "error.evidence", done, timeout_s=None)  # hashing: no limit

    def link_video(self, event_id: str, *, automatic: bool = False) -> None:
        """Ask for the wall to show the event's cameras (`linkage_requested` observers).

        A camera alarm opens its own camera maximised at once; otherwise the hub's
        preview gives the nearest cameras of the event's place.
        """
        row = self.model.row(event_id)
        if row is None:
            return
        title = row.event.title
        cam = camera_of(row.event)
        if cam is not None:
            self.linkage_requested.emit(
                LinkageRequest(event_id, title, (cam,), maximise=True, automatic=automatic)
            )
            return

        def got(rep: DispatchPreviewReply | None) -> None:
            if rep is None:
                return
            cams = tuple(c.camera_id for c in rep.cameras)
            if not cams:
                self.model.set_message(Message(tr("status.no_cameras", title=title), error=True))
                return
            self.linkage_requested.emit(LinkageRequest(event_id, title, cams, automatic=automatic))

        self.preview(event_id, got)

    @property
    def client(self) -> HubClientLike | None:
        """The logged-in hub client (for the mediation window, issue 5), or None."""
        return self._client

    # ------------------------------------------------------------ lifetime
    def shutdown(self, timeout_s: float = 5.0) -> None:
        """Stop the hub client on the network thread (idempotent; the thread stays)."""
        client, self._client, self._client_ws = self._client, None, None
        if client is None or not self._net.running:
            return
        try:
            self._net.submit(client.stop()).result(timeout_s)
        except (concurrent.futures.TimeoutError, NetThreadError) as exc:
            _log.warning("hub client did not stop cleanly: %s", error_text(exc))
