"""Helpers shared by the roll-call tests and `tests/bench/rollcall.py` (no tests here): a
small site, a hub process with WebRTC kept on loopback, the console's client, a
lightweight duty station (aiohttp WebSocket + an aiortc peer with a synthetic camera),
and for the panel tests the whole hall side (`hall`: hub, network thread, client,
stations) with `pump`, which runs Qt's events until a condition holds."""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import aiohttp
import av
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from PySide6.QtWidgets import QTableWidget

from console.kit.net import NetThread, QtBridge
from console.rollcall.controller import RollcallController
from console.rollcall.model import RollcallModel
from console.rollcall.view import RollcallPanel
from dispatch.client.connection import HubClient
from dispatch.hub.process import HubProcess
from dispatch.hub.tls import NEEDS_CLEANUP_CLOSED
from streams.webrtc.config import (
    SyntheticCamera,
    ToneSource,
    keep_candidates,
    restrict_host_addresses,
    rtc_configuration,
)
from tests.kit import async_wait_until, pump_until
from tests.kit.hub import client_keys

LOOPBACK = ["127.0.0.1"]
WAIT_S = 30.0
Mode = Literal["answer", "decline", "ignore"]


def write_site(path: Path, townships: int, villages_per_township: int) -> Path:
    """A site TOML with `townships` townships of `villages_per_township` villages each."""
    lines = ['name = "测试县综治中心"', ""]
    for t in range(1, townships + 1):
        lines += ["[[townships]]", f'id = "t{t:02d}"', f'name = "第{t}镇"', ""]
    for t in range(1, townships + 1):
        for v in range(1, villages_per_township + 1):
            lines += [
                "[[villages]]",
                f'id = "t{t:02d}v{v:02d}"',
                f'name = "第{t}镇{v}村"',
                f'township = "t{t:02d}"',
                "",
            ]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def rollcall_hub(tmp: Path, site: Path, *, tls: bool = True) -> HubProcess:
    """The roll-call hub, not started; `tls=False`: its pages over plain HTTP
    (`--tls off`), which is not a secure context when opened by a host name."""
    return HubProcess(
        f"sqlite:///{tmp / 'hall.db'}",
        site=site,
        demo=True,
        extra_args=["--webrtc-host", "127.0.0.1", *([] if tls else ["--tls", "off"])],
    )


async def logged_in(hub: HubProcess, request_timeout_s: float = 60.0) -> HubClient:
    """The console's hub client, started and logged in as the duty officer (stop it)."""
    c = HubClient(
        hub.req_endpoint,
        hub.pub_endpoint,
        keys=client_keys(hub),
        workstation="hall-1",
        on_change=lambda ch: None,
        on_connection=lambda st: None,
        request_timeout_s=request_timeout_s,
    )
    await c.start()
    try:
        await c.login("duty", "duty123")
    except BaseException:
        await c.stop()
        raise
    return c


@asynccontextmanager
async def console(hub: HubProcess) -> AsyncIterator[HubClient]:
    c = await logged_in(hub)
    try:
        yield c
    finally:
        await c.stop()


def always(mode: Mode) -> Callable[[int], Mode]:
    """A station's decision for every ring."""
    return lambda _i: mode


@dataclass
class Hall:
    """The hall side of a panel test: the hub, the console's network thread and its
    logged-in client, and the stations opened so far (stopped when `hall` ends)."""

    hub: HubProcess
    net: NetThread
    client: HubClient
    stations: list[Station] = field(default_factory=list)

    def open_stations(self, modes: dict[str, Mode], **station: Any) -> list[Station]:
        """Issue each centre's station link and start a `Station` on it (in this order);
        `station` is passed to `Station` (`size`, `full`, ...)."""

        async def run() -> list[Station]:
            opened: list[Station] = []
            for cid, mode in modes.items():
                link = await self.client.rollcall.station_link(centre_id=cid)
                s = Station(
                    self.hub.http_url,
                    link.path,
                    link.pin,
                    always(mode),
                    ssl_context=self.hub.ssl_context(),
                    **station,
                )
                await s.start()
                self.stations.append(s)
                opened.append(s)
            return opened

        return self.net.submit(run()).result(60)


@contextmanager
def hall(tmp: Path, townships: int, villages_per_township: int) -> Iterator[Hall]:
    """A roll-call hub on a site of this size (WebRTC on loopback), a running `NetThread`
    and the duty officer's client on it; stations, thread and hub are stopped after."""
    restrict_host_addresses(LOOPBACK)
    hub = rollcall_hub(tmp, write_site(tmp / "site.toml", townships, villages_per_township))
    hub.start()
    net = NetThread()
    net.start()
    stations: list[Station] = []
    try:
        client = net.submit(logged_in(hub, request_timeout_s=30)).result(30)
        yield Hall(hub, net, client, stations)
    finally:
        for s in stations:
            net.submit(s.stop()).result(30)
        net.stop()
        hub.stop()


def pump(cond: Callable[[], bool], timeout_s: float = 60.0, what: str = "") -> None:
    """Run Qt's events until `cond()` holds (the kit's `pump_until`, a minute by default)."""
    pump_until(cond, timeout_s, interval=0.02, what=what)


def rollcall_panel(
    client: HubClient, net: NetThread, bridge: QtBridge, **kw: Any
) -> tuple[RollcallPanel, RollcallController]:
    """The panel on its model, fed by a controller over `client` (`kw`: its options)."""
    model = RollcallModel()
    ctl = RollcallController(lambda: client, net, bridge, model, **kw)
    return RollcallPanel(model, ctl, ctl.call), ctl


