"""`hall-hub`: the centre's backend (store, workflow timers, zmq for consoles, HTTP intake).

    hall-hub [--db URL] [--site FILE] [--calendar FILE] [--http HOST:PORT]
             [--zmq-req ENDPOINT] [--zmq-pub ENDPOINT] [--api-key-file FILE] [--demo]
    hall-hub --db URL --add-operator NAME --role ROLE     (password on stdin or $HALL_PASSWORD)

When it serves it prints exactly one line `READY {json}` with its endpoints.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import logging
import os
import signal
import sys
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.engine import make_url

from dispatch.db.store import Store, StoreError, default_db_url
from dispatch.domain.calendar import CalendarError, WorkCalendar
from dispatch.domain.model import EventSource, Role
from dispatch.domain.site import Site, SiteConfigError, load_site
from dispatch.events.handlers import EventHandlers
from dispatch.events.service import HubService, HubSettings, china_now
from dispatch.events.web import make_app
from dispatch.hub import auth
from dispatch.hub.handlers import SessionHandlers
from dispatch.hub.registry import HandlerRegistry
from dispatch.hub.zmq_server import ZmqServer
from dispatch.mediation.handlers import MediationHandlers
from dispatch.mediation.service import MediationService
from dispatch.mediation.web import add_mediation_routes
from dispatch.patrol.runner import HubPatrol
from dispatch.patrol.service import PatrolService, add_patrol_routes
from dispatch.reports.handlers import ReportHandlers
from dispatch.reports.service import ReportService, add_report_routes
from dispatch.rollcall.handlers import RollcallHandlers
from dispatch.rollcall.service import RollcallService
from dispatch.rollcall.web import add_rollcall_routes
from dispatch.tasks.handlers import TaskHandlers
from dispatch.tasks.service import DispatchService
from dispatch.tasks.web import add_phone_routes
from streams.patrol.runner import site_targets
from streams.webrtc.config import (
    IceConfigError,
    IceServer,
    parse_ice_servers,
    restrict_host_addresses,
)

log = logging.getLogger("hall-hub")

DEMO_API_KEY = "demo-intake-key-0123456789"
DEFAULT_ZMQ_REQ = "tcp://127.0.0.1:5570"
DEFAULT_ZMQ_PUB = "tcp://127.0.0.1:5571"
DEFAULT_HTTP = "127.0.0.1:8470"


def default_calendar_path() -> Path:
    return Path(__file__).resolve().parents[2] / "resources" / "calendar" / "cn.toml"


def load_calendar(path: Path) -> WorkCalendar:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return WorkCalendar.from_mapping(data)
    except OSError as exc:
        raise SystemExit(f"{path}: cannot read calendar: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, CalendarError) as exc:
        raise SystemExit(f"{path}: invalid calendar: {exc}") from None


class ApiKeyEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1, max_length=64)
    key: str = Field(min_length=16, max_length=256)
    sources: list[EventSource] = Field(min_length=1)


class ApiKeyFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    keys: list[ApiKeyEntry]


def load_api_keys(path: Path) -> list[ApiKeyEntry]:
    """A TOML file of `[[keys]] name = … key = … sources = [...]`."""
    try:
        return ApiKeyFile.model_validate(tomllib.loads(path.read_text("utf-8"))).keys
    except OSError as exc:
        raise SystemExit(f"{path}: cannot read API key file: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SystemExit(f"{path}: not valid TOML: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise SystemExit(f"{path}: invalid API key file: {loc}: {first['msg']}") from None


def parse_hostport(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host, int(port)


def redact_db(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<db>"


@dataclass(frozen=True)
class HubConfig:
    db_url: str
    http_host: str = "127.0.0.1"
    http_port: int = 0
    zmq_req: str = "tcp://127.0.0.1:0"
    zmq_pub: str = "tcp://127.0.0.1:0"
    heartbeat_s: float = 1.0
    timer_tick_s: float = 0.5
    settings: HubSettings = field(default_factory=HubSettings)
    upload_dir: Path | None = None  # feedback photos (default: beside the SQLite file)
    ice_servers: tuple[IceServer, ...] = ()  # STUN/TURN for WebRTC (mediation, roll call)
    webrtc_hosts: tuple[str, ...] = ()  # restrict ICE host candidates (e.g. 127.0.0.1)
    record_dir: Path | None = None  # mediation recordings (default: beside the db)
    patrol_every_s: float = 0.0  # camera patrol rounds run by the hub (0 = off; needs a site)


def default_upload_dir(db_url: str) -> Path:
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite" and url.database:
        return Path(url.database).parent / "uploads"
    return Path("var") / "uploads"


class Hub:
    """The assembled hub: service, zmq server, HTTP server and timer loop."""

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
        self.service = HubService(
            Store(config.db_url), clock=clock, calendar=calendar, settings=config.settings
        )
        handlers = HandlerRegistry()
        self.zmq = ZmqServer(
            self.service,
            config.zmq_req,
            config.zmq_pub,
            handlers=handlers,
            heartbeat_s=config.heartbeat_s,
        )
        self.dispatch = DispatchService(
            self.service,
            site,
            upload_dir=config.upload_dir or default_upload_dir(config.db_url),
        )
        self.patrol = PatrolService(self.service, site)
        self.mediation = MediationService(
            self.dispatch,
            ice_servers=config.ice_servers,
            keep_hosts=config.webrtc_hosts or None,
            record_dir=config.record_dir or default_upload_dir(config.db_url).parent / "recordings",
        )
        self.rollcall = RollcallService(
            self.service,
            site,
            clock=clock,
            ice_servers=config.ice_servers,
            keep_hosts=config.webrtc_hosts or None,
            snapshot_dir=default_upload_dir(config.db_url).parent / "rollcall",
            publish=self.zmq.publish_frame,
        )
        self.reports = ReportService(self.service, site)
        for feature in (
            SessionHandlers(self.service),
            EventHandlers(self.service),
            TaskHandlers(self.service, self.dispatch),
            MediationHandlers(self.service, self.mediation),
            RollcallHandlers(self.service, self.rollcall),
            ReportHandlers(self.service, self.reports),
        ):
            feature.register(handlers)
        self.scheduled_patrol: HubPatrol | None = None
        if config.patrol_every_s > 0 and site is not None:
            self.scheduled_patrol = HubPatrol(
                self.patrol,
                site_targets(site),
                interval_s=config.patrol_every_s,
                clock=clock,
                snapshot_dir=default_upload_dir(config.db_url).parent / "patrol",
            )
        self._runner: web.AppRunner | None = None
        self._timer_task: asyncio.Task[None] | None = None
        self.http_url = ""

    async def start(self) -> None:
        if self._runner is not None:
            return
        self.service._on_publish = self.zmq.publish
        await self.service.start()
        await self.dispatch.start()
        await self.patrol.start()
        await self.zmq.start()
        if self.config.webrtc_hosts:
            restrict_host_addresses(self.config.webrtc_hosts)
        app = make_app(self.service)
        add_phone_routes(app, self.dispatch)
        add_mediation_routes(app, self.mediation)
        add_patrol_routes(app, self.patrol)
        add_rollcall_routes(app, self.rollcall)
        add_report_routes(app, self.reports)
        await self.rollcall.start()
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        # a large backlog: after a hub restart every phone reconnects at once
        site = web.TCPSite(runner, self.config.http_host, self.config.http_port, backlog=2048)
        await site.start()
        self._runner = runner
        port = self.config.http_port
        for addr in runner.addresses:
            if isinstance(addr, tuple) and len(addr) >= 2:
                port = int(addr[1])
                break
        self.http_url = f"http://{self.config.http_host}:{port}"
        self._timer_task = asyncio.create_task(self._timers(), name="hub-timers")
        if self.scheduled_patrol is not None:
            await self.scheduled_patrol.start()

    async def stop(self) -> None:
        if self._runner is None:
            return
        runner, self._runner = self._runner, None
        if self.scheduled_patrol is not None:
            await self.scheduled_patrol.stop()
        if self._timer_task is not None:
            self._timer_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer_task
            self._timer_task = None
        await self.rollcall.stop()
        await self.mediation.stop()
        await runner.cleanup()
        await self.zmq.stop()
        await self.dispatch.stop()
        await self.service.stop()

    async def _timers(self) -> None:
        while True:
            await asyncio.sleep(self.config.timer_tick_s)
            nxt = self.service.next_timer()
            if nxt is not None and nxt <= self.service.clock():
                try:
                    await self.service.run_timers()
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
            "req": self.zmq.req_endpoint,
            "pub": self.zmq.pub_endpoint,
            "db": redact_db(self.config.db_url),
            "pid": os.getpid(),
            "instance": self.service.instance,
        }


async def seed_demo(service: HubService) -> None:
    for name, role, password in auth.DEMO_OPERATORS:
        if await asyncio.to_thread(service.store.operator, name) is None:
            await service.add_operator(name, role, password)
    await service.add_api_key(DEMO_API_KEY, "demo", list(EventSource))


def default_site_path() -> Path:
    return Path(__file__).resolve().parents[2] / "resources" / "sites" / "demo.toml"


async def demo_phone_links(hub: Hub) -> list[str]:
    """Issue a personal phone link and PIN for each grid leader and deputy of the site."""
    lines: list[str] = []
    site = hub.site
    if site is None:
        return lines
    for p in site.people:
        if p.role in ("grid_leader", "deputy"):
            token, pin, _ = await hub.dispatch.issue_link(p.id, timedelta(days=30))
            lines.append(f"  {p.name}（{p.id}）: {hub.http_url}/m/{token}  PIN {pin}")
    return lines


# -- CLI --------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hall-hub", description="Command Hall hub (综治中心事件中枢)")
    p.add_argument("--db", default=None, help="database URL (default sqlite file ./var/hall.db)")
    p.add_argument("--site", type=Path, default=None, help="site TOML file")
    p.add_argument("--calendar", type=Path, default=None, help="working-day calendar TOML")
    p.add_argument(
        "--http",
        type=parse_hostport,
        default=parse_hostport(DEFAULT_HTTP),
        help=f"HTTP intake HOST:PORT (default {DEFAULT_HTTP}; port 0 = random)",
    )
    p.add_argument("--zmq-req", default=DEFAULT_ZMQ_REQ, help="ROUTER endpoint (:0 = random)")
    p.add_argument("--zmq-pub", default=DEFAULT_ZMQ_PUB, help="PUB endpoint (:0 = random)")
    p.add_argument("--api-key-file", type=Path, default=None, help="TOML file of API keys")
    p.add_argument(
        "--demo", action="store_true", help="seed the demo operators and API key (printed)"
    )
    p.add_argument("--yellow-share", type=float, default=0.25)
    p.add_argument(
        "--uploads",
        type=Path,
        default=None,
        help="folder for feedback photos (default beside the db)",
    )
    p.add_argument(
        "--ice-servers",
        default="",
        help="STUN/TURN for WebRTC, comma separated: stun:host:3478,turn:user:pass@host:3478",
    )
    p.add_argument(
        "--webrtc-host",
        action="append",
        default=[],
        help="gather WebRTC host candidates only on this address (repeat; tests: 127.0.0.1)",
    )
    p.add_argument("--recordings", type=Path, default=None, help="folder for mediation recordings")
    p.add_argument(
        "--add-operator",
        metavar="NAME",
        default=None,
        help="add or update an operator and exit (password on stdin or $HALL_PASSWORD)",
    )
    p.add_argument("--role", choices=[r.value for r in auth.OPERATOR_ROLES], default=None)
    p.add_argument(
        "--patrol-every",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="patrol the site's cameras every SECONDS inside the hub (0 = off; needs a site)",
    )
    p.add_argument("--log-level", default="WARNING")
    p.add_argument(
        "--exit-with-parent",
        action="store_true",
        help="stop when the parent process exits (for hubs started by other programs)",
    )
    return p


async def _add_operator(db_url: str, name: str, role: Role, password: str) -> None:
    svc = HubService(Store(db_url))
    await svc.start()
    try:
        await svc.add_operator(name, role, password)
    finally:
        await svc.stop()


async def _serve(hub: Hub, args: argparse.Namespace) -> None:
    await hub.start()
    try:
        if args.demo:
            await seed_demo(hub.service)
            names = ", ".join(f"{n}/{p} ({r.value})" for n, r, p in auth.DEMO_OPERATORS)
            print(f"demo operators: {names}; API key: {DEMO_API_KEY}", file=sys.stderr)
            links = await demo_phone_links(hub)
            if links:
                print("网格员手机页 (grid leader phone links):", file=sys.stderr)
                print("\n".join(links), file=sys.stderr, flush=True)
            stations = await hub.rollcall.demo_links(hub.http_url)
            if stations:
                print("值班点视频点名页 (duty station links):", file=sys.stderr)
                print("\n".join(stations), file=sys.stderr, flush=True)
        if args.api_key_file is not None:
            for k in load_api_keys(args.api_key_file):
                await hub.service.add_api_key(k.key, k.name, k.sources)
        # Everything made so far (modules, pydantic and SQLAlchemy schemas) lives as
        # long as the process: move it out of the collector's way. Full collections
        # walked it all and paused the loop for 30-65 ms under load (the p99 of
        # publish latency); the open events are kept as strings for the same reason.
        gc.collect()
        gc.freeze()
        print("READY " + json.dumps(hub.ready_info(), ensure_ascii=False), flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        watch = None
        if args.exit_with_parent:
            watch = asyncio.create_task(_watch_parent(os.getppid(), stop), name="parent-watch")
        await stop.wait()
        if watch is not None:
            watch.cancel()
    finally:
        await hub.stop()


async def _watch_parent(parent: int, stop: asyncio.Event, every_s: float = 0.5) -> None:
    """Stop when the process that started us is gone (we were re-parented): a hub
    started by a test, a benchmark or `hall-console --demo` must not outlive it."""
    while os.getppid() == parent:
        await asyncio.sleep(every_s)
    log.warning("parent process %d is gone: stopping", parent)
    stop.set()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    db_url = args.db or default_db_url()
    if args.add_operator is not None:
        if args.role is None:
            print("hall-hub: --add-operator needs --role", file=sys.stderr)
            return 2
        password = os.environ.get("HALL_PASSWORD") or sys.stdin.readline().rstrip("\n")
        if len(password) < 6:
            print("hall-hub: password must have at least 6 characters", file=sys.stderr)
            return 2
        try:
            asyncio.run(_add_operator(db_url, args.add_operator, Role(args.role), password))
        except StoreError as exc:
            print(f"hall-hub: {exc}", file=sys.stderr)
            return 1
        print(f"operator {args.add_operator} ({args.role}) saved")
        return 0
    site = None
    site_path = args.site
    if site_path is None and args.demo:
        site_path = default_site_path()
    if site_path is not None:
        try:
            site = load_site(site_path)
        except SiteConfigError as exc:
            print(f"hall-hub: {exc}", file=sys.stderr)
            return 2
    try:
        calendar = load_calendar(args.calendar or default_calendar_path())
    except SystemExit as exc:
        print(f"hall-hub: {exc}", file=sys.stderr)
        return 2
    if args.patrol_every < 0:
        print(
            f"hall-hub: --patrol-every must be 0 or more, got {args.patrol_every}", file=sys.stderr
        )
        return 2
    if args.patrol_every > 0 and site is None:
        print("hall-hub: --patrol-every needs a site (--site FILE or --demo)", file=sys.stderr)
        return 2
    host, port = args.http
    try:
        ice_servers = tuple(parse_ice_servers(args.ice_servers))
    except IceConfigError as exc:
        print(f"hall-hub: --ice-servers: {exc}", file=sys.stderr)
        return 2
    config = HubConfig(
        db_url=db_url,
        http_host=host,
        http_port=port,
        zmq_req=args.zmq_req,
        zmq_pub=args.zmq_pub,
        settings=HubSettings(yellow_share=args.yellow_share),
        upload_dir=args.uploads,
        ice_servers=ice_servers,
        webrtc_hosts=tuple(args.webrtc_host),
        record_dir=args.recordings,
        patrol_every_s=args.patrol_every,
    )
    hub = Hub(config, calendar=calendar, site=site)
    try:
        asyncio.run(_serve(hub, args))
    except StoreError as exc:
        print(f"hall-hub: {exc}", file=sys.stderr)
        return 1
    except SystemExit as exc:
        print(f"hall-hub: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
