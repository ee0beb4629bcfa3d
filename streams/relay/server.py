"""`RelayServer`: runs the relay's RTSP server (`_server.py`) and follows its states.

The server needs GStreamer's Python bindings, which live in the system Python, so it runs
as a subprocess of `/usr/bin/python3` (as `hall-camsim` does). The protocol is described
in `_server.py`: the spec as the first stdin line, one `READY {json}` line, then `STATE
{json}` lines whenever an upstream changes; the server ends on stdin end-of-file, so it
also ends when this process dies. Two daemon threads drain its stdout and stderr.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from streams.relay.spec import RelaySpec, StreamName
from streams.relay.states import Upstream, UpstreamState

SERVER_SCRIPT = Path(__file__).resolve().parent / "_server.py"
SYSTEM_PYTHON = "/usr/bin/python3"
STDERR_TAIL_LINES = 40


class RelayError(RuntimeError):
    """The relay failed to start or died; the message carries its stderr's tail."""


def parse_state(line: str) -> tuple[str, Upstream, int]:
    """A `STATE {json}` line: the mount's path, its state, and how often it was pulled."""
    body = json.loads(line[len("STATE ") :])
    up = Upstream(
        camera=body["camera"],
        stream=body["stream"],
        state=UpstreamState(body["state"]),
        error=body.get("error") or "",
        clients=int(body.get("clients") or 0),
        since=datetime.fromtimestamp(float(body["since"]), UTC),
    )
    return str(body["path"]), up, int(body.get("pulls") or 0)


class RelayServer:
    """The relay's RTSP server as a subprocess. No I/O until `start()`.

    `on_state` is called from a reader thread with every upstream whose state or client
    count changed. After `kill()` (SIGKILL, for tests) or `stop()`, `start()` listens again
    on the same port.
    """

    def __init__(
        self,
        spec: RelaySpec,
        *,
        on_state: Callable[[Upstream], None] | None = None,
        python: str = SYSTEM_PYTHON,
    ) -> None:
        self.spec = spec
        self.on_state = on_state
        self._python = python
        self._proc: subprocess.Popen[str] | None = None
        self._threads: list[threading.Thread] = []
        self._ready = threading.Event()
        self._lock = threading.Lock()
        self._states: dict[str, Upstream] = {}
        self._pulls: dict[str, int] = {}
        self._stderr: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
        self.port = spec.port
        self.mounts: dict[str, str] = {}

    # -- life cycle ---------------------------------------------------------------------
    def start(self, timeout_s: float = 20.0) -> None:
        """Spawn the server and wait until it listens. Safe to call twice."""
        if self._proc is not None:
            return
        self._ready.clear()
        self.mounts = {}
        spec = replace(self.spec, port=self.port)
        try:
            proc = subprocess.Popen(
                [self._python, "-u", str(SERVER_SCRIPT)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                encoding="utf-8",
                errors="replace",
                bufsize=1,
            )
        except OSError as exc:
            raise RelayError(f"cannot run {self._python}: {exc}") from exc
        self._proc = proc
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        self._threads = [
            threading.Thread(target=self._read_stdout, args=(proc.stdout,), daemon=True),
            threading.Thread(target=self._read_stderr, args=(proc.stderr,), daemon=True),
        ]
        for t in self._threads:
            t.name = f"relay-{proc.pid}-reader"
            t.start()
        try:
            proc.stdin.write(spec.to_json() + "\n")
            proc.stdin.flush()
        except OSError:
            pass  # died at once: reported below with its stderr
        if not self._ready.wait(timeout_s) or not self.mounts:
            why = (
                f"exited with status {proc.poll()}"
                if proc.poll() is not None
                else f"not ready within {timeout_s:g} s"
            )
            self._shutdown(grace_s=0.0)
            raise RelayError(f"relay {why}\n{self.stderr_tail()}".rstrip())

    def stop(self) -> None:
        """Ask the server to quit, then terminate or kill it; reap it. Idempotent."""
        if self._proc is not None:
            self._shutdown(grace_s=5.0)

    def kill(self) -> None:
        """SIGKILL, as a crash would (tests): clients see their connections drop."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        self._shutdown(grace_s=0.0)

    def _shutdown(self, grace_s: float) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            try:
                if grace_s > 0 and proc.poll() is None:
                    proc.stdin.write("quit\n")
                    proc.stdin.flush()
                proc.stdin.close()
            except OSError:
                pass
        try:
            proc.wait(grace_s if grace_s > 0 else 5.0)
        except subprocess.TimeoutExpired:
            proc.terminate()
            try:
                proc.wait(3.0)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5.0)
        for t in self._threads:
            t.join(5.0)
        self._threads = []
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
        with self._lock:
            self._states.clear()

    def __enter__(self) -> RelayServer:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # -- readers (threads) ----------------------------------------------------------------
    def _read_stdout(self, pipe: IO[str]) -> None:
        for raw in pipe:
            line = raw.rstrip("\n")
            if line.startswith("READY ") and not self._ready.is_set():
                try:
                    body = json.loads(line[len("READY ") :])
                    self.port = int(body["port"])
                    self.mounts = {str(k): str(v) for k, v in body["mounts"].items()}
                except (ValueError, KeyError, TypeError) as exc:
                    self._stderr.append(f"unreadable READY line: {exc}")
                self._ready.set()
            elif line.startswith("STATE "):
                self._on_state_line(line)
            elif line and not line.startswith(("OK ", "ERR ")):
                self._stderr.append(f"(stdout) {line}")
        self._ready.set()

    def _on_state_line(self, line: str) -> None:
        try:
            path, up, pulls = parse_state(line)
        except (ValueError, KeyError, TypeError) as exc:
            self._stderr.append(f"unreadable STATE line: {exc}")
            return
        with self._lock:
            self._states[path] = up
            self._pulls[path] = pulls
        if self.on_state is not None:
            self.on_state(up)

    def _read_stderr(self, pipe: IO[str]) -> None:
        for raw in pipe:
            self._stderr.append(raw.rstrip("\n"))

    def stderr_tail(self) -> str:
        return "\n".join(self._stderr)

    # -- what it serves ---------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def url(self, camera: str, stream: StreamName = "sub") -> str:
        path = f"/{camera}/{stream}"
        if path not in self.mounts:
            raise KeyError(f"relay: no mount {path}; it serves {sorted(self.mounts)}")
        return self.mounts[path]

    def states(self) -> list[Upstream]:
        """Every upstream's last reported state (upstreams never reported: idle)."""
        now = datetime.now(UTC)
        with self._lock:
            known = dict(self._states)
        return [
            known.get(m.path)
            or Upstream(camera=m.camera, stream=m.stream, state=UpstreamState.IDLE, since=now)
            for m in self.spec.mounts
        ]

    def upstream(self, camera: str, stream: StreamName = "sub") -> Upstream | None:
        """That mount's last reported state (None: never reported)."""
        with self._lock:
            return self._states.get(f"/{camera}/{stream}")

    def pulls(self, camera: str, stream: StreamName = "sub") -> int:
        """How many times this relay process opened that camera stream upstream."""
        with self._lock:
            return self._pulls.get(f"/{camera}/{stream}", 0)
