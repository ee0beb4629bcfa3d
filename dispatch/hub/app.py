"""The hub's assembly: `Hub` builds the services, the zmq server, the HTTP app and the
timer loop from one `HubConfig` (`dispatch.hub.config`); the command line that reads the
config and runs it is `dispatch.hub.cli` (`hall-hub`). With `[turn]` it mints TURN
credentials for pages, consoles and its own peers (`dispatch.hub.turn`), and with
`[turn] run = true` it runs coturn itself (`streams.webrtc.coturn`, the demo).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path

from aiohttp import web

from dispatch.db.store import Store
from dispatch.domain.calendar import WorkCalendar
from dispatch.domain.model import EventSource
from dispatch.domain.site import Site
from dispatch.domain.wire import HubError
from dispatch.events.handlers import EventHandlers
from dispatch.events.reveal import Revealer
from dispatch.events.service import HubService
from dispatch.events.web import make_app
from dispatch.hub import auth, web_guard, web_pages
from dispatch.hub.certs import HubCertificates, local_url
from dispatch.hub.clock import HUB_CLOCK, OFFSET_ENV, ClockWatch, china_now
from dispatch.hub.config import HubConfig, TurnConfig, owns_data_dir, redact_db
from dispatch.hub.demo import DEMO_API_KEY
from dispatch.hub.guard import Guard, SecurityLog, pin_middleware
from dispatch.hub.handlers import SessionHandlers
from dispatch.hub.hashing import HashPool
from dispatch.hub.plain_http import make_plain_app
from dispatch.hub.registry import HandlerRegistry
from dispatch.hub.tls import ca_subject_name
from dispatch.hub.tls_site import HandshakeSite
from dispatch.hub.turn import TurnMinter
from dispatch.hub.writer import Committed
from dispatch.hub.zmq_server import CurveSetup, ZmqServer
from dispatch.mediation.handlers import MediationHandlers
from dispatch.mediation.service import MediationService
from dispatch.mediation.web import add_mediation_routes
from dispatch.meetings.handlers import MeetingsHandlers
from dispatch.meetings.janus.config import build_media, default_public_url
from dispatch.meetings.janus.recording import finish_meeting, finish_recording
from dispatch.meetings.service import MeetingsService
from dispatch.meetings.web import add_meetings_routes
from dispatch.patrol.handlers import PatrolHandlers
from dispatch.patrol.runner import HubPatrol, site_targets
from dispatch.patrol.service import PatrolService
from dispatch.patrol.web import add_patrol_routes
from dispatch.platform.handlers import PlatformHandlers
from dispatch.platform.service import PlatformsService
from dispatch.positions.handlers import PositionHandlers
from dispatch.positions.service import PositionsService
from dispatch.ptz.handlers import PtzHandlers
from dispatch.ptz.service import PtzService
from dispatch.relays.handlers import RelayHandlers
from dispatch.relays.service import RelaysService
from dispatch.relays.web import add_relay_routes
from dispatch.reports.handlers import ReportHandlers
from dispatch.reports.service import ReportService
from dispatch.reports.web import add_report_routes
from dispatch.rollcall.handlers import RollcallHandlers
from dispatch.rollcall.service import RollcallService
from dispatch.rollcall.web import add_rollcall_routes
from dispatch.tasks.handlers import TaskHandlers
from dispatch.tasks.service import DispatchService
from dispatch.tasks.web import add_phone_routes
from streams.patrol.relayed import UpstreamOf
from streams.private import private_dir, tighten_tree
from streams.webrtc.config import restrict_host_addresses
from streams.webrtc.coturn import Coturn, CoturnSettings

log = logging.getLogger("hall-hub")


def zmq_server(config: HubConfig, service: HubService, handlers: HandlerRegistry) -> ZmqServer:
    """The console sockets: CURVE behind the enrolment book unless `[zmq] curve = false`."""
    zc = config.zmq
    return ZmqServer(
        service,
        zc.req,
        zc.pub,
        handlers=handlers,
        heartbeat_s=zc.heartbeat_s,
        curve=CurveSetup(config.keys_dir(), zc.reload_s) if zc.curve else None,
        max_message_bytes=zc.max_message_bytes,
    )


def coturn_settings(turn: TurnConfig, secret: str) -> CoturnSettings:
    """What `streams.webrtc.coturn` writes into turnserver.conf, from `[turn]`."""
    return CoturnSettings(
        secret=secret,
        listen_ip=turn.listen_ip,
        port=turn.port,
        relay_ip=turn.relay_ip,
        external_ip=turn.external_ip,
        realm=turn.realm,
        min_port=turn.min_port,
        max_port=turn.max_port,
        allowed_peers=turn.allowed_peers,
    )


def ice_minter(config: HubConfig, secret: Callable[[], str | None]) -> TurnMinter:
    """The hub's ICE source: `[webrtc] ice_servers` + `[turn]` with minted credentials."""
    turn = config.turn
    return TurnMinter(
        turn.effective_urls(),
        secret,
        ttl_s=turn.ttl_s,
        static=config.webrtc.parsed_ice_servers(),
        relay_only=turn.relay_only,
    )


