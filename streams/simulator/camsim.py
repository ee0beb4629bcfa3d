"""`CamSim`: runs the simulator's RTSP server (`_server.py`) and talks to it.

The server needs GStreamer's Python bindings, which live in the system Python, so it
runs as a subprocess of `/usr/bin/python3`. The protocol is described in `_server.py`:
the spec as the first stdin line, one `READY {json}` line on stdout, then control
lines (`kill CAM`, `hang CAM`, `revive CAM`, `quit`) each answered by `OK …` or
`ERR …`. The server ends on stdin end-of-file, so it also ends when this process dies.

Two daemon threads drain the child's stdout (READY and control replies) and stderr
(kept as a short tail for error messages), so the child never blocks on a full pipe.
"""

from __future__ import annotations

import json
import queue
import subprocess
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import IO, Literal

from streams.ingest.sources import CameraSource, with_credentials
from streams.simulator.picture import MODES
from streams.simulator.spec import (
    ServerSpec,
    numbered_spec,
    site_spec,
    with_faults,
    with_profile,
    with_ptz,
    with_recording,
)

SERVER_SCRIPT = Path(__file__).resolve().parent / "_server.py"
SYSTEM_PYTHON = "/usr/bin/python3"
STDERR_TAIL_LINES = 40
Fault = Literal["kill", "hang", "revive", "mode", "sessions"]


class CamSimError(RuntimeError):
    """The simulator failed to start, died, or refused or missed a control command."""


def parse_ready(line: str) -> dict[str, dict[str, str | int]]:
    """The camera table of a `READY {json}` line."""
    if not line.startswith("READY "):
        raise CamSimError(f"expected a READY line, got {line!r}")
    try:
        body = json.loads(line[len("READY ") :])
        cameras = body["cameras"]
    except (ValueError, KeyError, TypeError) as exc:
        raise CamSimError(f"unreadable READY line {line!r}: {exc}") from None
    if not isinstance(cameras, dict):
        raise CamSimError(f"READY line without a camera table: {line!r}")
    return cameras


