"""`hall-relay`: one relay of the site (`Site.relays`) as a process.

It reads the site (the whole file, validated as the hub does), serves every stream
(main, sub, third) of the cameras that go through its relay (`dispatch.domain.relay`)
with `streams.relay.server.RelayServer` on the port of the relay's URL, and posts its
upstreams' states to the hub (`POST /api/v1/relay_states`) whenever one changes and
every `report_every_s`. The cameras' credentials stay on this machine (the site file);
clients give the relay the relay's own credentials if the site names them.

    hall-relay --config /etc/command-hall/relay.toml      (deploy/relay.toml)
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import ssl
import sys
import threading
import tomllib
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, ValidationError

from dispatch.domain.relay import STREAMS, camera_stream, camera_url, relay_cameras
from dispatch.domain.site import Site, SiteConfigError, load_site
from dispatch.domain.strict import FROZEN
from dispatch.hub.clock import utc_now
from streams.relay.server import RelayError, RelayServer
from streams.relay.spec import MountSpec, RelaySpec
from streams.relay.states import RelayReport, Upstream

log = logging.getLogger(__name__)
RTSP_PORT = 554

Seconds = Annotated[float, Field(gt=0, le=3600)]


class RelayConfig(BaseModel):
    """The relay's TOML file (`deploy/relay.toml`); command-line flags override it."""

    model_config = FROZEN

    site: Path = Field(description="the site file (the hub's): cameras, credentials, relays")
    relay: str = Field(min_length=1, max_length=64, description="this relay's id in the site")
    listen: str = Field(
        default="0.0.0.0",
        min_length=1,
        max_length=255,
        description="address to listen on; the port is the one of the relay's URL (554)",
    )
    hub: str | None = Field(
        default=None,
        pattern=r"^https?://",
        description="the hub's HTTP(S) base URL the states go to; none: not reported",
    )
    hub_ca: Path | None = Field(default=None, description="the hub's CA certificate (PEM)")
    api_key_file: Path | None = Field(
        default=None, description="file holding an intake API key allowed to report camera faults"
    )
    idle_s: Seconds = Field(default=30.0, description="drop an upstream nobody watched this long")
    open_timeout_s: Seconds = Field(default=5.0, description="connecting longer is a failure")
    read_timeout_s: Seconds = Field(default=5.0, description="live without data this long fails")
    backoff_s: Seconds = Field(default=1.0, description="first retry after a failure (doubles)")
    backoff_max_s: Seconds = Field(default=30.0, description="longest wait between retries")
    probe_idle_s: Annotated[float, Field(ge=0, le=3600)] = Field(
        default=0.0,
        description="drop an upstream only patrol probes (?patrol=1) asked for this soon",
    )
    report_every_s: Seconds = Field(default=10.0, description="full report to the hub this often")


def relay_spec(site: Site, cfg: RelayConfig) -> RelaySpec:
    """What the relay serves: each of its cameras' streams, upstream credentials included."""
    relay = site.relay(cfg.relay)
    mounts = tuple(
        MountSpec(cam.id, stream, camera_url(site, cam, stream))
        for cam in relay_cameras(site, relay.id)
        for stream in STREAMS
        if camera_stream(cam, stream) is not None
    )
    auth = None
    if relay.credentials is not None:
        cred = site.credentials[relay.credentials]
        auth = (cred.username, cred.secret())
    return RelaySpec(
        mounts,
        host=cfg.listen,
        port=urlsplit(relay.url).port or RTSP_PORT,
        idle_s=cfg.idle_s,
        open_timeout_s=cfg.open_timeout_s,
        read_timeout_s=cfg.read_timeout_s,
        backoff_s=cfg.backoff_s,
        backoff_max_s=cfg.backoff_max_s,
        auth=auth,
        probe_idle_s=cfg.probe_idle_s,
    )


