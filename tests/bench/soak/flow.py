"""The soak's load on the hub: intake at a steady rate, and the workflow moving every
acknowledged event to archived through a supervisor's `HubClient` while the phones
(`soak.phones`) do the grid leader's part. `Ledger` keeps what the hub acknowledged,
to be checked against the store at the end."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import ssl
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

import aiohttp

from dispatch.client.connection import HubClient
from dispatch.domain.model import Action
from dispatch.domain.wire import ErrorCode, HubError
from dispatch.events.messages import EventChanged
from dispatch.tasks.core import TaskState
from dispatch.tasks.messages import TaskChanged
from tests.bench.hub import HEAD, body

T = TypeVar("T")
TAG = "soak"
ASSIGNEE = "城关镇综治办"
MAX_BACKOFF_S = 8.0
DONE_ALREADY = (ErrorCode.TRANSITION, ErrorCode.CONFLICT)  # a retried step that had happened


@dataclass
class Ledger:
    """What the hub acknowledged, and what the soak saw of it."""

    acked: dict[str, str] = field(default_factory=dict)  # source_ref -> event id
    created_twice: int = 0  # a second 201 for one source_ref
    intake_errors: int = 0  # failed POSTs (each posted again until acknowledged)
    intake_failures: Counter[str] = field(default_factory=Counter)  # by cause
    offered: int = 0  # events whose first POST was sent (on schedule: open loop)
    acked_first_try: int = 0  # acknowledged by their first POST
    # source_ref -> perf_counter of the event's FIRST post: the publish latency counts
    # the retries a refused or lost POST needed, as the reporting system lives them
    sent_at: dict[str, float] = field(default_factory=dict)
    publish_ms: list[tuple[float, float]] = field(default_factory=list)  # (monotonic, ms)
    tasks: dict[str, str] = field(default_factory=dict)  # task id -> event id
    archived: set[str] = field(default_factory=set)
    flow_errors: int = 0  # workflow steps that failed (each tried again) or gave up
    flow_failures: Counter[str] = field(default_factory=Counter)  # by the hub's error code
    feedback: dict[str, asyncio.Event] = field(default_factory=dict)  # task id -> fed back

    def on_change(self, ch: EventChanged) -> None:
        ref = ch.event.source_ref
        if ch.event.version == 1 and ref is not None and ref in self.sent_at:
            t = self.sent_at.pop(ref)
            self.publish_ms.append((time.monotonic(), (time.perf_counter() - t) * 1000))

    def on_task(self, ch: TaskChanged) -> None:
        if ch.task.state is TaskState.FEEDBACK:
            self.feedback.setdefault(ch.task.id, asyncio.Event()).set()


def failure_cause(exc: BaseException) -> str:
    """A failed POST's cause, short: the hub refused the connection (away), it timed out
    (stalled), or another transport error by its type."""
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return (
            "connect refused"
            if isinstance(exc.os_error, ConnectionRefusedError)
            else (f"connect: {type(exc.os_error).__name__}")
        )
    return type(exc).__name__


class Intake:
    """POSTs `rate` events per second (open loop) until `stop()`; failures are retried."""

    def __init__(self, http_url: Callable[[], str], ssl_ctx: ssl.SSLContext, ledger: Ledger,
                 on_new: Callable[[str], None], rate: float = 5.0,
                 timeout_s: float = 15.0) -> None:  # fmt: skip
        self._url = http_url
        self._ssl = ssl_ctx
        self._ledger = ledger
        self._on_new = on_new
        self._rate = rate
        self._timeout_s = timeout_s
        self._stop = asyncio.Event()
        self._pending: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None

    async def post(self, ref_n: int) -> str | None:
        """One POST of event `ref_n`; its id when acknowledged (201, or 200: created before
        a lost reply) for the first time, else None."""
        if self._session is None:  # the soak ended
            return None
        ref = f"{TAG}-{ref_n}"
        first_try = ref not in self._ledger.sent_at
        self._ledger.sent_at.setdefault(ref, time.perf_counter())
        cause = ""
        try:
            async with self._session.post(
                f"{self._url()}/api/v1/events", json=body(ref_n, TAG), headers=HEAD
            ) as r:
                data = await r.json() if r.status in (200, 201) else None
                status = r.status
                if data is None:
                    cause = f"http {r.status}: {(await r.text())[:60]}"
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            status, data, cause = 0, None, failure_cause(exc)
        if data is None:
            self._ledger.intake_errors += 1
            self._ledger.intake_failures[cause] += 1
            return None
        if first_try:
            self._ledger.acked_first_try += 1
        eid = str(data["id"])
        first = ref not in self._ledger.acked
        if status == 201 and not first:
            self._ledger.created_twice += 1
        self._ledger.acked.setdefault(ref, eid)
        return eid if first else None

    async def _one(self, n: int) -> None:
        wait = 1.0
        while True:
            ref = f"{TAG}-{n}"
            eid = await self.post(n)
            if eid is not None:
                self._on_new(eid)
            if ref in self._ledger.acked:
                return
            await asyncio.sleep(wait)  # the hub is away (restart): post it again
            wait = min(wait * 2, MAX_BACKOFF_S)

    async def run(self) -> None:
        timeout = aiohttp.ClientTimeout(total=self._timeout_s)
        # no cap on connections: a POST waiting for a free connection in the client
        # would leave at its time no more (the load would be closed-loop, and its
        # timeout the client's, not the hub's)
        connector = aiohttp.TCPConnector(limit=0, ssl=self._ssl)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as s:
            self._session = s
            t0 = time.monotonic()
            for n in itertools.count():
                delay = t0 + n / self._rate - time.monotonic()
                if delay > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stop.wait(), delay)
                if self._stop.is_set():
                    break
                self._ledger.offered += 1
                task = asyncio.create_task(self._one(n))
                self._pending.add(task)
                task.add_done_callback(self._pending.discard)
            if self._pending:  # the last ones, until acknowledged (bounded)
                await asyncio.wait(self._pending, timeout=30)
            left = list(self._pending)
            for task in left:
                task.cancel()
            await asyncio.gather(*left, return_exceptions=True)
        self._session = None

    def stop(self) -> None:
        self._stop.set()


class Workflow:
    """Every new event: register, route, dispatch to the next grid leader, start handling;
    when the phone has fed back: confirm the task, feedback, archive (a supervisor)."""

    def __init__(self, client: HubClient, ledger: Ledger, people: list[str],
                 feedback_wait_s: float = 300.0) -> None:  # fmt: skip
        self._c = client
        self._ledger = ledger
        self._people = itertools.cycle(people)
        self._wait_s = feedback_wait_s
        self._flows: set[asyncio.Task[None]] = set()
        self.stopping = False

    def start_flow(self, eid: str) -> None:
        task = asyncio.create_task(self._flow(eid))
        self._flows.add(task)
        task.add_done_callback(self._flows.discard)

    @property
    def in_flight(self) -> int:
        return len(self._flows)

    async def _step(self, call: Callable[[], Awaitable[T]]) -> T | None:
        """The call, retried while the hub is away or busy (backing off, so that the
        retries of many flows do not bury a slow hub); None when it had already happened."""
        wait = 1.0
        while True:
            try:
                return await call()
            except HubError as exc:
                if exc.code in DONE_ALREADY:
                    return None
                self._ledger.flow_errors += 1
                self._ledger.flow_failures[exc.code.value] += 1
                await asyncio.sleep(wait)
                wait = min(wait * 2, MAX_BACKOFF_S)

    async def _dispatch(self, eid: str) -> str:
        person = next(self._people)
        task = await self._step(lambda: self._c.tasks.dispatch_event(eid, person))
        if task is None:  # dispatched before a lost reply: the event's open task
            tasks = await self._step(lambda: self._c.tasks.tasks(eid)) or []
            task = next(t for t in tasks if t.assignee == person)
        self._ledger.tasks[task.id] = eid
        return task.id

    async def _flow(self, eid: str) -> None:
        act = self._c.events.act
        await self._step(lambda: act(eid, Action.REGISTER))
        await self._step(lambda: act(eid, Action.ROUTE, assignee=ASSIGNEE))
        task_id = await self._dispatch(eid)
        await self._step(lambda: act(eid, Action.START_HANDLING))
        fed = self._ledger.feedback.setdefault(task_id, asyncio.Event())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(fed.wait(), self._wait_s)
        if not fed.is_set():
            self._ledger.flow_errors += 1
            self._ledger.flow_failures["no feedback from the phone"] += 1
            return
        del self._ledger.feedback[task_id]
        await self._step(lambda: self._c.tasks.confirm_task(task_id))
        await self._step(lambda: act(eid, Action.FEEDBACK, note="已处置"))
        await self._step(lambda: act(eid, Action.ARCHIVE))
        self._ledger.archived.add(eid)

    async def drain(self, timeout_s: float) -> int:
        """Wait for the flows in flight; cancel what is left; how many were cancelled."""
        if self._flows:
            await asyncio.wait(set(self._flows), timeout=timeout_s)
        left = list(self._flows)
        for task in left:
            task.cancel()
        await asyncio.gather(*left, return_exceptions=True)
        return len(left)