def positions_service(hub: Hub) -> PositionsService:
    """The grid leaders' shared positions, with the hub's `[positions]` settings."""
    return PositionsService(
        hub.service,
        hub.site,
        hub.zmq.publish_frame,
        max_age=hub.config.positions.max_age(),
        min_interval_s=hub.config.positions.min_interval_s,
    )


def mediation_service(hub: Hub, data_dir: Path) -> MediationService:
    """Remote mediation (issue 5): the hub's star, or Janus beyond 6 parties (`[mediation]`;
    the engine is handed over in `start()` with the meetings')."""
    config, webrtc = hub.config, hub.config.webrtc
    return MediationService(
        hub.service,
        ice=hub.ice,
        keep_hosts=webrtc.hosts or None,
        record_dir=config.recordings or data_dir / "recordings",
        forward=webrtc.forward,
        share_encoding=webrtc.share_encoding,
        placement=config.mediation,
    )


def meetings_service(hub: Hub, data_dir: Path, clock: Callable[[], datetime]) -> MeetingsService:
    """The video meetings (issue 13); their engine is made in `start()` from `[janus]`
    (without one a meeting can be planned, not opened)."""
    svc = MeetingsService(
        hub.service,
        hub.site,
        clock=clock,
        ice=hub.ice,
        media=None,
        record_root=data_dir / "meetings",
        publish=hub.zmq.publish_frame,
    )
    # the station page opens its meeting socket only when there is an engine
    hub.rollcall.meetings_on = lambda: svc.room.media is not None
    return svc


def prepare_data_dir(config: HubConfig) -> Path:
    """The data folder, made 0700; when it is the hub's own, everything in it is brought
    to 0700 folders and 0600 files (data written by an older hub or by hand)."""
    root = private_dir(config.data_dir())
    if owns_data_dir(config):
        tighten_tree(root)
    return root


