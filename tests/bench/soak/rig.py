"""The soak's processes: Xvfb, `hall-camsim`, `hall-hub` (SQLite, or a database of its
own in the test PostgreSQL) and `hall-console` in a real window with its stats probe."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from console.shell.stats import STATS_EVERY_ENV, STATS_FILE_ENV, STATS_TYPES_ENV, read_stats
from dispatch.hub.auth import DEMO_OPERATORS
from dispatch.hub.demo import DEMO_API_KEY
from dispatch.hub.process import HubProcess
from streams.simulator import CamSim
from tests.bench.soak.site import soak_site
from tests.integration.dispatch.mediation.test_mediation_support import mediation_args
from tests.kit.xvfb import xvfb_display

CONSOLE = "soak-console"  # the console's enrolled workstation
CAMERAS = 4


def pg_database(stack: ExitStack) -> str:
    """A new database in the test PostgreSQL (`HALL_TEST_PG_URL`), dropped at the end."""
    base = os.environ.get("HALL_TEST_PG_URL")
    if not base:
        raise SystemExit(
            'soak --db postgresql needs HALL_TEST_PG_URL: eval "$(bash scripts/pg.sh start)"'
        )
    name = f"hall_soak_{os.getpid()}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")

    def run(sql: str) -> None:
        with admin.connect() as conn:
            conn.execute(text(sql))

    run(f"CREATE DATABASE {name}")
    stack.callback(admin.dispose)
    stack.callback(run, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    return make_url(base).set(database=name).render_as_string(hide_password=False)


class Rig:
    def __init__(self, tmp: Path, *, db: str = "sqlite", people: int = 200) -> None:
        self.tmp = tmp
        self.db = db
        self.people = people
        self.stack = ExitStack()
        self.sim = CamSim(cameras=CAMERAS)
        self.db_url = ""
        self.hub: HubProcess | None = None
        self.hub_life = 0
        self.console: subprocess.Popen[bytes] | None = None
        self.stats_file = tmp / "console-stats.jsonl"

    def start(self) -> None:
        display = self.stack.enter_context(xvfb_display())
        self.sim.start(timeout_s=60)
        self.stack.callback(self.sim.stop)
        site = self.tmp / "site.toml"
        site.write_text(soak_site(self.sim, self.people), encoding="utf-8")
        if self.db == "postgresql":
            self.db_url = pg_database(self.stack)
        else:
            self.db_url = f"sqlite:///{self.tmp / 'hall.db'}"
        hub = HubProcess(self.db_url, site=site, data_dir=self.tmp, **self.hub_args())
        self.hub = hub
        hub.start(timeout_s=120)
        self.stack.callback(self.stop_hub)
        self.stack.callback(self.stop_console)
        self.start_console(display, site)

    def hub_args(self) -> dict[str, Any]:
        """The mediation hub's keywords (WebRTC on loopback, fixed ports for the restart)
        without `--demo` (which would issue 200 new phone links at every start): its
        operators added with `--add-operator` and the intake key from a key file."""
        for name, role, password in DEMO_OPERATORS[:2]:  # duty, leader
            env = {**os.environ, "HALL_PASSWORD": password}
            subprocess.run(
                [sys.executable, "-m", "dispatch.hub", "--db", self.db_url,
                 "--add-operator", name, "--role", role.value],
                env=env, check=True, capture_output=True, timeout=120,
            )  # fmt: skip
        keys = self.tmp / "api-keys.toml"
        keys.write_text(
            f'[[keys]]\nname = "soak"\nkey = "{DEMO_API_KEY}"\nsources = ["grid_report"]\n',
            encoding="utf-8",
        )
        args = mediation_args(self.tmp, fixed_ports=True)
        args["demo"] = False
        args["extra_args"] = [*args["extra_args"], "--api-key-file", str(keys)]
        return args

    def start_console(self, display: str, site: Path) -> None:
        hub = self.need_hub()
        hub.enrol_console(CONSOLE)
        keys = hub.keys_dir / "consoles" / f"{CONSOLE}.key"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("QT_", "HALL_"))}
        env.update(DISPLAY=display, QT_QPA_PLATFORM="xcb", HALL_CONFIG_DIR=str(self.tmp / "cfg"))
        env.update({STATS_FILE_ENV: str(self.stats_file), STATS_EVERY_ENV: "5",
                    "HALL_OPERATOR_PASSWORD": "duty123"})  # fmt: skip
        if os.environ.get(STATS_TYPES_ENV):  # a diagnosis asked for (`console.shell.stats`)
            env[STATS_TYPES_ENV] = os.environ[STATS_TYPES_ENV]
        exe = Path(sys.executable).parent / "hall-console"
        cmd = [str(exe), "--site", str(site), "--layout", "16", "--operator", "duty",
               "--hub", hub.req_endpoint, "--hub-pub", hub.pub_endpoint,
               "--hub-http", hub.http_url, "--hub-ca", str(hub.ca_cert_path),
               "--keys", str(keys), "--evidence-dir", str(self.tmp / "evidence")]  # fmt: skip
        log = (self.tmp / "console.log").open("wb")
        self.stack.callback(log.close)
        self.console = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)

    def wait_console(self, tiles: int, timeout_s: float = 120.0) -> None:
        """Until the console's probe reports `tiles` live pictures on the wall."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            lines = read_stats(self.stats_file)
            if lines and lines[-1].tiles_with_picture >= tiles:
                return
            if self.console is None or self.console.poll() is not None:
                break
            time.sleep(1.0)
        log = (self.tmp / "console.log").read_text("utf-8", "replace")[-3000:]
        raise RuntimeError(f"the console's wall did not come up ({tiles} tiles): {log}")

    def need_hub(self) -> HubProcess:
        assert self.hub is not None, "Rig.start() first"
        return self.hub

    def restart_hub(self) -> None:
        """Stop the hub (SIGTERM) and start it again at the same addresses."""
        hub = self.need_hub()
        hub.stop()
        hub.start(timeout_s=120)
        self.hub_life += 1

    def stop_console(self) -> None:
        p, self.console = self.console, None
        if p is None or p.poll() is not None:
            return
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(10)

    def stop_hub(self) -> None:
        if self.hub is not None:
            self.hub.stop()

    def stop(self) -> None:
        self.stack.close()
