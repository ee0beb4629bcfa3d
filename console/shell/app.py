"""`hall-console`: the desktop console of the command hall (video wall first)."""

from __future__ import annotations

import argparse
import os
import signal
import ssl
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from console.kit import i18n
from console.wall.decode_options import add_decode_option, decode_processes
from dispatch.domain.site import Site, SiteConfigError, demo_site_path
from dispatch.hub.tls import client_context

if TYPE_CHECKING:  # Qt and the panels load after the command line is read
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QWidget

    from console.events.panel import EventQueuePanel
    from console.events.wiring import EventQueue
    from console.rollcall.model import RollcallModel
    from console.shell.demo import DemoServices
    from console.shell.main_window import MainWindow
    from console.wall.model import WallModel
    from dispatch.client.keys import ConsoleKeys


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hall-console", description="综治中心 指挥调度大厅 console")
    p.add_argument(
        "--demo",
        action="store_true",
        help="start simulated cameras, a hub on SQLite and incoming reports (demo site)",
    )
    p.add_argument("--site", type=Path, default=None, help="site file (TOML); default: the demo")
    p.add_argument("--lang", choices=i18n.LANGUAGES, default=None, help="UI language")
    p.add_argument(
        "--hub", default=None, help="the hub's request endpoint, e.g. tcp://10.1.1.5:5570"
    )
    p.add_argument(
        "--hub-pub", default=None, help="the hub's publish endpoint (default: request port + 1)"
    )
    p.add_argument(
        "--hub-http",
        default=None,
        help="the hub's HTTPS address (video mediation, roll-call video), e.g. https://10.1.1.5:8443",
    )
    p.add_argument(
        "--hub-ca",
        type=Path,
        default=None,
        help="the hub's CA certificate (PEM, its /ca.crt) to trust for --hub-http",
    )
    p.add_argument(
        "--keys",
        type=Path,
        default=None,
        help="this workstation's key file from `hall-hub enroll` "
        "(default ~/.config/hall/console.key)",
    )
    p.add_argument("--operator", default=None, help="log in as this operator without the dialog")
    p.add_argument(
        "--password-env",
        default="HALL_OPERATOR_PASSWORD",
        help="environment variable holding --operator's password",
    )
    p.add_argument(
        "--reports-per-min", type=float, default=6.0, help="demo: rate of generated reports"
    )
    p.add_argument(
        "--layout", default=None, help="a saved layout's name, or 1/4/9/16/25/36/1+5/1+7"
    )
    p.add_argument("--evidence-dir", type=Path, default=None, help="where snapshots and clips go")
    add_decode_option(p)
    p.add_argument(
        "--raise-panel",
        choices=["rollcall", "reports", "hotspots", "health"],
        default=None,
        help="bring this side panel's tab to the front (e.g. for a screenshot)",
    )
    p.add_argument("--screenshot", type=Path, default=None, help="save a screenshot and exit")
    p.add_argument(
        "--startup-report",
        action="store_true",
        help="print STARTUP {json} (seconds from process start to the shown window) and exit",
    )
    p.add_argument(
        "--screenshot-after", type=float, default=6.0, help="seconds before the screenshot"
    )
    p.add_argument(
        "--recordings",
        type=Path,
        default=None,
        help="a `hall-camsim --record` folder: the 回放 timeline shows its spans (the demo's)",
    )
    p.add_argument(
        "--playback-camera",
        default=None,
        help="open the 回放 window on this camera, 2 minutes back, after login (screenshots)",
    )
    return p


