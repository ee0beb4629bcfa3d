"""The roll call's face of the hub client (issue 6): one method per operation, each
sending its own request type and expecting its own reply type.

Built on the connection's authenticated `call` (`dispatch.client.calls.Caller`; seq,
resync and heartbeats stay with the connection); it is the connection's `rollcall`
attribute. The connection hands it each published `RollcallChanged` (`changed`, on the
network thread); whoever wants them `listen`s and calls the returned function to stop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import date
from functools import partial

from dispatch.client.calls import Caller
from dispatch.rollcall.messages import (
    ALL_FORMATS,
    ExemptionInfo,
    ExportFormat,
    RollcallAddExemptionReply,
    RollcallAddExemptionRequest,
    RollcallChanged,
    RollcallCoverageReply,
    RollcallCoverageRequest,
    RollcallEndCallReply,
    RollcallEndCallRequest,
    RollcallExportReply,
    RollcallExportRequest,
    RollcallNoteReply,
    RollcallNoteRequest,
    RollcallRemoveExemptionReply,
    RollcallRemoveExemptionRequest,
    RollcallResumeReply,
    RollcallResumeRequest,
    RollcallRosterReply,
    RollcallRosterRequest,
    RollcallScheduleReply,
    RollcallSetScheduleRequest,
    RollcallStartReply,
    RollcallStartRequest,
    RollcallStationLinkReply,
    RollcallStationLinkRequest,
    RollcallStatusReply,
    RollcallStatusRequest,
    RollcallStopReply,
    RollcallStopRequest,
    RollcallWatchReply,
    RollcallWatchRequest,
    RollcallWeekReply,
    RollcallWeekRequest,
    RollcallWeeksReply,
    RollcallWeeksRequest,
    ScheduleInfo,
)

log = logging.getLogger(__name__)

Listener = Callable[[RollcallChanged], None]


class RollcallFacade:
    def __init__(self, caller: Caller) -> None:
        self._conn = caller
        self._listeners: list[Listener] = []

    # -- published changes ------------------------------------------------------------------
    def listen(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` with each published change (network thread) until the returned
        function is called (safe to call twice)."""
        self._listeners.append(listener)

        def stop() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return stop

    @property
    def listening(self) -> int:
        """How many listeners there are."""
        return len(self._listeners)

    def changed(self, msg: RollcallChanged) -> None:
        """A published change (from the connection): to every listener."""
        for listener in list(self._listeners):
            try:
                listener(msg)
            except Exception:
                log.exception("roll-call listener failed")

    # -- the roster and the schedule --------------------------------------------------------
    async def roster(self) -> RollcallRosterReply:
        """The centres (online, exempt today), the exemptions and the schedule."""
        return await self._conn.call(RollcallRosterReply, RollcallRosterRequest)

    async def add_exemption(self, exemption: ExemptionInfo) -> RollcallAddExemptionReply:
        request = partial(RollcallAddExemptionRequest, exemption=exemption)
        return await self._conn.call(RollcallAddExemptionReply, request)

    async def remove_exemption(self, exemption_id: int) -> RollcallRemoveExemptionReply:
        request = partial(RollcallRemoveExemptionRequest, exemption_id=exemption_id)
        return await self._conn.call(RollcallRemoveExemptionReply, request)

    async def set_schedule(self, schedule: ScheduleInfo) -> RollcallScheduleReply:
        request = partial(RollcallSetScheduleRequest, schedule=schedule)
        return await self._conn.call(RollcallScheduleReply, request)

    async def station_link(
        self, centre_id: str, *, ttl_days: float = 365
    ) -> RollcallStationLinkReply:
        """A duty station's link (`path`, relative to the hub's HTTP address) and PIN."""
        request = partial(RollcallStationLinkRequest, centre_id=centre_id, ttl_days=ttl_days)
        return await self._conn.call(RollcallStationLinkReply, request)

    # -- the run ------------------------------------------------------------------------------
    async def start(
        self,
        *,
        batch: int | None = None,
        ring_s: float | None = None,
        talk_s: float | None = None,
    ) -> RollcallStartReply:
        """Start a run now (None: the schedule's batch and ring time, the default talk)."""
        request = partial(RollcallStartRequest, batch=batch, ring_s=ring_s, talk_s=talk_s)
        return await self._conn.call(RollcallStartReply, request)

    async def stop(self) -> RollcallStopReply:
        return await self._conn.call(RollcallStopReply, RollcallStopRequest)

    async def resume(self) -> RollcallResumeReply:
        return await self._conn.call(RollcallResumeReply, RollcallResumeRequest)

    async def status(self) -> RollcallStatusReply:
        return await self._conn.call(RollcallStatusReply, RollcallStatusRequest)

    async def note(self, centre_id: str, attempt: int, note: str) -> RollcallNoteReply:
        request = partial(RollcallNoteRequest, centre_id=centre_id, attempt=attempt, note=note)
        return await self._conn.call(RollcallNoteReply, request)

    async def end_call(self, centre_id: str) -> RollcallEndCallReply:
        request = partial(RollcallEndCallRequest, centre_id=centre_id)
        return await self._conn.call(RollcallEndCallReply, request)

    async def watch(self, centre_id: str | None = None) -> RollcallWatchReply:
        """The hall's way into the answered call of `centre_id` (None: the current call)."""
        request = partial(RollcallWatchRequest, centre_id=centre_id)
        return await self._conn.call(RollcallWatchReply, request)

    # -- the log ------------------------------------------------------------------------------
    async def week(self, week: date | None = None) -> RollcallWeekReply:
        """One week's runs, calls and coverage (None: this week)."""
        request = partial(RollcallWeekRequest, week=week)
        return await self._conn.call(RollcallWeekReply, request)

    async def coverage(self, week: date | None = None) -> RollcallCoverageReply:
        request = partial(RollcallCoverageRequest, week=week)
        return await self._conn.call(RollcallCoverageReply, request)

    async def weeks(self) -> RollcallWeeksReply:
        return await self._conn.call(RollcallWeeksReply, RollcallWeeksRequest)

    async def export(
        self, week: date | None = None, formats: Sequence[ExportFormat] = ALL_FORMATS
    ) -> RollcallExportReply:
        """Export a week's log on the hub (CSV and/or PDF); the reply names the files."""
        request = partial(RollcallExportRequest, week=week, formats=list(formats))
        return await self._conn.call(RollcallExportReply, request)
