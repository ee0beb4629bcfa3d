"""`HubProcess`: runs `hall-hub` as a subprocess and waits for its `READY {json}` line.

Used by tests, benchmarks and `hall-console --demo`. `kill()` sends SIGKILL (the crash
test); `stop()` asks politely (SIGTERM) and then kills. Both are safe to call twice.
The hub runs with `--exit-with-parent`: if the program that started it dies without
stopping it (a killed test run), it stops by itself instead of lingering.

`clock_offset_file` runs the hub on a test wall clock (the system's plus the seconds in
that file, `set_clock_offset`; `dispatch.hub.clock`): an event turns red without waiting.

Before the first start it enrols one console workstation, `TEST_CONSOLE`, in the hub's
keys folder (`keys` in its data folder, else a temporary folder): `console_keys`
is its key file's content, for `HubClient(keys=...)` (tests, benchmarks, the demo).
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from dispatch.client.keys import ConsoleKeys, read_console_keys, write_console_keys
from dispatch.hub.clock import OFFSET_ENV, write_offset
from dispatch.hub.enrol import enrol
from dispatch.hub.tls import client_context

TEST_CONSOLE = "test-console"


class HubStartError(RuntimeError):
    pass


def _sqlite_folder(db_url: str) -> Path | None:
    """The folder of a `sqlite:///path` database (no SQLAlchemy here: the console's demo
    imports this module), else None."""
    prefix = "sqlite:///"
    if not db_url.startswith(prefix):
        return None
    path = db_url[len(prefix) :].partition("?")[0]
    return Path(path).absolute().parent if path and path != ":memory:" else None


class HubProcess:
    def __init__(
        self,
        db_url: str,
        *,
        site: Path | None = None,
        http_port: int = 0,
        zmq_req: str | None = None,
        zmq_pub: str | None = None,
        demo: bool = False,
        public_url: str | None = None,
        plain_port: int = 0,
        extra_args: Sequence[str] = (),
        python: str = sys.executable,
        data_dir: Path | None = None,
        keys_dir: Path | None = None,
        clock_offset_file: Path | None = None,
    ) -> None:
        self.db_url = db_url
        # the hub's data folder (0700): given, else the SQLite file's folder, else the hub's
        # default (the user's state folder)
        self.data_dir = data_dir or _sqlite_folder(db_url)
        self.site = site
        self.http_port = http_port
        self.zmq_req = zmq_req or "tcp://127.0.0.1:0"
        self.zmq_pub = zmq_pub or "tcp://127.0.0.1:0"
        self.demo = demo
        self.public_url_arg = public_url
        self.plain_port = plain_port
        self.extra_args = list(extra_args)
        # test mode: the hub's wall clock is the system's plus the seconds in this file
        # (`dispatch.hub.clock`; `set_clock_offset` moves it while the hub runs)
        self.clock_offset_file = clock_offset_file
        self.python = python
        self._keys_dir = keys_dir
        self._console_keys: ConsoleKeys | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: tempfile._TemporaryFileWrapper[bytes] | None = None
        self.info: dict[str, object] = {}
        self.last_stderr = ""

    def command(self) -> list[str]:
        # the `hall-hub` entry point when installed (so `pgrep -f hall-hub` finds it)
        script = Path(self.python).parent / "hall-hub"
        run = [str(script)] if script.is_file() else ["-m", "dispatch.hub"]
        cmd = [
            self.python,
            *run,
            "--exit-with-parent",
            "--db",
            self.db_url,
            "--http",
            f"127.0.0.1:{self.http_port}",
            "--zmq-req",
            self.zmq_req,
            "--zmq-pub",
            self.zmq_pub,
            "--zmq-keys",
            str(self.keys_dir),
            "--plain-port",
            str(self.plain_port),
        ]
        if self.data_dir is not None:
            cmd += ["--data-dir", str(self.data_dir)]
        if self.public_url_arg is not None:
            cmd += ["--public-url", self.public_url_arg]
        if self.site is not None:
            cmd += ["--site", str(self.site)]
        if self.demo:
            cmd.append("--demo")
        return cmd + self.extra_args

    @property
    def keys_dir(self) -> Path:
        """The hub's keys folder (`--zmq-keys`): given, else `keys` in the data folder,
        else a temporary folder chosen at first use."""
        if self._keys_dir is None:
            if self.data_dir is not None:
                self._keys_dir = self.data_dir / "keys"
            else:
                self._keys_dir = Path(tempfile.mkdtemp(prefix="hall-keys-"))
        return self._keys_dir

    def enrol_console(self, name: str = TEST_CONSOLE) -> ConsoleKeys:
        """Enrol workstation `name` (once: its key file is kept in the keys folder and
        read again on later calls, across restarts); its key file's content."""
        path = self.keys_dir / "consoles" / f"{name}.key"
        if path.is_file():
            return read_console_keys(path)
        keys = enrol(self.keys_dir, name)
        write_console_keys(path, keys)
        return keys

    @property
    def console_keys(self) -> ConsoleKeys:
        """The enrolled test console's keys, with the hub's endpoints once it is ready."""
        if self._console_keys is None:
            self._console_keys = self.enrol_console()
        if self.info:
            return self._console_keys.model_copy(
                update={"req_endpoint": self.req_endpoint, "pub_endpoint": self.pub_endpoint}
            )
        return self._console_keys

    def start(self, timeout_s: float = 30.0) -> None:
        if self._proc is not None and self._proc.poll() is None:
            return
        if self._console_keys is None:
            self._console_keys = self.enrol_console()
        env = dict(os.environ)
        env.setdefault("PYTHONUNBUFFERED", "1")
        env.pop(OFFSET_ENV, None)
        if self.clock_offset_file is not None:
            env[OFFSET_ENV] = str(self.clock_offset_file)
        root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
        # stderr to a file, not a pipe: a chatty hub must never block on a full pipe
        self._release_stderr()
        self._stderr = tempfile.NamedTemporaryFile(prefix="hall-hub-", suffix=".log")  # noqa: SIM115
        proc = subprocess.Popen(
            self.command(), stdout=subprocess.PIPE, stderr=self._stderr, env=env, cwd=root
        )
        self._proc = proc
        assert proc.stdout is not None
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout_s
        buf = b""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                err = self._err()
                self.kill()
                raise HubStartError(f"hall-hub not ready within {timeout_s} s: {err}")
            if not sel.select(timeout=min(left, 0.2)):
                if proc.poll() is not None:
                    break
                continue
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                break
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                text = line.decode("utf-8", "replace")
                if text.startswith("READY "):
                    self.info = json.loads(text[len("READY ") :])
                    sel.close()
                    return
        sel.close()
        rc = proc.wait(timeout=5)
        self._proc = None
        self._close_pipes(proc)
        err = self._err(proc)
        self._release_stderr()
        raise HubStartError(f"hall-hub exited with {rc} before READY: {err}")

    def _err(self, proc: subprocess.Popen[bytes] | None = None) -> str:
        return self.stderr_text()[-2000:]

    def _release_stderr(self) -> None:
        if self._stderr is not None:
            self.last_stderr = self.stderr_text()
            self._stderr.close()
            self._stderr = None

    def stderr_text(self) -> str:
        if self._stderr is None:
            return self.last_stderr
        try:
            return Path(self._stderr.name).read_text("utf-8", "replace")
        except OSError:
            return ""

    def set_clock_offset(self, seconds: float) -> None:
        """Move this hub's wall clock to the system's plus `seconds` (it follows within
        `dispatch.hub.clock.REREAD_S`); needs `clock_offset_file`."""
        if self.clock_offset_file is None:
            raise HubStartError("this hub was started without clock_offset_file")
        write_offset(self.clock_offset_file, seconds)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def _need(self, key: str) -> str:
        v = self.info.get(key)
        if not isinstance(v, str):
            raise HubStartError("hub is not started")
        return v

    @property
    def http_url(self) -> str:
        """The base URL of the pages on this machine: https (unless started --tls off)."""
        return self._need("http")

    @property
    def https_url(self) -> str:
        return self._need("https")

    @property
    def public_url(self) -> str:
        """The base URL every link carries (`--public-url`, else the listen address)."""
        return self._need("public_url")

    @property
    def plain_url(self) -> str:
        """The plain-HTTP listener serving the CA certificate and redirects."""
        return self._need("plain_http")

    @property
    def ca_cert_path(self) -> Path:
        """The hub's own CA certificate (PEM)."""
        return Path(self._need("ca_cert"))

    def ca_spki_b64(self) -> str:
        """base64 SHA-256 of the CA's public key (Chromium's SPKI allow-list)."""
        return self._need("ca_spki")

    def ssl_context(self) -> ssl.SSLContext:
        """A verifying client context (for aiohttp `ssl=`, urllib `context=`) trusting the
        hub's own CA, or only the system's CAs when it has none (`--tls files` or `off`)."""
        ca = self.info.get("ca_cert")
        return client_context([Path(ca)] if isinstance(ca, str) else [])

    @property
    def req_endpoint(self) -> str:
        return self._need("req")

    @property
    def pub_endpoint(self) -> str:
        return self._need("pub")

    def kill(self) -> None:
        """SIGKILL: no clean shutdown (what a power cut looks like to the hub)."""
        p, self._proc = self._proc, None
        if p is None:
            return
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
        p.wait(timeout=10)
        self._close_pipes(p)

    def stop(self, timeout_s: float = 10.0) -> None:
        p, self._proc = self._proc, None
        if p is None:
            return
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)
        self._close_pipes(p)

    def _close_pipes(self, p: subprocess.Popen[bytes]) -> None:
        if p.stdout is not None:
            p.stdout.close()
        self._release_stderr()