def load_site_or_exit(path: Path | None) -> Site:
    """The site, or a one-paragraph message naming the file and field and exit code 2.

    Its parsed data is cached in the config folder (`console.shell.sitecache`): a county's
    site file is parsed once, not at every start."""
    from console.shell.sitecache import load_site_cached
    from console.wall.paths import config_dir

    try:
        return load_site_cached(path or demo_site_path(), config_dir() / "cache")
    except SiteConfigError as exc:
        print(f"hall-console: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def pub_endpoint_for(req: str) -> str:
    """tcp://host:5570 -> tcp://host:5571 (the hub's default pairing)."""
    head, sep, port = req.rpartition(":")
    if not sep or not port.isdigit():
        raise SystemExit(f"hall-console: --hub {req!r}: give --hub-pub as well")
    return f"{head}:{int(port) + 1}"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line, with the UI language switched at once (before any widget)."""
    args = build_parser().parse_args(argv)
    if args.lang is not None:
        i18n.set_language(args.lang)
    return args


DEMO_START_S = 60.0  # each demo part's start (the hub takes ~20 s on a loaded machine)


def start_demo(args: argparse.Namespace, site: Site) -> DemoServices | None:
    """`--demo`: the simulator, a hub and the report generator, started; else None."""
    from console.shell.demo import DemoServices
    from console.wall.paths import config_dir

    if not args.demo:
        return None
    from console.shell.login import default_workstation
    from dispatch.client.keys import workstation_name

    demo = DemoServices(
        site,
        data_dir=config_dir() / "demo",
        site_path=args.site,
        reports_per_min=args.reports_per_min,
        # the session's workstation is the enrolled name: this machine's, as a real one
        workstation=workstation_name(default_workstation(), fallback="demo-console"),
    )
    args.recordings = args.recordings or demo.record_dir  # the 回放 timeline's spans
    try:
        demo.start(timeout_s=DEMO_START_S)
    except Exception as exc:  # the simulator could not start: say why, no traceback
        print(f"hall-console: demo services failed to start: {exc}", file=sys.stderr)
        demo.stop()
        raise SystemExit(1) from None
    return demo


def build_window(args: argparse.Namespace, site: Site) -> tuple[MainWindow, WallModel]:
    """The main window around the video wall, started on the saved or asked layout."""
    from PySide6.QtWidgets import QDockWidget

    from console.cameras.platform_install import PlatformStreams
    from console.cameras.relays import site_via
    from console.cameras.tree import build_tree
    from console.map.install import add_map
    from console.shell.main_window import MainWindow
    from console.wall.controller import WallController
    from console.wall.decoders import Decoders
    from console.wall.layouts import LayoutStore
    from console.wall.model import WallModel
    from console.wall.paths import config_dir, evidence_dir
    from console.wall.sources import camera_names, rtsp_factory

    model = WallModel()
    decoders = Decoders(decode_processes(args, "hall-console"))  # 0: in this process
    controller = WallController(
        model,
        PlatformStreams(rtsp_factory(site, decoders), decoders),  # a platform's cameras, too
        evidence_dir=evidence_dir(args.evidence_dir),
        names=camera_names(site),
        decoders=decoders,  # stopped with the wall
    )
    window = MainWindow(controller, build_tree(site), LayoutStore(config_dir()))
    window.cameras.set_via(site_via(site))  # each camera's relay, for its tooltip
    tiles = site.map.tiles_path(args.site if args.site is not None else demo_site_path())
    cameras_dock = window.findChild(QDockWidget, "cameraDock")
    add_map(window, site, window, controller, cameras_dock, tiles=tiles)
    fill_screen(window)
    window.start(args.layout, default_cameras=[c.id for c in site.cameras])
    window.showMaximized()
    return window, model


def fill_screen(window: QWidget) -> None:
    """A command-hall console opens maximised (the demo and a normal start alike): the
    screen's free area as its geometry first, so that it fills the screen even where no
    window manager maximises it (a kiosk X server, Xvfb), then `showMaximized`."""
    from PySide6.QtGui import QGuiApplication

    screen = window.screen() or QGuiApplication.primaryScreen()
    if screen is not None:
        window.setGeometry(screen.availableGeometry())


def hub_addresses(
    args: argparse.Namespace, demo: DemoServices | None
) -> tuple[tuple[str, str] | None, str | None, ssl.SSLContext | None]:
    """The hub's (request, publish) endpoints, its HTTPS address and the TLS context
    that trusts its CA: the demo's or the command line's; (None, None, None) without a
    hub. Without `--hub-ca` the system's CAs verify the hub (an operator certificate)."""
    if demo is not None and demo.hub is not None:
        hub = demo.hub
        return (hub.req_endpoint, hub.pub_endpoint), hub.http_url, hub.ssl_context()
    ctx = client_context([args.hub_ca]) if args.hub_ca is not None else None
    if args.hub is not None:
        return (args.hub, args.hub_pub or pub_endpoint_for(args.hub)), args.hub_http, ctx
    return None, args.hub_http, ctx


def workstation_keys(args: argparse.Namespace, demo: DemoServices | None) -> ConsoleKeys | None:
    """The demo hub's enrolled console, else the key file of `--keys` (exit 2 if it cannot
    be read) or of the default place (None if absent: the hub then refuses this
    workstation and the console says so)."""
    from dispatch.client.keys import KeyFileError, default_keys_path, read_console_keys

    if demo is not None and demo.console_keys is not None:
        return demo.console_keys
    path = args.keys or default_keys_path()
    try:
        return read_console_keys(path)
    except KeyFileError as exc:
        if args.keys is not None:
            print(f"hall-console: {exc}", file=sys.stderr)
            raise SystemExit(2) from None
        print(f"hall-console: no key file ({exc}); ask for `hall-hub enroll`", file=sys.stderr)
        return None


class Stoppable(Protocol):
    def stop(self) -> None: ...


@dataclass
class HubPanels:
    """The panels that talk to the hub, in the order they are stopped."""

    parts: list[Stoppable] = field(default_factory=list)

    def stop(self) -> None:
        for part in self.parts:
            part.stop()


def install_hub_panels(
    args: argparse.Namespace,
    site: Site,
    window: MainWindow,
    endpoints: tuple[str, str],
    hub_http: str | None,
    demo: bool,
    keys: ConsoleKeys | None,
    hub_ssl: ssl.SSLContext | None = None,
) -> HubPanels:
    """The event queue and the side panels that share its hub client, then the login."""
    from PySide6.QtWidgets import QWidget

    from console.events.wiring import EventQueue
    from console.rollcall.install import install_rollcall
    from console.shell.linkage import install_linkage

    queue = EventQueue.for_hub(
        *endpoints, keys=keys, township_names={t.id: t.name for t in site.townships}
    )
    queue.start()
    events_panel = queue.panel()
    window.add_side_panel(events_panel, i18n.tr("panel.events"))
    panels = HubPanels()
    if hub_http:  # remote video mediation (issue 5)
        from console.mediation.coordinator import install_mediation

        panels.parts.append(
            install_mediation(
                events_panel,
                queue.controller,
                queue.net,
                queue.bridge,
                hub_http,
                show_message=window.show_message,
                http_ssl=hub_ssl,
            )
        )
    health = install_health_panel(site, window, queue, hub_http)
    if health is not None:
        panels.parts.append(health)
        view = getattr(health, "view", None)
        if args.raise_panel == "health" and isinstance(view, QWidget):
            window.raise_side_panel(view)
    panels.parts.append(online_feeds(health, window, queue))
    rollcall = install_rollcall(
        queue.controller, queue.net, queue.bridge, window.add_side_panel, hub_http, hub_ssl
    )
    if args.raise_panel == "rollcall":
        window.raise_side_panel(rollcall.panel)
    from console.meetings.install import install_meetings

    panels.parts.append(install_meetings(queue.controller, queue.net, queue.bridge, window))
    reports = install_report_panels(args, window, queue, events_panel, hub_http, hub_ssl)
    panels.parts.append(reports)
    panels.parts.append(
        install_linkage(
            queue.controller,
            window.controller,
            post=queue.bridge.post,
            show_message=window.show_message,
            add_status_widget=window.statusBar().addPermanentWidget,
            add_menu_extender=window.wall.menu_extenders.append,
        )
    )
    panels.parts.append(
        link_map_panel(window, queue, events_panel, health, reports, rollcall.model)
    )
    panels.parts.append(leader_positions(window, queue))
    panels.parts += camera_parts(args, site, window, queue)
    panels.parts.append(rollcall)
    panels.parts.append(queue)
    show_refusal(queue, window)
    log_in(args, window, queue, demo)
    return panels


def camera_parts(
    args: argparse.Namespace, site: Site, window: MainWindow, queue: EventQueue
) -> list[Stoppable]:
    """PTZ on the wall, a video platform's cameras (tree and tiles) and the 回放 window."""
    from console.cameras.platform_install import install_platform
    from console.playback.install import install_playback
    from console.wall.ptz_install import install_ptz_for

    parts: list[Stoppable] = [install_ptz_for(window.wall, site, queue)]
    platform = install_platform(site, window.cameras, window.controller, queue)
    parts += [platform] if platform is not None else []
    playback = install_playback(queue.controller, site, args.evidence_dir, window, args.recordings)
    parts.append(playback)
    if args.playback_camera:
        playback.open_after_login(args.playback_camera, queue.model)
    return parts


def link_map_panel(
    window: MainWindow,
    queue: EventQueue,
    events_panel: EventQueuePanel,
    health: Stoppable | None,
    reports: Stoppable,
    rollcall: RollcallModel,
) -> Stoppable:
    """The map follows the queue (events, selection, red alarms), the patrol and the hot
    spots."""
    from console.health.controller import HealthInstall
    from console.map.install import link_map
    from console.map.panel import MapPanel
    from console.reports.controller import ReportsInstall

    panel = window.findChild(MapPanel)
    assert panel is not None, "build_window adds the map panel"
    return link_map(
        panel,
        queue.model,
        queue.controller,
        raise_queue=lambda: window.raise_side_panel(events_panel),
        health=health.model if isinstance(health, HealthInstall) else None,
        dispatch=events_panel.dispatch_with_choice,
        reports=reports.model if isinstance(reports, ReportsInstall) else None,
        rollcall=rollcall,
    )


def leader_positions(window: MainWindow, queue: EventQueue) -> Stoppable:
    """The map's grid-leader layer follows the positions shared from the phone pages."""
    from console.map.feed import install_leader_feed
    from console.map.panel import MapPanel

    panel = window.findChild(MapPanel)
    assert panel is not None, "build_window adds the map panel"
    return install_leader_feed(
        panel.model, queue.model, lambda: queue.controller.client, queue.net, queue.bridge
    )


def install_health_panel(
    site: Site, window: MainWindow, queue: EventQueue, hub_http: str | None
) -> Stoppable | None:
    """The camera health panel (issue 7), read from the hub over zmq when there is one."""
    if not hub_http:
        return None
    from console.health.controller import install_health

    return install_health(window.add_side_panel, site, queue, show_message=window.show_message)


def online_feeds(health: Stoppable | None, window: MainWindow, queue: EventQueue) -> Stoppable:
    """The tree's online counts follow the patrol (the health panel's samples) and the
    relays' states, not only the wall's tiles (`console.cameras.feeds`)."""
    from console.cameras.feeds import RelayFeed, feed_patrol
    from console.health.controller import HealthInstall
    from console.health.relay_status import install_relay_status

    model = health.model if isinstance(health, HealthInstall) else None
    if model is not None:
        feed_patrol(model, window.online_sources)
        install_relay_status(window.statusBar().addPermanentWidget, model)
    feed = RelayFeed(
        window.online_sources,
        queue.model,
        lambda: queue.controller.client,
        queue.net,
        queue.bridge,
        health=model,
    )
    feed.start()
    return feed


def install_report_panels(
    args: argparse.Namespace,
    window: MainWindow,
    queue: EventQueue,
    events_panel: QWidget,
    hub_http: str | None,
    hub_ssl: ssl.SSLContext | None = None,
) -> Stoppable:
    """The monthly report and hot-spot panels (issue 7), raised if asked."""
    from console.reports.controller import install_reports
    from console.wall.paths import config_dir

    reports = install_reports(
        window.add_side_panel,
        queue,
        hub_http,
        save_dir=config_dir() / "reports",
        raise_panel=lambda: window.raise_side_panel(events_panel),
        show_message=window.show_message,
        http_ssl=hub_ssl,
    )
    if args.raise_panel == "hotspots":
        window.raise_side_panel(reports.panel)
    elif args.raise_panel == "reports":
        window.raise_side_panel(reports.view)

        def load_on_login(session: object) -> None:
            if session is not None:
                reports.controller.load_month(reports.view.month())

        queue.model.session_changed.connect(load_on_login)
    return reports


def show_refusal(queue: EventQueue, window: MainWindow) -> None:
    """The hub refusing this workstation's key shows in the status bar until it changes."""
    from console.events.model import Connection, ConnKind

    def changed(conn: Connection) -> None:
        if conn.kind is ConnKind.REFUSED:
            window.show_message(i18n.tr("events.banner.refused"), 0)

    queue.model.connection_changed.connect(changed)


def log_in(args: argparse.Namespace, window: MainWindow, queue: EventQueue, demo: bool) -> None:
    """Log in as `--operator` (or the demo's duty officer), else open the login dialog."""
    from console.shell.demo import DEMO_OPERATOR
    from console.shell.login import LoginDialog, default_workstation

    operator = args.operator or (DEMO_OPERATOR[0] if demo else None)
    password = os.environ.get(args.password_env) or (DEMO_OPERATOR[1] if demo else "")
    if operator is not None:
        queue.controller.login(operator, password, default_workstation(), lambda _o: None)
    else:
        LoginDialog(queue.controller.login, parent=window).open()


def quit_on_signals(app: QApplication) -> QTimer:
    """SIGTERM and SIGINT quit the app; the returned timer (keep it) lets Python run its
    signal handlers while Qt waits."""
    from PySide6.QtCore import QTimer

    def quit_now(*_: object) -> None:
        app.quit()

    signal.signal(signal.SIGTERM, quit_now)
    signal.signal(signal.SIGINT, quit_now)
    wake = QTimer()
    wake.start(250)
    wake.timeout.connect(lambda: None)
    return wake


def qt_app() -> QApplication:
    """The QApplication (created once), themed."""
    from PySide6.QtWidgets import QApplication

    from console.shell import theme

    app = QApplication.instance() or QApplication([sys.argv[0]])
    assert isinstance(app, QApplication)
    theme.apply(app)
    return app


def main(argv: Sequence[str] | None = None) -> int:
    from console.shell.startup import StartupClock, trimmer_or_exit, when_shown

    clock = StartupClock()
    clock.mark("main")
    args = parse_args(argv)
    trimmer = trimmer_or_exit()  # and two glibc arenas; before Qt starts any thread
    site = load_site_or_exit(args.site)
    clock.mark("site")
    from PySide6.QtCore import QTimer

    from console.kit.gcguard import MainThreadCollector

    app = qt_app()
    clock.mark("qt")
    collector = MainThreadCollector(app)  # cyclic GC only on the Qt thread
    collector.start()
    trimmer.start()  # freed heap back to the system every minute (days of churn)
    try:
        demo = start_demo(args, site)
    except SystemExit as exc:
        collector.stop()
        trimmer.stop()
        return int(exc.code or 1)
    clock.mark("demo")
    if demo is not None:
        site = demo.site  # with the demo's relay in front of its cameras
    window, model = build_window(args, site)
    clock.mark("window")
    from console.shell.stats_probe import install_stats_probe

    probe = install_stats_probe(window.wall)  # HALL_STATS_FILE: a soak's probe
    endpoints, hub_http, hub_ssl = hub_addresses(args, demo)
    keys = workstation_keys(args, demo) if endpoints is not None else None
    panels = HubPanels()

    def shown() -> None:
        """The window is on the screen: then the panels that talk to the hub (their
        imports and building took ~1 s of CPU before the window could show)."""
        clock.mark("shown")
        if args.startup_report:
            print(clock.line(cameras=len(site.cameras)), flush=True)
            app.quit()
        elif endpoints is not None:
            panels.parts.extend(
                install_hub_panels(
                    args, site, window, endpoints, hub_http, demo is not None, keys, hub_ssl
                ).parts
            )

    watch = when_shown(window, shown)
    wake = quit_on_signals(app)
    if args.screenshot is not None:
        from console.shell.shoot import shoot

        target: Path = args.screenshot
        QTimer.singleShot(
            round(args.screenshot_after * 1000), lambda: shoot(app, window, model, target)
        )
    try:
        rc = app.exec()
    finally:
        del watch
        wake.stop()
        if probe is not None:
            probe.stop()
        collector.stop()
        trimmer.stop()
        window.stop()
        panels.stop()
        if demo is not None:
            demo.stop()
    return int(rc)


if __name__ == "__main__":
    sys.exit(main())