def cells(table: QTableWidget, col: int) -> list[str]:
    """The texts of one column (an empty cell is "")."""
    texts = []
    for r in range(table.rowCount()):
        item = table.item(r, col)
        texts.append(item.text() if item is not None else "")
    return texts


async def until(pred: Callable[[], Any], timeout_s: float = WAIT_S, what: str = "") -> None:
    """The kit's `async_wait_until` with this suite's default wait."""
    await async_wait_until(pred, timeout_s, interval=0.1, what=what)


class Station:
    """A duty station without a browser: logs in with its PIN, keeps the presence socket
    open, and on `ring` answers (WebSocket `answer` + an aiortc offer with a synthetic
    camera), declines or ignores, as `decide(attempt_index)` says. With `full=True` it
    also sends a tone and receives the hall (one recvonly video+audio pair), counting
    the hall's frames in `received` ("video" / "audio") and its pushes in `messages`."""

    def __init__(
        self,
        base_url: str,
        path: str,
        pin: str,
        decide: Callable[[int], Mode],
        *,
        media: bool = True,
        size: tuple[int, int] = (640, 480),
        full: bool = False,
        ssl_context: ssl.SSLContext | None = None,
        ice: RTCConfiguration | None = None,
    ) -> None:
        self.base = base_url + path
        self.ice = ice  # its peer's ICE servers (default: none, host candidates only)
        self.pin = pin
        self.decide = decide
        self.media = media
        self.size = size
        self.rings = 0
        self.setup_ms: list[float] = []  # ring received → answer (201) received
        self.hello = asyncio.Event()
        self._http: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        self._pcs: list[RTCPeerConnection] = []
        self.full = full
        self.ssl_context = ssl_context  # trusts the hub's CA
        self.received: dict[str, int] = {"video": 0, "audio": 0}
        self.messages: list[dict[str, Any]] = []
        self.errors: list[str] = []  # why its presence socket ended, each time
        self._pulls: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        if self._http is not None:
            return
        connector = aiohttp.TCPConnector(
            ssl=self.ssl_context or True, enable_cleanup_closed=NEEDS_CLEANUP_CLOSED
        )
        self._http = aiohttp.ClientSession(connector=connector)
        async with self._http.post(
            self.base + "/login", data={"pin": self.pin}, allow_redirects=False
        ) as r:
            if r.status != 303:
                raise RuntimeError(f"station login failed: {r.status} {await r.text()}")
            cookie = r.cookies["hall_s"].value
        self._http.headers["Authorization"] = f"Bearer {cookie}"
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._http is None:
            return
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        for pc in self._pcs:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(pc.close(), 5)
        for t in list(self._pulls):
            t.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        http, self._http = self._http, None
        await http.close()

    async def _loop(self) -> None:
        assert self._http is not None
        while True:
            try:
                async with self._http.ws_connect(self.base + "/ws", heartbeat=5) as ws:
                    async for msg in ws:
                        if msg.type != aiohttp.WSMsgType.TEXT:
                            continue
                        m = json.loads(msg.data)
                        self.messages.append(m)
                        if m["type"] == "hello":
                            self.hello.set()
                        elif m["type"] == "ring":
                            await self._ring(ws, m)
                        elif m["type"] == "hangup":
                            for pc in self._pcs:
                                await pc.close()
                            self._pcs.clear()
            except Exception as exc:  # the page keeps trying whatever failed
                # (a timed-out reconnect, a refused offer): so does this station, noting why
                self.errors.append(f"{type(exc).__name__}: {exc}")
            self.hello.clear()
            await asyncio.sleep(0.5)

    async def _pull(self, track: MediaStreamTrack) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            kind = "video" if isinstance(frame, av.VideoFrame) else "audio"
            self.received[kind] += 1

    async def _ring(self, ws: aiohttp.ClientWebSocketResponse, m: dict[str, Any]) -> None:
        t0 = time.perf_counter()
        mode = self.decide(self.rings)
        self.rings += 1
        if mode == "ignore":
            return
        await ws.send_str(json.dumps({"type": mode, "call_id": m["call_id"]}))
        if mode == "decline" or not self.media:
            if mode == "answer":
                self.setup_ms.append((time.perf_counter() - t0) * 1000)
            return
        assert self._http is not None
        pc = RTCPeerConnection(self.ice or rtc_configuration([]))
        self._pcs.append(pc)
        pc.addTransceiver(SyntheticCamera("STATION", *self.size), direction="sendonly")
        if self.full:
            pc.addTransceiver(ToneSource(330.0), direction="sendonly")
            pc.addTransceiver("video", direction="recvonly")
            pc.addTransceiver("audio", direction="recvonly")

            @pc.on("track")
            def on_track(track: MediaStreamTrack) -> None:
                t = asyncio.ensure_future(self._pull(track))
                self._pulls.add(t)
                t.add_done_callback(self._pulls.discard)

        await pc.setLocalDescription(await pc.createOffer())
        sdp = keep_candidates(pc.localDescription.sdp, LOOPBACK)
        async with self._http.post(
            f"{self.base}/offer?call={m['call_id']}",
            data=sdp,
            headers={"Content-Type": "application/sdp"},
        ) as r:
            answer = await r.text()
            if r.status != 201:
                raise RuntimeError(f"offer refused: {r.status} {answer}")
        await pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))
        self.setup_ms.append((time.perf_counter() - t0) * 1000)
