"""Feeds the roll-call model from the hub: requests run on the network thread (asyncio),
results come back to the Qt thread through a `QtBridge` and go into the `RollcallModel`
(the controller never touches a widget; the panel follows the model and sends its
intents here). Published `RollcallChanged` messages update the live run; a gap in their
`seq` (or a reconnect) asks for the status."""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable, Coroutine, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol, TypeVar

from console.kit.net import NetThread, QtBridge, submit_to_qt
from console.mediation.controller import TrackFactory, demo_tracks
from console.rollcall.call_controller import HallCallController
from console.rollcall.model import RollcallModel, active_call
from console.rollcall.strings import t
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
    """Reads the hub into `model`; the panel's intents (`RollcallIntents`) are the public
    methods below, the video area's go to `call` (`HallCallController`). `start()` takes
    the logged-in hub client from `hub()` (None: not logged in, nothing starts) and keeps it
    as `client`; before that the intents ask nothing. Construct on the Qt thread;
    `start`/`stop` are safe to call twice."""

    def __init__(
        self,
        hub: Callable[[], RollcallHub | None],
        net: NetThread,
        bridge: QtBridge,
        model: RollcallModel,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        http_url: str | None = None,
        tracks: TrackFactory = demo_tracks,
        keep_hosts: Sequence[str] | None = None,
        http_ssl: ssl.SSLContext | None = None,
        public_url: Callable[[], str] = lambda: "",
    ) -> None:
        self._hub = hub
        self.public_url = public_url  # the hub's, from the login: links start with it
        self.client: RollcallHub | None = None  # from the first start (the login)
        self._unlisten: Callable[[], None] | None = None
        self.net = net
        self.bridge = bridge
        self.model = model
        self.now = now
        self.last_seq = 0
        self.exported: list[str] = []
        self.links: list[tuple[str, str, str]] = []  # centre, path, PIN
        # the video area: joins the answered call as the hall (needs the hub's HTTP address)
        self.call = HallCallController(
            self._watch_client,
            net,
            bridge,
            model.call,
            http_url,
            tracks=tracks,
            keep_hosts=keep_hosts,
            names=model.centre_name,
            http_ssl=http_ssl,
        )

    @property
    def rc(self) -> RollcallFacade:
        """The logged-in client's roll-call facade (only called once started)."""
        client = self.client
        if client is None:
            raise RuntimeError("the roll call is not connected to the hub")
        return client.rollcall

    def _watch_client(self) -> RollcallFacade | None:
        client = self.client
        return None if client is None else client.rollcall

    def _connected(self) -> bool:
        """Logged in: before that the panel's intents do nothing."""
        return self.client is not None

    def start(self) -> None:
        """Listen to the hub's roll-call changes and read its state (once logged in)."""
        if self.client is None:
            self.client = self._hub()
        if self.client is None:
            return
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
            self.model.set_status(t("failed", message=exc.message))
        else:  # a lost hub, a timeout
            self.model.set_status(t("hub_failed", error=repr(exc)))

    def refresh(self) -> None:
        week = this_week(self.now())

        def roster(rep: RollcallRosterReply) -> None:
            self.model.show_roster(rep.centres, rep.exemptions, rep.schedule)
            self._submit(self.rc.status(), self._status)
            self._submit(self.rc.weeks(), lambda r: self._weeks(r, week))

        self._submit(self.rc.roster(), roster)

    def _status(self, rep: _RunReply) -> None:
        if rep.seq < self.last_seq:
            return  # a published change newer than this reply is already shown
        self.last_seq = rep.seq
        self._show_run(rep.run)

    def _show_run(self, run: RunInfo | None) -> None:
        self.model.show_run(run)
        self.call.on_run(run)  # the video area follows the run

    def _weeks(self, rep: RollcallWeeksReply, week: date) -> None:
        self.model.show_weeks(rep.weeks, week)
        self.load_week(week)

    def _op(self, request: Coroutine[Any, Any, _RunReply]) -> None:
        """Start, stop or resume (the coroutine of the facade's call)."""
        self.model.set_status("")
        self._submit(request, self._status)

    def start_run(self) -> None:
        if self._connected():
            self._op(self.rc.start())

    def stop_run(self) -> None:
        if self._connected():
            self._op(self.rc.stop())

    def resume_run(self) -> None:
        if self._connected():
            self._op(self.rc.resume())

    def load_week(self, week: date) -> None:
        if not self._connected():
            return
        self._submit(
            self.rc.week(week),
            lambda r: self.model.show_week(week, r.coverage, r.calls),
        )

    def export(self, week: date, fmt: str) -> None:
        if not self._connected():
            return

        def shown(rep: RollcallExportReply) -> None:
            self.exported.extend(rep.files)
            self.model.set_status(t("exported", files=t("list_sep").join(rep.files)))

        fmts: list[ExportFormat] = ["pdf"] if fmt == "pdf" else ["csv"]
        self._submit(self.rc.export(week, fmts), shown)

    def add_exemption(self, ex: ExemptionInfo) -> None:
        if not self._connected():
            return

        def shown(rep: RollcallAddExemptionReply) -> None:
            self.model.show_roster(rep.centres, rep.exemptions, rep.schedule)
            self.model.set_status(t("exemption_added"))

        self._submit(self.rc.add_exemption(ex), shown)

    def issue_link(self, centre_id: str) -> None:
        if not self._connected():
            return

        def shown(rep: RollcallStationLinkReply) -> None:
            self.links.append((centre_id, rep.path, rep.pin))
            self.model.set_status(t("duty_link", path=self.public_url() + rep.path, pin=rep.pin))

        self._submit(self.rc.station_link(centre_id), shown)

    def note(self, centre_id: str, attempt: int, text: str) -> None:
        if not self._connected():
            return

        def shown(rep: _RunReply) -> None:
            self._status(rep)
            self.model.set_status(t("note_saved"))

        self._submit(self.rc.note(centre_id, attempt, text), shown)

    def note_selected(self, centre_id: str | None, text: str) -> None:
        """The note on the latest call of the centre selected in the run's table."""
        if not self._connected():
            return
        run = self.model.run
        if run is None or centre_id is None:
            self.model.set_status(t("select_first"))
            return
        made = [c.attempt for c in run.calls if c.centre_id == centre_id]
        if not made:
            self.model.set_status(t("not_called"))
            return
        self.note(centre_id, max(made), text)

    def end_call_selected(self, centre_id: str | None) -> None:
        """Ends the selected centre's call if it is being called, else the current one."""
        if not self._connected():
            return
        calling = active_call(self.model.run)
        if not calling:
            self.model.set_status(t("no_call_now"))
            return
        self.end_call(centre_id if centre_id in calling else calling[0])

    def end_call(self, centre_id: str) -> None:
        """Hang up the answered call of `centre_id` before its talk time is over."""
        if not self._connected():
            return

        def shown(_rep: object) -> None:
            self.model.set_status(t("call_ended"))  # the run's change is published

        self._submit(self.rc.end_call(centre_id), shown)

    # -- published changes (network thread) -------------------------------------------------
    def _on_changed(self, msg: RollcallChanged) -> None:
        gap = self.last_seq and msg.seq != self.last_seq + 1
        self.last_seq = msg.seq
        if gap:
            self.bridge.post(lambda: self._submit(self.rc.status(), self._status))
            return
        run = msg.run
        self.bridge.post(lambda: self._show_run(run))
        if run.status == "done":
            self.bridge.post(lambda: self.load_week(run.week))
