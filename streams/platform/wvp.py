"""A `PlatformSource` for the WVP-GB28181-pro REST API (aiohttp, time-outs, typed errors).

Calls (the API's documented shape): `GET /api/user/login?username=&password=<md5>` →
`data.accessToken`, sent as the `access-token` header; `GET /api/device/query/devices`
and `GET /api/device/query/devices/{deviceId}/channels` (pages: `page`, `count`);
`GET /api/play/start/{deviceId}/{channelId}` → `data.rtsp`, `data.flv`. A refused token
(401) logs in again once. URLs live `url_ttl_s` unless the answer carries `expire` seconds.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import aiohttp

from streams.platform import parse
from streams.platform.errors import PlatformAuthError, PlatformProtocolError, PlatformUnreachable
from streams.platform.models import Catalogue, Channel, Device, StreamUrls

PAGE = 200
MAX_PAGES = 1000  # 200,000 entries: a platform that pages forever is cut off


class WvpSource:
    def __init__(
        self,
        name: str,
        url: str,
        username: str,
        password: str,
        *,
        timeout_s: float = 10.0,
        url_ttl_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self._base = url.rstrip("/")
        self._user = username
        self._password_md5 = hashlib.md5(password.encode(), usedforsecurity=False).hexdigest()
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._ttl = url_ttl_s
        self._clock = clock
        self._session: aiohttp.ClientSession | None = None
        self._token: str | None = None

    async def start(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        self._token = None

    # -- HTTP ---------------------------------------------------------------------
    async def _get(self, path: str, params: dict[str, str], what: str) -> Any:
        if self._session is None:
            raise RuntimeError(f"{self.name}: not started (call start() first)")
        headers = {"access-token": self._token} if self._token else {}
        try:
            async with self._session.get(self._base + path, params=params, headers=headers) as resp:
                if resp.status >= 500:
                    raise PlatformUnreachable(f"{what}: HTTP {resp.status}", code=resp.status)
                if resp.status in parse.AUTH_CODES:
                    raise PlatformAuthError(f"{what}: HTTP {resp.status}", code=resp.status)
                try:
                    body = await resp.json(content_type=None)
                except ValueError as exc:
                    raise PlatformProtocolError(f"{what}: answer is not JSON: {exc}") from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            reason = type(exc).__name__ if isinstance(exc, TimeoutError) else str(exc)
            raise PlatformUnreachable(f"{what}: {reason or type(exc).__name__}") from None
        return parse.envelope_data(body, what)

    async def _login(self) -> None:
        self._token = None
        data = await self._get(
            "/api/user/login",
            {"username": self._user, "password": self._password_md5},
            f"{self.name}: login",
        )
        token = data.get("accessToken") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise PlatformProtocolError(f"{self.name}: login: no accessToken in the answer")
        self._token = token

    async def _call(self, path: str, params: dict[str, str], what: str) -> Any:
        """A call with the token; a refused token logs in again once."""
        if self._token is None:
            await self._login()
        try:
            return await self._get(path, params, what)
        except PlatformAuthError:
            await self._login()
            return await self._get(path, params, what)

    async def _pages(self, path: str, what: str) -> list[object]:
        entries: list[object] = []
        for page in range(1, MAX_PAGES + 1):
            data = await self._call(path, {"page": str(page), "count": str(PAGE)}, what)
            total, items = parse.page_list(data, what)
            entries.extend(items)
            if not items or len(entries) >= total:
                return entries
        raise PlatformProtocolError(f"{what}: more than {MAX_PAGES} pages")

    # -- PlatformSource -------------------------------------------------------------
    async def catalogue(self) -> Catalogue:
        skipped: list[str] = []
        devices: list[Device] = []
        for i, entry in enumerate(await self._pages("/api/device/query/devices", "devices")):
            try:
                devices.append(parse.device(entry))
            except ValueError as exc:
                skipped.append(f"device #{i}: {exc}")
        channels: list[Channel] = []
        for dev in devices:
            path = f"/api/device/query/devices/{quote(dev.id, safe='')}/channels"
            for i, entry in enumerate(await self._pages(path, f"channels of {dev.id}")):
                try:
                    channels.append(parse.channel(dev.id, entry))
                except ValueError as exc:
                    skipped.append(f"channel #{i} of {dev.id}: {exc}")
        return Catalogue(
            platform=self.name,
            devices=tuple(devices),
            channels=tuple(channels),
            read_at=time.time(),
            skipped=tuple(skipped),
        )

    async def play(self, device_id: str, channel_id: str) -> StreamUrls:
        path = f"/api/play/start/{quote(device_id, safe='')}/{quote(channel_id, safe='')}"
        what = f"{self.name}: play {device_id}/{channel_id}"
        data = await self._call(path, {}, what)
        rtsp, flv, ttl = parse.play_urls(data, what)
        return StreamUrls(rtsp=rtsp, flv=flv, expires_at=self._clock() + (ttl or self._ttl))
