"""Turns the operator's intent into hub client calls, and the hub's answers into model updates.

Runs on the Qt main thread; every network call is a coroutine submitted to the network
thread (`console.net.NetThread`), and every result comes back through
`console.net.QtBridge.post`, so the model is only touched on the main thread. Changes
published by the hub are batched: the network thread appends them to an inbox and posts
one drain per batch, so a snapshot of thousands of events is one model update.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from dispatch.model import Action, AuditEntry, Event
from dispatch.protocol import AuthError, ConnectionState, EventChanged, HubError, LoginReply

from ..net import NetThread, NetThreadError, QtBridge
from .actions import ActionRequest, validate_request
from .hubapi import ClientFactory, HubClientLike, to_change, to_connection, to_session
from .model import Change, ConnKind, EventQueueModel, Filters, Message, Session
from .strings import action_name, tr

T = TypeVar("T")
_log = logging.getLogger(__name__)

LOGIN_TIMEOUT_S = 10.0
CALL_TIMEOUT_S = 10.0


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


class _Inbox:
    """Changes from the network thread waiting for the main thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[Change] = []

    def put(self, change: Change) -> bool:
        """Add; True when the inbox was empty (the caller must post a drain)."""
        with self._lock:
            self._items.append(change)
            return len(self._items) == 1

    def take(self) -> list[Change]:
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
    ) -> None:
        self.model = model
        self._net = net
        self._bridge = bridge
        self._factory = client_factory
        self._client: HubClientLike | None = None
        self._client_ws: str | None = None
        self._inbox = _Inbox()
        self._pending: set[concurrent.futures.Future[Any]] = set()
        self._was_lost = False

    # ------------------------------------------------------------ plumbing
    def _submit(
        self,
        coro: Coroutine[Any, Any, T],
        on_ok: Callable[[T], None],
        on_error: Callable[[BaseException], None],
    ) -> None:
        try:
            fut = self._net.submit(coro)
        except NetThreadError as exc:
            on_error(exc)
            return
        self._pending.add(fut)

        def done(f: concurrent.futures.Future[T]) -> None:  # on the network thread
            self._pending.discard(f)
            if f.cancelled():
                return
            exc = f.exception()
            if exc is not None:
                self._bridge.post(lambda: on_error(exc))
            else:
                result = f.result()
                self._bridge.post(lambda: on_ok(result))

        fut.add_done_callback(done)

    # called on the network thread by the hub client
    def _on_change(self, msg: EventChanged) -> None:
        if self._inbox.put(to_change(msg)):
            self._bridge.post(self._drain)

    def _on_connection(self, state: ConnectionState) -> None:
        kind, since = to_connection(state)
        self._bridge.post(lambda: self._connection(kind, since))

    # on the main thread
    def _drain(self) -> None:
        self.model.apply_changes(self._inbox.take())

    def _connection(self, kind: ConnKind, since: datetime | None) -> None:
        self.model.set_connection(kind, since)
        if kind is ConnKind.LOST:
            self._was_lost = True
        elif kind is ConnKind.CONNECTED and self._was_lost:
            self._was_lost = False
            self._reconcile()
            sel = self.model.selected_id
            if sel is not None:
                self._fetch_timeline(sel)

    def _reconcile(self) -> None:
        """Events closed while the hub was away are not in its snapshot: drop them."""
        client = self._client
        if client is None:
            return

        async def view() -> set[str]:
            return set(client.events())

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
                client.act(
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

    def _fetch_timeline(self, event_id: str) -> None:
        client = self._client
        if client is None:
            return

        async def run() -> list[AuditEntry]:
            return await asyncio.wait_for(client.timeline(event_id), CALL_TIMEOUT_S)

        def ok(rows: list[AuditEntry]) -> None:
            self.model.set_timeline(event_id, rows)

        def failed(exc: BaseException) -> None:
            _log.warning("timeline of %s not fetched: %s", event_id, error_text(exc))

        self._submit(run(), ok, failed)

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