class CamSim:
    """Synthetic RTSP cameras served by a GStreamer subprocess. No I/O until `start()`.

    `cameras=N` serves `cam1`…`camN` on free ports (or `base_port`, `base_port + 1`, …);
    `site=` (a site's cameras as plain values, e.g. from `read_camera_sources`) serves
    them at the hosts, ports and paths of their URLs (or at `base_port + i`, paths
    unchanged). With `auth`, every camera asks for digest credentials (with a site and no
    `auth`, each camera asks for its own credentials from the site, if they resolve).
    `faults` sets cameras' picture modes (camera id -> normal, black, frozen, blur,
    covered, colour_cast, noise; `set_mode` changes one at run time). `mass` serves
    looped pre-encoded pictures (no stamp, no name), cheap enough for 200 cameras.
    `encoding` is `camera` (H.264 High with CABAC at a camera's bit rate; with `codec`
    "h265" the main streams are H.265) or `fast` (cheap x264 ultrafast, for tests that
    need many cheap streams); see `streams.simulator.encoding`. `codecs` sets the main
    stream's codec of some cameras (camera id -> "h264" or "h265"). `scene` is "day",
    "night" (infrared black and white) or "mixed" (every fourth camera at night).
    `ptz` names PTZ cameras: each also serves ONVIF (device, media, PTZ) over HTTP
    (`onvif_url`), and its picture is a window over a larger scene that the PTZ moves.
    `record_dir` makes the cameras (`record_cameras`, default all) record into that folder
    and serve the recording (`playback` and `replay` URLs in the READY table); see
    `streams.simulator.recording` and `backfill` for a past span.
    """

    def __init__(
        self,
        cameras: int = 4,
        *,
        site: Sequence[CameraSource] | None = None,
        base_port: int | None = None,
        auth: tuple[str, str] | None = None,
        faults: Mapping[str, str] | None = None,
        mass: bool = False,
        encoding: str = "camera",
        codec: str = "h264",
        scene: str = "day",
        codecs: Mapping[str, str] | None = None,
        ptz: Sequence[str] = (),
        record_dir: Path | None = None,
        record_cameras: Sequence[str] | None = None,
        control_timeout_s: float = 5.0,
        python: str = SYSTEM_PYTHON,
    ) -> None:
        self.spec: ServerSpec = (
            site_spec(site, base_port=base_port, auth=auth)
            if site is not None
            else numbered_spec(cameras, base_port=base_port, auth=auth)
        )
        self.spec = with_profile(
            self.spec, encoding=encoding, codec=codec, scene=scene, codecs=codecs
        )
        if faults:
            self.spec = with_faults(self.spec, faults)
        if mass:
            self.spec = replace(self.spec, mass=True)
        if ptz:
            self.spec = with_ptz(self.spec, ptz)
        if record_dir is not None:
            self.spec = with_recording(self.spec, str(record_dir), record_cameras)
        self.camera_ids: list[str] = [c.id for c in self.spec.cameras]
        self._auth = {c.id: c.auth for c in self.spec.cameras}
        self.control_timeout_s = control_timeout_s
        self._python = python
        self._proc: subprocess.Popen[str] | None = None
        self._threads: list[threading.Thread] = []
        self._cameras: dict[str, dict[str, str | int]] = {}
        self._ready = threading.Event()
        self._replies: queue.Queue[str | None] = queue.Queue()
        self._stderr: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
        self._control_lock = threading.Lock()

    # -- life cycle -----------------------------------------------------------------
    def start(self, timeout_s: float = 30.0) -> None:
        """Spawn the server and wait until every camera listens. Safe to call twice."""
        if self._proc is not None:
            return
        self._ready.clear()
        self._replies = queue.Queue()
        self._stderr.clear()
        self._cameras = {}
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
            raise CamSimError(f"cannot run {self._python}: {exc}") from exc
        self._proc = proc
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        self._threads = [
            threading.Thread(target=self._read_stdout, args=(proc.stdout,), daemon=True),
            threading.Thread(target=self._read_stderr, args=(proc.stderr,), daemon=True),
        ]
        for t in self._threads:
            t.name = f"camsim-{proc.pid}-reader"
            t.start()
        try:
            proc.stdin.write(self.spec.to_json() + "\n")
            proc.stdin.flush()
        except OSError:
            pass  # the child died at once: reported below with its stderr
        if not self._ready.wait(timeout_s) or not self._cameras:
            reason = (
                f"exited with status {proc.poll()}"
                if proc.poll() is not None
                else f"not ready within {timeout_s:g} s"
            )
            self._shutdown(grace_s=0.0)
            raise CamSimError(f"camera simulator {reason}\n{self.stderr_tail()}".rstrip())

    def stop(self) -> None:
        """Ask the server to quit, then terminate or kill it; reap it. Idempotent."""
        if self._proc is not None:
            self._shutdown(grace_s=5.0)

    def _shutdown(self, grace_s: float) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.stdin is not None:
            try:
                if grace_s > 0:
                    proc.stdin.write("quit\n")
                    proc.stdin.flush()
                proc.stdin.close()  # end of file: the server quits too
            except OSError:
                pass
        try:
            proc.wait(grace_s)
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
        self._cameras = {}
        self._replies.put(None)  # wakes a control call still waiting

    def __enter__(self) -> CamSim:
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
                    self._cameras = parse_ready(line)
                except CamSimError as exc:
                    self._stderr.append(str(exc))
                self._ready.set()
            elif line.startswith(("OK ", "ERR ")):
                self._replies.put(line)
            elif line:
                self._stderr.append(f"(stdout) {line}")
        self._ready.set()  # end of file: nobody waits for READY in vain
        self._replies.put(None)

    def _read_stderr(self, pipe: IO[str]) -> None:
        for raw in pipe:
            self._stderr.append(raw.rstrip("\n"))

    def stderr_tail(self) -> str:
        """The last lines the server wrote to stderr (for error messages)."""
        return "\n".join(self._stderr)

    # -- what it serves -------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def cameras(self) -> dict[str, dict[str, str | int]]:
        """The READY table: camera id -> {"main": url, "sub": url, "third": url, "audio": url,
        "port": p}.

        ("third" only for cameras that have the 640x360 third stream; "audio": audio only,
        no video.)
        """
        return {cid: dict(info) for cid, info in self._cameras.items()}

    def ready_line(self) -> str:
        return "READY " + json.dumps({"cameras": self._cameras}, ensure_ascii=False)

    def _info(self, camera_id: str) -> dict[str, str | int]:
        if camera_id not in self.camera_ids:
            raise KeyError(f"camsim: unknown camera {camera_id!r}; known: {self.camera_ids}")
        if not self._cameras:
            raise CamSimError("camsim: not started (call start() first)")
        return self._cameras[camera_id]

    def port(self, camera_id: str) -> int:
        return int(self._info(camera_id)["port"])

    def onvif_url(self, camera_id: str) -> str:
        """The device service URL of a PTZ camera (KeyError for a fixed camera)."""
        info = self._info(camera_id)
        if "onvif" not in info:
            raise KeyError(f"camsim: {camera_id} is not a PTZ camera")
        return str(info["onvif"])

    def url(self, camera_id: str, stream: str = "sub", *, with_auth: bool = False) -> str:
        """The camera's RTSP URL; with `with_auth`, carrying the simulator's credentials."""
        info = self._info(camera_id)
        if stream not in info or stream in ("port", "onvif"):
            names = [k for k in info if k not in ("port", "onvif")]
            raise KeyError(f"camsim: {camera_id} has no stream {stream!r}; it has {names}")
        url = str(info[stream])
        if not with_auth:
            return url
        auth = self._auth[camera_id]
        if auth is None:
            raise ValueError(f"camsim: with_auth=True but {camera_id} has no credentials")
        return with_credentials(url, *auth)

    # -- faults ---------------------------------------------------------------------
    def kill(self, camera_id: str) -> None:
        """The camera's port refuses connections; its open sessions are closed."""
        self._control("kill", camera_id)

    def hang(self, camera_id: str) -> None:
        """Sockets stay open (new connections are not answered); no data flows."""
        self._control("hang", camera_id)

    def revive(self, camera_id: str) -> None:
        """Back to normal after kill or hang."""
        self._control("revive", camera_id)

    def set_mode(self, camera_id: str, mode: str) -> None:
        """Change the camera's picture (one of `MODES`: normal, black, frozen, blur, ...)."""
        if mode not in MODES:
            raise ValueError(f"camsim: unknown picture mode {mode!r}; known: {', '.join(MODES)}")
        self._control("mode", camera_id, mode)

    def sessions(self, camera_id: str) -> tuple[int, int]:
        """RTSP sessions the camera opened since the simulator started, and has open now
        (all its mounts): how many pulls a camera really sees."""
        opened, open_now = self._control("sessions", camera_id).split()
        return int(opened), int(open_now)

    def _control(self, verb: Fault, camera_id: str, arg: str = "") -> str:
        """Send one control line; returns what the `OK` answer adds after the line."""
        self._info(camera_id)
        line = f"{verb} {camera_id} {arg}".rstrip()
        with self._control_lock:
            proc = self._proc
            if proc is None or proc.stdin is None or proc.poll() is not None:
                raise CamSimError(f"camsim: cannot {line}: the server is not running")
            try:
                proc.stdin.write(line + "\n")
                proc.stdin.flush()
            except OSError as exc:
                raise CamSimError(f"camsim: cannot {line}: {exc}") from None
            deadline = time.monotonic() + self.control_timeout_s
            while True:
                try:
                    reply = self._replies.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    raise CamSimError(
                        f"camsim: no answer to {line!r} within {self.control_timeout_s:g} s"
                    ) from None
                if reply is None:
                    raise CamSimError(f"camsim: the server ended before answering {line!r}")
                if reply == f"OK {line}" or reply.startswith(f"OK {line} "):
                    return reply[len(f"OK {line}") :].strip()
                if reply.startswith(f"ERR {line}:"):
                    raise CamSimError(f"camsim: {reply}")
                # a late answer to an earlier command that timed out: skip it
