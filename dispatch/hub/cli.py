"""`hall-hub`: the centre's backend (store, workflow timers, zmq for consoles, HTTP intake).

    hall-hub [--config FILE] [--db URL] [--site FILE] [--calendar FILE] [--http HOST:PORT]
             [--zmq-req ENDPOINT] [--zmq-pub ENDPOINT] [--api-key-file FILE] [--demo] ...
    hall-hub [--config FILE] [flags] --print-config    (the effective config, secrets masked)
    hall-hub --config FILE --print-turnserver-conf     (turnserver.conf for the system coturn)
    hall-hub --db URL --add-operator NAME --role ROLE     (password on stdin or $HALL_PASSWORD)
    hall-hub enroll NAME | revoke NAME | consoles          (console workstations: consoles_cli)
    hall-hub backup --to FILE | restore FILE               (database and files: backup_cli)

The configuration is one `HubConfig` (`dispatch.hub.config`): the TOML file, then the
legacy environment variables, then the flags. When it serves it prints exactly one line
`READY {json}` with its endpoints.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from dispatch.db.store import Store, StoreError
from dispatch.domain.model import Role
from dispatch.domain.site import Site, SiteConfigError, load_site
from dispatch.events.service import HubService
from dispatch.hub import auth, backup_cli, consoles_cli, heap
from dispatch.hub.app import Hub, coturn_settings, demo_phone_links, seed_demo
from dispatch.hub.config import (
    ConfigError,
    HubConfig,
    build_config,
    env_overrides,
    read_toml,
    render_toml,
)
from dispatch.hub.demo import DEMO_API_KEY
from dispatch.hub.enrol import EnrolError
from dispatch.hub.files import (
    default_calendar_path,
    default_site_path,
    load_api_keys,
    load_calendar,
)
from dispatch.hub.keys import HubKeyError
from dispatch.hub.memtrace import MemTrace
from dispatch.hub.tls import TlsError
from streams.heap import tune_allocator
from streams.private import restrict_umask
from streams.webrtc.coturn import turnserver_conf

log = logging.getLogger("hall-hub")

# flag dest → the config key it sets (flags left out keep the file's or default value)
FLAG_KEYS: dict[str, tuple[str, ...]] = {
    "db": ("db_url",),
    "data_dir": ("hub", "data_dir"),
    "site": ("site",),
    "calendar": ("calendar",),
    "api_key_file": ("api_key_file",),
    "demo": ("demo",),
    "yellow_share": ("yellow_share",),
    "uploads": ("uploads",),
    "recordings": ("recordings",),
    "log_level": ("log_level",),
    "zmq_req": ("zmq", "req"),
    "zmq_pub": ("zmq", "pub"),
    "zmq_keys": ("zmq", "keys_dir"),
    "webrtc_host": ("webrtc", "hosts"),
    "patrol_every": ("patrol", "every_s"),
    "turn_run": ("turn", "run"),
    "turn_port": ("turn", "port"),
    "turn_relay_only": ("turn", "relay_only"),
    "public_url": ("http", "public_url"),
    "plain_port": ("http", "plain_port"),
    "tls": ("tls", "mode"),
    "tls_dir": ("tls", "dir"),
    "tls_cert": ("tls", "cert"),
    "tls_key": ("tls", "key"),
    "tls_name": ("tls", "names"),
}


def parse_hostport(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host, int(port)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="hall-hub",
        description="Command Hall hub (综治中心事件中枢)",
        argument_default=argparse.SUPPRESS,
    )
    p.add_argument("--config", type=Path, help="hub configuration TOML file")
    p.add_argument(
        "--print-config",
        action="store_true",
        help="print the effective configuration as TOML (secrets masked) and exit",
    )
    p.add_argument(
        "--print-turnserver-conf",
        action="store_true",
        help="print the turnserver.conf of [turn] for a coturn service (holds the secret) and exit",
    )
    p.add_argument("--db", help="database URL (default the SQLite file hall.db in the data folder)")
    p.add_argument(
        "--data-dir",
        type=Path,
        help="the hub's data folder, made 0700 (default the SQLite database's folder, else "
        "$XDG_STATE_HOME/command-hall or ~/.local/state/command-hall)",
    )
    p.add_argument("--site", type=Path, help="site TOML file")
    p.add_argument("--calendar", type=Path, help="working-day calendar TOML")
    p.add_argument("--http", type=parse_hostport, help="HTTPS HOST:PORT (port 0 = random)")
    _add_https_flags(p)
    p.add_argument("--zmq-req", help="ROUTER endpoint (:0 = random)")
    p.add_argument("--zmq-pub", help="PUB endpoint (:0 = random)")
    p.add_argument("--zmq-keys", type=Path, help="the hub's key pair and enrolled consoles")
    p.add_argument("--api-key-file", type=Path, help="TOML file of API keys")
    p.add_argument("--demo", action="store_true", help="seed the demo operators and API key")
    p.add_argument("--yellow-share", type=float)
    p.add_argument("--uploads", type=Path, help="folder for feedback photos")
    p.add_argument(
        "--ice-servers",
        help="STUN/TURN for WebRTC, comma separated: stun:host:3478,turn:user:pass@host:3478",
    )
    p.add_argument(
        "--webrtc-host",
        action="append",
        help="gather WebRTC host candidates only on this address (repeat; tests: 127.0.0.1)",
    )
    p.add_argument("--recordings", type=Path, help="folder for mediation recordings")
    p.add_argument(
        "--turn-run",
        action="store_true",
        help="start coturn with the hub on [turn] listen_ip (the demo: loopback)",
    )
    p.add_argument("--turn-port", type=int, help="coturn's UDP/TCP port with --turn-run")
    p.add_argument(
        "--turn-relay-only", action="store_true", help="pages and peers use TURN relays only"
    )
    p.add_argument(
        "--add-operator",
        metavar="NAME",
        help="add or update an operator and exit (password on stdin or $HALL_PASSWORD)",
    )
    p.add_argument("--role", choices=[r.value for r in auth.OPERATOR_ROLES])
    p.add_argument(
        "--patrol-every",
        type=float,
        metavar="SECONDS",
        help="patrol the site's cameras every SECONDS inside the hub (0 = off; needs a site)",
    )
    p.add_argument("--log-level")
    p.add_argument(
        "--exit-with-parent",
        action="store_true",
        help="stop when the parent process exits (for hubs started by other programs)",
    )
    return p


def _add_https_flags(p: argparse.ArgumentParser) -> None:
    """The HTTPS flags (`[http] public_url`, `plain_port` and `[tls]`)."""
    p.add_argument(
        "--public-url", help="the address links carry, e.g. https://hub.example.gov.cn:8443"
    )
    p.add_argument(
        "--plain-port",
        type=int,
        help="plain-HTTP port serving only the CA certificate (0 = random, -1 = off)",
    )
    p.add_argument(
        "--tls",
        choices=["auto", "files", "off"],
        help="auto: own CA (default); files: --tls-cert/--tls-key; off: behind a TLS proxy",
    )
    p.add_argument("--tls-dir", type=Path, help="folder of the hub's own CA")
    p.add_argument("--tls-cert", type=Path, help="operator's PEM certificate chain")
    p.add_argument("--tls-key", type=Path, help="operator's PEM private key")
    p.add_argument(
        "--tls-name", action="append", help="extra name or address for the certificate (repeat)"
    )


def flag_overrides(args: argparse.Namespace) -> dict[tuple[str, ...], tuple[object, str]]:
    """The config keys the given flags set: key → (value, "--flag")."""
    given: dict[str, Any] = vars(args)
    out: dict[tuple[str, ...], tuple[object, str]] = {}
    for dest, key in FLAG_KEYS.items():
        if dest in given:
            value = given[dest]
            out[key] = (str(value) if isinstance(value, Path) else value, _flag(dest))
    if "http" in given:
        host, port = given["http"]
        out[("http", "host")] = (host, "--http")
        out[("http", "port")] = (port, "--http")
    if "ice_servers" in given:
        servers = [s.strip() for s in given["ice_servers"].split(",") if s.strip()]
        out[("webrtc", "ice_servers")] = (servers, "--ice-servers")
    return out


def _flag(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def load_config(args: argparse.Namespace, environ: Mapping[str, str] = os.environ) -> HubConfig:
    """The file of `--config` (if any), the environment, then the flags."""
    path: Path | None = getattr(args, "config", None)
    data = read_toml(path) if path is not None else {}
    overrides = env_overrides(environ)
    overrides.update(flag_overrides(args))
    return build_config(data, source=str(path or "<defaults>"), overrides=overrides)


def check_config(config: HubConfig) -> None:
    """What the model alone cannot say: the patrol needs a site; relay-only media needs a
    TURN server."""
    if config.patrol.every_s > 0 and config.site is None and not config.demo:
        raise ConfigError("--patrol-every (patrol.every_s) needs a site (--site FILE or --demo)")
    static_turn = any(
        u.startswith(("turn:", "turns:"))
        for s in config.webrtc.parsed_ice_servers()
        for u in s.urls
    )
    if config.turn.relay_only and not (config.turn.enabled() or static_turn):
        raise ConfigError(
            "turn.relay_only needs a TURN server (turn.urls, turn.run or a turn: ice server)"
        )


def _site_of(config: HubConfig) -> Site | None:
    path = config.site
    if path is None and config.demo:
        path = default_site_path()
    return load_site(path) if path is not None else None


async def _add_operator(db_url: str, name: str, role: Role, password: str) -> None:
    svc = HubService(Store(db_url))
    await svc.start()
    try:
        await svc.add_operator(name, role, password)
    finally:
        await svc.stop()


def _add_operator_main(config: HubConfig, args: argparse.Namespace) -> int:
    role = getattr(args, "role", None)
    if role is None:
        print("hall-hub: --add-operator needs --role", file=sys.stderr)
        return 2
    password = os.environ.get("HALL_PASSWORD") or sys.stdin.readline().rstrip("\n")
    if len(password) < 6:
        print("hall-hub: password must have at least 6 characters", file=sys.stderr)
        return 2
    restrict_umask()
    try:
        asyncio.run(_add_operator(config.db_url, args.add_operator, Role(role), password))
    except StoreError as exc:
        print(f"hall-hub: {exc}", file=sys.stderr)
        return 1
    print(f"operator {args.add_operator} ({role}) saved")
    return 0


async def _announce_demo(hub: Hub) -> None:
    await seed_demo(hub.service)
    names = ", ".join(f"{n}/{p} ({r.value})" for n, r, p in auth.DEMO_OPERATORS)
    print(f"demo operators: {names}; API key: {DEMO_API_KEY}", file=sys.stderr)
    links = await demo_phone_links(hub)
    if links:
        print("网格员手机页 (grid leader phone links):", file=sys.stderr)
        print("\n".join(links), file=sys.stderr, flush=True)
    stations = await hub.rollcall.demo_links(hub.public_url)
    if stations:
        print("值班点视频点名页 (duty station links):", file=sys.stderr)
        print("\n".join(stations), file=sys.stderr, flush=True)


async def _serve(hub: Hub, exit_with_parent: bool, trim_every_s: float) -> None:
    trace = MemTrace.from_env()  # HALL_TRACEMALLOC_FILE: a soak's diagnosis
    if trace is not None:
        trace.start()
    trimmer = heap.TrimThread(trim_every_s)  # free heap pages back every minute (`heap`)
    await hub.start()
    try:
        if hub.ca_page_url:
            fingerprint = hub.certs.material.ca_fingerprint if hub.certs.material else None
            print(
                f"页面地址 (pages): {hub.public_url}; 根证书安装页 (CA install page): "
                f"{hub.ca_page_url} SHA-256 {fingerprint}",
                file=sys.stderr,
                flush=True,
            )
        if hub.config.demo:
            await _announce_demo(hub)
        if hub.config.api_key_file is not None:
            for k in load_api_keys(hub.config.api_key_file):
                await hub.service.add_api_key(k.key, k.name, k.sources)
        # Everything made so far (modules, pydantic and SQLAlchemy schemas) lives as
        # long as the process: move it out of the collector's way. Full collections
        # walked it all and paused the loop for 30-65 ms under load (the p99 of
        # publish latency); the open events are kept as strings for the same reason.
        gc.collect()
        gc.freeze()
        trimmer.start()
        print("READY " + json.dumps(hub.ready_info(), ensure_ascii=False), flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        watch = None
        if exit_with_parent:
            watch = asyncio.create_task(_watch_parent(os.getppid(), stop), name="parent-watch")
        await stop.wait()
        if watch is not None:
            watch.cancel()
    finally:
        trimmer.stop()
        if trace is not None:
            trace.stop()
        await hub.stop()


async def _watch_parent(parent: int, stop: asyncio.Event, every_s: float = 0.5) -> None:
    """Stop when the process that started us is gone (we were re-parented): a hub
    started by a test, a benchmark or `hall-console --demo` must not outlive it."""
    while os.getppid() == parent:
        await asyncio.sleep(every_s)
    log.warning("parent process %d is gone: stopping", parent)
    stop.set()


def _print_turnserver_conf(config: HubConfig) -> int:
    """The system coturn's configuration from `[turn]`, with the shared secret."""
    turn = config.turn
    if turn.secret is None and turn.secret_file is None:
        print("hall-hub: [turn] needs secret or secret_file for a coturn service", file=sys.stderr)
        return 2
    try:
        secret = turn.load_secret()
    except ConfigError as exc:
        print(f"hall-hub: {exc}", file=sys.stderr)
        return 2
    print(turnserver_conf(coturn_settings(turn, secret), None), end="")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in consoles_cli.COMMANDS:
        return consoles_cli.main(argv)
    if argv and argv[0] in backup_cli.COMMANDS:
        return backup_cli.main(argv)
    tune_allocator(os.environ)  # before any thread: two glibc arenas, not 8 per core
    args = _parser().parse_args(argv)
    try:
        config = load_config(args)
    except ConfigError as exc:
        print(f"hall-hub: {exc}", file=sys.stderr)
        return 2
    if getattr(args, "print_config", False):
        print(render_toml(config), end="")
        return 0
    if getattr(args, "print_turnserver_conf", False):
        return _print_turnserver_conf(config)
    level = config.log_level.upper()
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    if getattr(args, "add_operator", None) is not None:
        return _add_operator_main(config, args)
    try:
        trim_s = heap.trim_every_s(os.environ)
    except ValueError as exc:  # HALL_TRIM_EVERY_S, not a number of seconds
        print(f"hall-hub: {exc}", file=sys.stderr)
        return 2
    try:
        check_config(config)
        site = _site_of(config)
        calendar = load_calendar(config.calendar or default_calendar_path())
    except (ConfigError, SiteConfigError) as exc:
        print(f"hall-hub: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:
        print(f"hall-hub: {exc}", file=sys.stderr)
        return 2
    restrict_umask()  # everything the hub writes (db, uploads, recordings …) is 0600/0700
    hub = Hub(config, calendar=calendar, site=site)
    try:
        asyncio.run(_serve(hub, getattr(args, "exit_with_parent", False), trim_s))
    except TlsError as exc:
        print(f"hall-hub: {exc}", file=sys.stderr)
        return 2
    except (StoreError, HubKeyError, EnrolError) as exc:
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
