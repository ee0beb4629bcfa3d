"""The hub's roll-call service (issue 6): stations, runs, calls, the log and the scheduler.

`RollcallService` composes the parts, each one concept, sharing one `Board`:

- `stations` — the duty stations' links with a PIN and their presence;
- `signalling` — what the station's page and the hall (a console) say and are told
  during a call (ring, answer, the call's room, the hall's peer);
- `runner` — the run loop: calls placed as `core.plan()` says, each written before the
  run moves on, a run that resumes after a hub restart;
- `scheduler` — the weekly start;
- `requests` — the console's zmq operations and the week's log, coverage and export.

Changes are published as `RollcallChanged` with the board's own `seq`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path

from dispatch.domain.site import Site
from dispatch.domain.wire import ErrorCode, HubError
from dispatch.events.service import HubService
from dispatch.hub.auth import Session
from dispatch.rollcall import core as rc
from dispatch.rollcall import store as rs
from dispatch.rollcall.hall import HallDesk
from dispatch.rollcall.messages import RollcallReply, RollcallRequestBase
from dispatch.rollcall.service.requests import Requests
from dispatch.rollcall.service.runner import Runner
from dispatch.rollcall.service.scheduler import Scheduler
from dispatch.rollcall.service.signalling import Signalling
from dispatch.rollcall.service.state import Board, Db, Settings
from dispatch.rollcall.service.stations import StationAuthError, Stations
from streams.webrtc.config import IceSource

__all__ = ["RollcallService", "Settings", "StationAuthError"]

log = logging.getLogger(__name__)


class RollcallService:
    def __init__(
        self,
        hub: HubService,
        site: Site | None,
        *,
        clock: Callable[[], datetime],
        ice: IceSource | None = None,
        keep_hosts: Sequence[str] | None = None,
        snapshot_dir: Path,
        publish: Callable[[bytes], None] | None = None,
        settings: Settings | None = None,
        forward: bool = True,
    ) -> None:
        self.clock = clock
        self.settings = settings if settings is not None else Settings()
        self.db = Db(hub)
        roster = rc.roster_from_site(site) if site is not None else []
        self.board = Board(roster, clock=clock, publish=publish)
        self.stations = Stations(self.board, self.db, clock=clock)
        self.hall = HallDesk(clock)
        self.signalling = Signalling(
            self.board,
            self.stations,
            self.hall,
            self.settings,
            clock=clock,
            ice=ice,
            keep_hosts=keep_hosts,
            forward=forward,
        )
        self.runner = Runner(
            self.board,
            self.db,
            self.stations,
            self.signalling,
            self.settings,
            clock=clock,
            snapshot_dir=snapshot_dir,
        )
        self.scheduler = Scheduler(self.board, self.db, self.runner, self.settings, clock=clock)
        self.requests = Requests(
            self.board,
            self.db,
            site,
            self.stations,
            self.signalling,
            self.runner,
            self.scheduler,
            clock=clock,
            export_dir=snapshot_dir.parent / "rollcall-exports",
        )
        self._started = False
        self.meetings_on: Callable[[], bool] = lambda: False
        """Whether the hub has a meetings engine (the hub sets it): only then does the
        station page carry the meetings' script and open its meeting socket."""

    # -- what the web routes and the hub read -------------------------------------------------
    @property
    def centres(self) -> dict[str, rc.Centre]:
        return self.board.centres

    @property
    def run(self) -> rc.Run | None:
        return self.board.run

    @property
    def ice(self) -> IceSource:
        """Person name → ICE servers (minted TURN credentials) and policy."""
        return self.signalling.ice

    @property
    def keep_hosts(self) -> list[str] | None:
        return self.signalling.keep_hosts

    # -- life cycle -----------------------------------------------------------------------
    async def start(self) -> None:
        if self._started:
            return
        self._started = True
        b = self.board
        loaded = await self.db.read(rs.load_schedule)
        if loaded is not None:
            b.schedule, b.last_week = loaded
        b.seq = int(self.clock().timestamp() * 1000)  # monotonic across restarts
        b.run = await self.db.read(rs.open_run)
        if b.run is not None and b.run.status == "running":
            log.warning("resuming roll call %s (%d calls made)", b.run.id, len(b.run.calls))
            self.runner.spawn(delay_s=self.settings.resume_grace_s)
        self.scheduler.start()

    async def stop(self) -> None:
        if not self._started:
            return
        self._started = False
        await self.scheduler.stop()
        await self.runner.stop()

    # -- for the hub ------------------------------------------------------------------------
    async def handle(self, session: Session, req: RollcallRequestBase) -> RollcallReply:
        """The reply to one roll-call request (a refused one raises `HubError`)."""
        try:
            return await self.requests.handlers()[type(req)](session, req)
        except rc.RollcallError as exc:
            raise HubError(ErrorCode.INVALID, str(exc)) from None

    async def demo_links(self, http_url: str, ttl: timedelta = timedelta(days=30)) -> list[str]:
        return await self.stations.demo_links(http_url, ttl)