class Hub:
    """The assembled hub: service, zmq server, HTTP server and timer loop.

    Nothing is read or bound here; `start()` does that (and `stop()`), both safe twice.
    """

    def __init__(
        self,
        config: HubConfig,
        *,
        calendar: WorkCalendar | None = None,
        site: Site | None = None,
        clock: Callable[[], datetime] = china_now,
    ) -> None:
        self.config = config
        self.site = site
        data_dir = config.data_dir()
        webrtc = config.webrtc
        self._turn_secret: str | None = None  # read (or made, with run) in start()
        self.ice = ice_minter(config, lambda: self._turn_secret)
        self.coturn: Coturn | None = None
        self.service = HubService(
            Store(config.db_url),
            clock=clock,
            calendar=calendar,
            settings=config.settings(),
            on_publish=self._publish,
            hasher=HashPool(config.guard.hash_workers, config.guard.hash_queue),
        )
        self.guard = Guard(config.guard, log=SecurityLog(self.service.commit, clock))
        handlers = HandlerRegistry()
        self.zmq = zmq_server(config, self.service, handlers)
        self.dispatch = DispatchService(
            self.service, site, upload_dir=config.upload_dir(), evidence_dir=config.evidence_dir()
        )
        self.patrol = PatrolService(self.service, site, settings_path=config.patrol.settings)
        self.mediation = mediation_service(self, data_dir)
        self.rollcall = RollcallService(
            self.service,
            site,
            clock=clock,
            ice=self.ice,
            keep_hosts=webrtc.hosts or None,
            snapshot_dir=data_dir / "rollcall",
            publish=self.zmq.publish_frame,
            forward=webrtc.forward and webrtc.share_encoding,
        )
        self.meetings = meetings_service(self, data_dir, clock)
        self.reports = ReportService(self.service, site)
        self.positions = positions_service(self)
        self.relays = RelaysService(site, self.zmq.publish_frame, clock)
        self.ptz = PtzService.for_site(self.service, site, self.zmq.publish_frame, config.ptz)
        self.platforms = PlatformsService(site, publish=self.zmq.publish_frame)
        for feature in (
            SessionHandlers(self.service, self.guard, self.ice, lambda: self.public_url),
            EventHandlers(self.service, Revealer(self.service)),
            TaskHandlers(self.service, self.dispatch),
            MediationHandlers(self.service, self.mediation),
            RollcallHandlers(self.service, self.rollcall),
            MeetingsHandlers(self.service, self.meetings),
            ReportHandlers(self.service, self.reports),
            PatrolHandlers(self.service, self.patrol),
            PositionHandlers(self.service, self.positions),
            RelayHandlers(self.service, self.relays),
            PtzHandlers(self.service, self.ptz),
            PlatformHandlers(self.service, self.platforms),
        ):
            feature.register(handlers)
        self.scheduled_patrol = scheduled_patrol(
            config, self.patrol, site, clock, self.relays.upstream
        )
        self.certs = HubCertificates(config, site.name if site is not None else None)
        self._runner: web.AppRunner | None = None
        self._plain_runner: web.AppRunner | None = None
        self._timer_task: asyncio.Task[None] | None = None
        self.http_url = ""  # where this machine reaches the pages (https unless tls is off)
        self.public_url = ""  # what every link, QR code and message carries
        self.plain_url = ""  # the plain-HTTP listener ("" when off)
        self.ca_page_url = ""  # its CA install page as phones reach it

    async def start(self) -> None:
        if self._runner is not None:
            return
        await asyncio.to_thread(prepare_data_dir, self.config)
        if HUB_CLOCK.offset_file is not None:
            log.warning(
                "TEST CLOCK: the wall clock is the system's plus the seconds in %s (%s)",
                HUB_CLOCK.offset_file,
                OFFSET_ENV,
            )
        await self._start_turn()
        await self.service.start()
        await self.dispatch.start()
        await self.patrol.start()
        await self.positions.start()
        await self.relays.start()
        await self.platforms.start()
        await self.ptz.start()
        if not self.config.zmq.curve:
            log.warning(
                "zmq CURVE is OFF (zmq.curve = false): consoles are not authenticated and "
                "their traffic is plain text; loopback endpoints only, never in production"
            )
        await self.zmq.start()
        if self.config.webrtc.hosts:
            restrict_host_addresses(self.config.webrtc.hosts)
        app = make_app(self.service)
        app.middlewares.append(pin_middleware(self.guard))
        add_phone_routes(app, self.dispatch, self.positions)
        add_mediation_routes(app, self.mediation)
        add_patrol_routes(app, self.patrol)
        add_rollcall_routes(app, self.rollcall)
        add_meetings_routes(app, self.meetings, self.rollcall.stations.authorised)
        add_report_routes(app, self.reports)
        add_relay_routes(app, self.relays)
        web_pages.add_common_routes(app)
        web_guard.install(app, [u] if (u := self.config.http.public_url) else [])
        app[web_pages.PAGE_LINKS] = lambda: web_pages.links_for(self.public_url, self.plain_url)
        await self.rollcall.start()
        # aiohttp closes a connection whose handler still waits for a complete request
        # head after `keepalive_timeout`, counted from the connection's start or the last
        # response and not reset by more bytes: the header-read timeout (half-sent
        # requests, slowloris) and the idle keep-alive limit at once
        ssl_context = await asyncio.to_thread(self.certs.prepare)
        http = self.config.http
        runner = web.AppRunner(app, access_log=None, keepalive_timeout=http.header_timeout_s)
        await runner.setup()
        # a large backlog: after a hub restart every phone reconnects at once
        site = HandshakeSite(
            runner,
            http.host,
            http.port,
            backlog=2048,
            ssl_context=ssl_context,
            handshake_timeout_s=http.header_timeout_s,
        )
        await site.start()
        self._runner = runner
        port = _bound_port(runner, http.port)
        self.http_url = local_url(self.certs.scheme, http.host, port)
        self.public_url = self.certs.public_url(port)
        if self.certs.enabled and http.plain_enabled():
            await self._start_plain()
        await self.certs.start()
        await self._start_meetings()
        self._timer_task = asyncio.create_task(self._timers(), name="hub-timers")
        if self.scheduled_patrol is not None:
            await self.scheduled_patrol.start()

    async def _start_meetings(self) -> None:
        """The meetings with their engine when `[janus]` has one (it needs the public URL:
        the pages reach Janus on the hub's host by default)."""
        cfg = self.config.janus
        room = self.meetings.room
        if cfg.enabled() and room.media is None:
            m = self.certs.material
            media = await asyncio.to_thread(
                build_media,
                cfg,
                data_dir=self.config.data_dir(),
                hub_public_url=self.public_url,
                ice=lambda name: list(self.ice(name).servers),
                cert=(m.cert, m.key) if m is not None else None,
            )
            room.media, room.finish = media, finish_meeting
            public = (
                cfg.public_url or cfg.url or default_public_url(self.public_url, cfg.https_port)
            )
            self.meetings.janus_origin = web_guard.origin_of(public)
            # mediation sessions beyond the star's 6 parties go to the same Janus
            self.mediation.janus.media = media
            self.mediation.janus.finish = finish_recording
        await self.meetings.start()

    async def _start_plain(self) -> None:
        http = self.config.http
        material = self.certs.material
        fingerprint = material.ca_fingerprint if material is not None else None
        app = make_plain_app(
            self.certs.ca_pem(), fingerprint, _ca_subject(self), lambda: self.public_url
        )
        runner = web.AppRunner(app, access_log=None, keepalive_timeout=http.header_timeout_s)
        await runner.setup()
        await web.TCPSite(runner, http.host, http.plain_port or 0).start()
        self._plain_runner = runner
        port = _bound_port(runner, http.plain_port or 0)
        self.plain_url = local_url("http", http.host, port)
        self.ca_page_url = self.certs.ca_page_url(self.public_url, port)

    async def stop(self) -> None:
        if self._runner is None:
            return
        runner, self._runner = self._runner, None
        await self.certs.stop()
        if self._plain_runner is not None:
            await self._plain_runner.cleanup()
            self._plain_runner = None
        if self.scheduled_patrol is not None:
            await self.scheduled_patrol.stop()
        if self._timer_task is not None:
            self._timer_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer_task
            self._timer_task = None
        await self.relays.stop()
        await self.platforms.stop()
        await self.meetings.stop()
        await self.rollcall.stop()
        await self.mediation.stop()
        await runner.cleanup()
        await self.zmq.stop()
        await self.dispatch.stop()
        await self.guard.drain()  # the audit rows of blocks still being written
        await self.service.stop()
        if self.coturn is not None:
            await self.coturn.stop()
            self.coturn = None

    async def _start_turn(self) -> None:
        """Read the TURN secret and, with `[turn] run = true`, start coturn."""
        turn = self.config.turn
        if not turn.enabled():
            return
        self._turn_secret = turn.load_secret()
        if not turn.run or self.coturn is not None:
            return
        self.coturn = Coturn(
            coturn_settings(turn, self._turn_secret),
            self.config.data_dir() / "coturn",
        )
        await self.coturn.start()

    def _publish(self, changes: list[Committed]) -> None:
        """The service's committed changes go out on the zmq PUB socket."""
        self.zmq.publish(changes)

    async def _timers(self) -> None:
        """The deadline and escalation timers, paced by the monotonic clock (asyncio's);
        a jump of the wall clock makes every open event's colour be checked again."""
        watch = ClockWatch(self.service.clock)
        watch.look()
        while True:
            await asyncio.sleep(self.config.timer_tick_s)
            jump = watch.look()
            if jump:
                n = self.service.recheck_all()
                log.warning(
                    "the wall clock jumped %+.0f s: the %d open events are checked again", jump, n
                )
            nxt = self.service.next_timer()
            if nxt is not None and nxt <= self.service.clock():
                try:
                    await self.service.run_timers()
                except HubError as exc:  # a full disk: tried again, see storage
                    log.warning("deadline timers not written: %s", exc.message)
                except Exception:
                    log.exception("deadline timers failed")
            esc = self.dispatch.next_escalation()
            if esc is not None and esc <= self.service.clock():
                try:
                    await self.dispatch.run_escalations()
                except Exception:
                    log.exception("escalation timers failed")

    def ready_info(self) -> dict[str, object]:
        return {
            "http": self.http_url,
            "https": self.http_url if self.certs.enabled else None,
            "public_url": self.public_url,
            "plain_http": self.plain_url or None,
            "ca_cert": str(ca) if (ca := self.certs.ca_file()) is not None else None,
            "ca_spki": self.certs.material.ca_spki if self.certs.material else None,
            "req": self.zmq.req_endpoint,
            "pub": self.zmq.pub_endpoint,
            "curve": self.config.zmq.curve,
            "hub_public_key": self.zmq.public_key,
            "keys_dir": str(self.config.keys_dir()),
            "db": redact_db(self.config.db_url),
            "pid": os.getpid(),
            "instance": self.service.instance,
        }


