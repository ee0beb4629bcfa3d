"""A small WVP-GB28181-pro platform server for tests: a real aiohttp HTTP server on a free
loopback port with the API's JSON shapes and errors, handing out camsim RTSP URLs that
expire (`expire` seconds in the play answer). `down()` closes its port; `up()` reopens it.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import threading
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

USER = "admin"
PASSWORD = "wvp-test"


@dataclass
class KitChannel:
    device_id: str
    channel_id: str
    name: str
    civil_code: str
    online: bool = True


@dataclass
class PlatformServer:
    channels: list[KitChannel]
    rtsp_urls: list[str]  # channel i plays rtsp_urls[i % len]
    expire_s: float = 60.0
    plays: list[str] = field(default_factory=list)  # "<device>/<channel>" per play request
    logins: int = 0
    raw_channels: list[object] = field(default_factory=list)  # appended to every device's list
    html: bool = False  # every answer is an HTML error page (a proxy in front, misconfigured)
    rotate: bool = False  # each play of a channel answers the next URL (a new stream each)
    _tokens: set[str] = field(default_factory=set)
    _runner: web.AppRunner | None = None
    _port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    async def up(self) -> None:
        if self._runner is not None:
            return
        app = web.Application(middlewares=[self._front])
        app.router.add_get("/api/user/login", self._login)
        app.router.add_get("/api/device/query/devices", self._devices)
        app.router.add_get("/api/device/query/devices/{device}/channels", self._channels)
        app.router.add_get("/api/play/start/{device}/{channel}", self._play)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self._port)
        await site.start()
        if not self._port:
            self._port = int(self._runner.addresses[0][1])

    async def down(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    def expire_tokens(self) -> None:
        """Every token is refused from now on (the client must log in again)."""
        self._tokens.clear()

    # -- handlers -----------------------------------------------------------------
    @staticmethod
    def _ok(data: object) -> web.Response:
        return web.json_response({"code": 0, "msg": "成功", "data": data})

    @staticmethod
    def _err(code: int, msg: str) -> web.Response:
        return web.json_response({"code": code, "msg": msg, "data": None})

    def _authed(self, request: web.Request) -> bool:
        return request.headers.get("access-token", "") in self._tokens

    @web.middleware
    async def _front(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self.html:
            return web.Response(text="<html>502 Bad Gateway</html>", content_type="text/html")
        return await handler(request)

    async def _login(self, request: web.Request) -> web.Response:
        md5 = hashlib.md5(PASSWORD.encode(), usedforsecurity=False).hexdigest()
        if request.query.get("username") != USER or request.query.get("password") != md5:
            return self._err(-1, "用户名或密码错误")
        token = secrets.token_hex(16)
        self._tokens.add(token)
        self.logins += 1
        return self._ok({"accessToken": token, "username": USER})

    @staticmethod
    def _page(request: web.Request, items: Sequence[object]) -> dict[str, object]:
        page = max(1, int(request.query.get("page", "1")))
        count = max(1, min(1000, int(request.query.get("count", "15"))))
        return {"total": len(items), "list": items[(page - 1) * count : page * count]}

    async def _devices(self, request: web.Request) -> web.Response:
        if not self._authed(request):
            return web.json_response({"code": 401, "msg": "请登录后重新请求"}, status=401)
        ids = list(dict.fromkeys(c.device_id for c in self.channels))
        items: list[dict[str, object]] = [
            {"deviceId": d, "name": f"NVR {d[-4:]}", "onLine": True} for d in ids
        ]
        return self._ok(self._page(request, items))

    async def _channels(self, request: web.Request) -> web.Response:
        if not self._authed(request):
            return web.json_response({"code": 401, "msg": "请登录后重新请求"}, status=401)
        dev = request.match_info["device"]
        items: list[object] = [
            {
                "channelId": c.channel_id,
                "deviceId": c.device_id,
                "name": c.name,
                "civilCode": c.civil_code,
                "status": 1 if c.online else 0,
                "longitude": 0,
                "latitude": 0,
            }
            for c in self.channels
            if c.device_id == dev
        ]
        items += self.raw_channels
        return self._ok(self._page(request, items))

    async def _play(self, request: web.Request) -> web.Response:
        if not self._authed(request):
            return web.json_response({"code": 401, "msg": "请登录后重新请求"}, status=401)
        dev, ch = request.match_info["device"], request.match_info["channel"]
        index = next(
            (i for i, c in enumerate(self.channels) if (c.device_id, c.channel_id) == (dev, ch)),
            None,
        )
        if index is None:
            return self._err(100, f"通道不存在: {ch}")
        key = f"{dev}/{ch}"
        turn = self.plays.count(key) if self.rotate else 0
        self.plays.append(key)
        rtsp = self.rtsp_urls[(index + turn) % len(self.rtsp_urls)]
        stream = f"{dev}_{ch}"
        flv = f"{self.url}/rtp/{stream}.live.flv"
        return self._ok(
            {"app": "rtp", "stream": stream, "rtsp": rtsp, "flv": flv, "expire": self.expire_s}
        )


def county_channels(n: int, townships: int, villages_per_town: int) -> list[KitChannel]:
    """n channels over devices of 50, civil codes spread over the townships' villages."""
    out: list[KitChannel] = []
    for i in range(n):
        t, v = i % townships, (i // townships) % villages_per_town
        civil = f"330521{t + 1:03d}{v + 1:03d}"
        dev = f"3405210000118{i // 50:07d}"
        out.append(KitChannel(dev, f"3405210000131{i:07d}", f"监控点{i + 1:04d}", civil))
    return out


class ThreadedPlatform:
    """A `PlatformServer` on an event loop of its own thread (for a hub in another process)."""

    def __init__(self, server: PlatformServer) -> None:
        self.server = server
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def run(self, coro: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=30)

    def __enter__(self) -> PlatformServer:
        self._thread.start()
        self.run(self.server.up())
        return self.server

    def __exit__(self, *exc: object) -> None:
        self.run(self.server.down())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
