"""Wires the roll-call panel to the hub: requests run on the network thread (asyncio),
results come back to the Qt thread through a `QtBridge`. Published `RollcallChanged`
messages update the live run; a gap in their `seq` (or a reconnect) asks for the status."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol, TypeVar

from console.kit.net import NetThread, QtBridge, submit_to_qt
from console.mediation.controller import TrackFactory, demo_tracks
from console.rollcall.call_controller import HallCallController
from console.rollcall.strings import t
from console.rollcall.view import RollcallPanel
from dispatch.client.rollcall import RollcallFacade
from dispatch.domain.calendar import CHINA_TZ
from dispatch.domain.wire import HubError
from dispatch.rollcall.messages import (
    ExemptionInfo,
    ExportFormat,
    RollcallAddExemptionReply,
    RollcallChanged,
    RollcallExportReply,
    RollcallRosterReply,
    RollcallStationLinkReply,
    RollcallWeeksReply,
    RunInfo,
)

log = logging.getLogger(__name__)
R = TypeVar("R")


class RollcallHub(Protocol):
    """The part of `dispatch.client.connection.HubClient` the roll call needs: its
    roll-call facade (requests and published changes)."""

    @property
    def rollcall(self) -> RollcallFacade: ...


class _RunReply(Protocol):
    """A reply with the run as of `seq` (status, start, stop, resume, note)."""

    @property
    def seq(self) -> int: ...

    @property
    def run(self) -> RunInfo | None: ...


def this_week(now: datetime) -> date:
    d = now.astimezone(CHINA_TZ).date()
    return d - timedelta(days=d.weekday())


class RollcallController:
    def __init__(
        self,
        client: RollcallHub,
        net: NetThread,
        bridge: QtBridge,
        panel: RollcallPanel,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        http_url: str | None = None,
        tracks: TrackFactory = demo_tracks,
        keep_hosts: Sequence[str] | None = None,
    ) -> None:
        self.client = client
        self.rc = client.rollcall
        self._unlisten: Callable[[], None] | None = None
        self.net = net
        self.bridge = bridge
        self.panel = panel
        self.now = now
        self.last_seq = 0
        self.exported: list[str] = []
        panel.start_requested.connect(lambda: self._op(self.rc.start()))
        panel.stop_requested.connect(lambda: self._op(self.rc.stop()))
        panel.resume_requested.connect(lambda: self._op(self.rc.resume()))
        panel.week_requested.connect(self.load_week)
        panel.export_requested.connect(self.export)
        panel.exemption_requested.connect(self.add_exemption)
        panel.link_requested.connect(self.issue_link)
        panel.note_requested.connect(self.note)
        panel.end_call_requested.connect(self.end_call)
        self.links: list[tuple[str, str, str]] = []  # centre, path, PIN
        # the video area: joins the answered call as the hall (needs the hub's HTTP address)
        self.call = HallCallController(
            client.rollcall,
            net,
            bridge,
            panel.call_area,
            http_url,
            tracks=tracks,
            keep_hosts=keep_hosts,
            names=panel.centre_name,
            selected=panel.selected_centre,
        )
        panel.run_shown.connect(self.call.on_run)

    def start(self) -> None:
        self.call.start()
        if self._unlisten is None:
            self._unlisten = self.rc.listen(self._on_changed)  # called on the network thread
        self.refresh()

    def stop(self) -> None:
        """Leave the call's picture and stop listening; safe to call twice."""
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None
        self.call.stop()

    # -- requests ---------------------------------------------------------------------------
    def _submit(self, coro: Coroutine[Any, Any, R], then: Callable[[R], None]) -> None:
        submit_to_qt(self.net.submit, self.bridge.post, coro, then, self._failed)

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, HubError):
            self.panel.show_status(t("failed", message=exc.message))
        else:  # a lost hub, a timeout
            self.panel.show_status(t("hub_failed", error=repr(exc)))

    def refresh(self) -> None:
        week = this_week(self.now())

        def roster(rep: RollcallRosterReply) -> None:
            self.panel.show_roster(rep.centres, rep.exemptions, rep.schedule)
            self._submit(self.rc.status(), self._status)
            self._submit(self.rc.weeks(), lambda r: self._weeks(r, week))

        self._submit(self.rc.roster(), roster)

    def _status(self, rep: _RunReply) -> None:
        if rep.seq < self.last_seq:
            return  # a published change newer than this reply is already shown
        self.last_seq = rep.seq
        self.panel.show_run(rep.run)

    def _weeks(self, rep: RollcallWeeksReply, week: date) -> None:
        self.panel.show_weeks(rep.weeks, week)
        self.load_week(week)

    def _op(self, request: Coroutine[Any, Any, _RunReply]) -> None:
        """Start, stop or resume (the coroutine of the facade's call)."""
        self.panel.show_status("")
        self._submit(request, self._status)

    def load_week(self, week: date) -> None:
        self._submit(
            self.rc.week(week),
            lambda r: self.panel.show_week(week, r.coverage, r.calls),
        )

    def export(self, week: date, fmt: str) -> None:
        def shown(rep: RollcallExportReply) -> None:
            self.exported.extend(rep.files)
            self.panel.show_status(t("exported", files=t("list_sep").join(rep.files)))

        fmts: list[ExportFormat] = ["pdf"] if fmt == "pdf" else ["csv"]
        self._submit(self.rc.export(week, fmts), shown)

    def add_exemption(self, ex: ExemptionInfo) -> None:
        def shown(rep: RollcallAddExemptionReply) -> None:
            self.panel.show_roster(rep.centres, rep.exemptions, rep.schedule)
            self.panel.show_status(t("exemption_added"))

        self._submit(self.rc.add_exemption(ex), shown)

    def issue_link(self, centre_id: str) -> None:
        def shown(rep: RollcallStationLinkReply) -> None:
            self.links.append((centre_id, rep.path, rep.pin))
            self.panel.show_status(t("duty_link", path=rep.path, pin=rep.pin))

        self._submit(self.rc.station_link(centre_id), shown)

    def note(self, centre_id: str, attempt: int, text: str) -> None:
        def shown(rep: _RunReply) -> None:
            self._status(rep)
            self.panel.show_status(t("note_saved"))

        self._submit(self.rc.note(centre_id, attempt, text), shown)

    def end_call(self, centre_id: str) -> None:
        """Hang up the answered call of `centre_id` before its talk time is over."""

        def shown(_rep: object) -> None:
            self.panel.show_status(t("call_ended"))  # the run's change is published

        self._submit(self.rc.end_call(centre_id), shown)

    # -- published changes (network thread) -------------------------------------------------
    def _on_changed(self, msg: RollcallChanged) -> None:
        gap = self.last_seq and msg.seq != self.last_seq + 1
        self.last_seq = msg.seq
        if gap:
            self.bridge.post(lambda: self._submit(self.rc.status(), self._status))
            return
        run = msg.run
        self.bridge.post(lambda: self.panel.show_run(run))
        if run.status == "done":
            self.bridge.post(lambda: self.load_week(run.week))
