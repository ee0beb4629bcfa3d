"""The console's hall peer in a process of its own, as the real console is one.

    python -m tests.kit.hall_peer

It starts and waits, as a running console does, for one `HallJoin` JSON line on stdin
(the answered roll call's watch URL and session, its ICE servers, the hub's CA), having
said so with a `HallCounts` line (`ready` false). Then a `StarClient` with the hall's
synthetic camera (320x240, 25 fps) and tone joins the call, counts the station's frames
it decodes, says `HallCounts` with `ready` once it has started, and answers each line
`count` on stdin with one `HallCounts` JSON line on stdout; `stop` or the end of stdin
stops it. The benchmark and the cross-network tests run it (in the county LAN namespace
with `Netns.exec_args`) so that the hall's camera, encoder and decoder do not share a
process, a GIL and an event loop with Playwright and the bench.
`HallPeer` is the parent's side.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

import av
from pydantic import BaseModel

from dispatch.domain.ice import IceInfo
from dispatch.hub.tls import client_context
from dispatch.hub.turn import plan_of
from streams.webrtc.client import StarClient
from streams.webrtc.config import SyntheticCamera, ToneSource, restrict_host_addresses

START_S = 45.0


class HallJoin(BaseModel):
    """Which call to join and how."""

    url: str  # the watch path on the hub's LAN URL
    session: str
    ice: IceInfo
    ca: str = ""  # the hub's CA certificate file (HTTPS); "" for plain HTTP
    keep_hosts: list[str] | None = None  # host candidates kept (None: all)


class HallCounts(BaseModel):
    """What the hall peer has done so far."""

    ready: bool = False
    made: int = 0  # frames its camera made
    video: int = 0  # station video frames decoded
    audio: int = 0  # station audio frames decoded


class _Counter:
    def __init__(self, camera: SyntheticCamera) -> None:
        self.camera = camera
        self.video = 0
        self.audio = 0

    def on_video(self, _mid: str, _frame: av.VideoFrame) -> None:
        self.video += 1

    def on_audio(self, _mid: str, _frame: av.AudioFrame) -> None:
        self.audio += 1

    def counts(self, ready: bool = True) -> HallCounts:
        return HallCounts(ready=ready, made=self.camera.made, video=self.video, audio=self.audio)


def _say(counts: HallCounts) -> None:
    sys.stdout.write(counts.model_dump_json() + "\n")
    sys.stdout.flush()


async def serve() -> None:
    _say(HallCounts())  # imported and waiting
    loop = asyncio.get_running_loop()
    line = await loop.run_in_executor(None, sys.stdin.readline)
    if not line.strip():
        return
    join = HallJoin.model_validate_json(line)
    restrict_host_addresses(join.keep_hosts)
    counter = _Counter(SyntheticCamera("HALL 县综治中心", 320, 240))
    star = StarClient(
        join.url,
        join.session,
        video=counter.camera,
        audio=ToneSource(),
        config=plan_of(join.ice).configuration(),
        slots=1,
        keep_hosts=join.keep_hosts,
        on_video=counter.on_video,
        on_audio=counter.on_audio,
        ssl_context=client_context([Path(join.ca)]) if join.ca else None,
    )
    await star.start()
    try:
        _say(counter.counts())
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if line.strip() != "count":
                break
            _say(counter.counts())
    finally:
        await star.stop()


def main() -> None:
    asyncio.run(serve())


COMMAND = (sys.executable, "-m", "tests.kit.hall_peer")


class HallPeer:
    """The parent's side: start the process (`start`, before the call: Python's imports
    are not part of joining), join the call (`join`), ask for its counts (`counts`), stop
    it (`stop`, safe twice). `command` runs `COMMAND` (in a namespace: `exec_args`)."""

    def __init__(self, command: Sequence[str] = COMMAND) -> None:
        self._command = list(command)
        self._proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        """Start the process and wait until it waits for its call (imports done)."""
        if self._proc is None:
            self._proc = await asyncio.create_subprocess_exec(
                *self._command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
            )
            await self._read()

    async def join(self, join: HallJoin) -> HallCounts:
        await self._send(join.model_dump_json())
        return await self._read()

    async def _send(self, line: str) -> None:
        proc = self._proc
        assert proc is not None and proc.stdin is not None, "HallPeer not started"
        proc.stdin.write(line.encode() + b"\n")
        await proc.stdin.drain()

    async def _read(self) -> HallCounts:
        proc = self._proc
        assert proc is not None and proc.stdout is not None, "HallPeer not started"
        line = await asyncio.wait_for(proc.stdout.readline(), START_S)
        if not line:
            raise RuntimeError(f"hall peer ended (exit {await proc.wait()})")
        return HallCounts.model_validate_json(line)

    async def counts(self) -> HallCounts:
        await self._send("count")
        return await self._read()

    async def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.stdin is not None and not proc.stdin.is_closing():
            proc.stdin.write(b"stop\n")
            proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), 15)
        except TimeoutError:
            proc.kill()
            await proc.wait()


if __name__ == "__main__":
    main()