class HubReporter:
    """Posts a relay's `RelayReport` to the hub; the last error is kept, never raised."""

    def __init__(
        self, http_url: str, api_key: str, *, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self.url = f"{http_url.rstrip('/')}/api/v1/relay_states"
        self.api_key = api_key
        self.ssl_context = ssl_context
        self.last_error = ""
        self.sent = 0

    def post(self, report: RelayReport) -> bool:
        req = urllib.request.Request(
            self.url,
            data=report.model_dump_json().encode("utf-8"),
            method="POST",
            headers={"Content-Type": "application/json", "X-Api-Key": self.api_key},
        )
        try:
            with urllib.request.urlopen(req, timeout=10.0, context=self.ssl_context) as resp:
                json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            with exc:
                self.last_error = f"HTTP {exc.code} {exc.read()[:300].decode('utf-8', 'replace')}"
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
            self.last_error = f"hub unreachable: {exc}"
        else:
            self.last_error = ""
            self.sent += 1
            return True
        log.warning("relay states not delivered: %s", self.last_error)
        return False


class RelayRunner:
    """The relay process's parts: the RTSP server and the reports. `start`/`stop` twice-safe.

    A state change is reported after `settle_s` (changes close together go as one
    report); a full report goes every `report_every_s` whatever happens.
    """

    def __init__(
        self,
        relay_id: str,
        spec: RelaySpec,
        post: Callable[[RelayReport], object] | None,
        *,
        report_every_s: float = 10.0,
        settle_s: float = 0.2,
    ) -> None:
        self.relay_id = relay_id
        self.server = RelayServer(spec, on_state=self._changed)
        self._post = post
        self.report_every_s = report_every_s
        self.settle_s = settle_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def set_post(self, post: Callable[[RelayReport], object] | None) -> None:
        """Where the reports go (before `start`)."""
        self._post = post

    def start(self, timeout_s: float = 20.0) -> None:
        self.server.start(timeout_s)
        if self._thread is None and self._post is not None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="relay-report", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(15.0)
            self._thread = None
        self.server.stop()

    def report(self) -> RelayReport:
        return RelayReport(
            relay=self.relay_id,
            at=utc_now(),
            every_s=self.report_every_s,
            upstreams=self.states(),
        )

    def states(self) -> list[Upstream]:
        return self.server.states()

    def _changed(self, _up: Upstream) -> None:
        self._wake.set()

    def _run(self) -> None:
        assert self._post is not None
        while not self._stop.is_set():
            self._wake.wait(self.report_every_s)
            if self._stop.is_set():
                break
            if self._wake.is_set():
                self._stop.wait(self.settle_s)
                self._wake.clear()
            if self.server.running:  # a dead server reports nothing: the hub sees it stale
                self._post(self.report())


def load_config(path: Path | None, overrides: dict[str, object]) -> RelayConfig:
    data: dict[str, object] = {}
    if path is not None:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    data.update({k: v for k, v in overrides.items() if v is not None})
    return RelayConfig.model_validate(data)


def _args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="hall-relay", description="camera relay (one pull each)")
    p.add_argument("--config", type=Path, help="the relay's TOML file (deploy/relay.toml)")
    p.add_argument("--site", type=Path)
    p.add_argument("--relay", help="this relay's id in the site")
    p.add_argument("--listen", help="address to listen on (the port is the relay URL's)")
    p.add_argument("--hub", help="hub base URL, e.g. https://hub.hall:8470")
    p.add_argument("--hub-ca", type=Path, dest="hub_ca")
    p.add_argument("--api-key-file", type=Path, dest="api_key_file")
    p.add_argument("--idle-s", type=float, dest="idle_s")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    a = _args(argv)
    keys = ("site", "relay", "listen", "hub", "hub_ca", "api_key_file", "idle_s")
    try:
        cfg = load_config(a.config, {k: getattr(a, k) for k in keys})
        site = load_site(cfg.site)
        spec = relay_spec(site, cfg)
    except (OSError, tomllib.TOMLDecodeError, ValidationError, SiteConfigError, KeyError) as exc:
        print(f"hall-relay: {exc}", file=sys.stderr)
        return 2
    post = None
    if cfg.hub is not None:
        if cfg.api_key_file is None:
            print("hall-relay: --hub needs --api-key-file", file=sys.stderr)
            return 2
        ctx = ssl.create_default_context(cafile=str(cfg.hub_ca)) if cfg.hub_ca else None
        api_key = cfg.api_key_file.read_text(encoding="utf-8").strip()
        post = HubReporter(cfg.hub, api_key, ssl_context=ctx).post
    runner = RelayRunner(cfg.relay, spec, post, report_every_s=cfg.report_every_s)
    try:
        runner.start()
    except RelayError as exc:
        print(f"hall-relay: {exc}", file=sys.stderr)
        return 1
    print(f"READY relay {cfg.relay}: {len(spec.mounts)} streams on port {runner.server.port}")
    sys.stdout.flush()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_a: done.set())
    signal.signal(signal.SIGINT, lambda *_a: done.set())
    while not done.wait(1.0):
        if not runner.server.running:
            print(
                "hall-relay: the RTSP server died\n" + runner.server.stderr_tail(), file=sys.stderr
            )
            runner.stop()
            return 1
    runner.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