def scheduled_patrol(
    config: HubConfig,
    patrol: PatrolService,
    site: Site | None,
    clock: Callable[[], datetime],
    upstream_of: UpstreamOf | None = None,
) -> HubPatrol | None:
    """The hub's own camera patrol when configured (`patrol.every_s` and a site)."""
    if config.patrol.every_s <= 0 or site is None:
        return None
    return HubPatrol(
        patrol,
        site_targets(site),
        interval_s=config.patrol.every_s,
        clock=clock,
        snapshot_dir=config.data_dir() / "patrol",
        concurrency=config.patrol.concurrency,
        relay_concurrency=config.patrol.relay_concurrency,
        upstream_of=upstream_of,
    )


def _bound_port(runner: web.AppRunner, configured: int) -> int:
    for addr in runner.addresses:
        if isinstance(addr, tuple) and len(addr) >= 2:
            return int(addr[1])
    return configured


def _ca_subject(hub: Hub) -> str:
    return ca_subject_name(hub.certs.centre)


async def seed_demo(service: HubService) -> None:
    for name, role, password in auth.DEMO_OPERATORS:
        if await asyncio.to_thread(service.store.operator, name) is None:
            await service.add_operator(name, role, password)
    await service.add_api_key(DEMO_API_KEY, "demo", list(EventSource))


async def demo_phone_links(hub: Hub) -> list[str]:
    """Issue a personal phone link and PIN for each grid leader and deputy of the site."""
    lines: list[str] = []
    site = hub.site
    if site is None:
        return lines
    for p in site.people:
        if p.role in ("grid_leader", "deputy"):
            token, pin, _ = await hub.dispatch.issue_link(p.id, timedelta(days=30))
            lines.append(f"  {p.name}（{p.id}）: {hub.public_url}/m/{token}  PIN {pin}")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """`hall-hub` for entry-point scripts installed before the command line moved to
    `dispatch.hub.cli` (reinstalling points them there)."""
    from dispatch.hub.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
