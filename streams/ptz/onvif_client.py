"""One camera's PTZ over ONVIF, with `onvif-zeep-async` (asyncio, aiohttp underneath).

Why this client: it is maintained (Home Assistant's ONVIF integration runs on it), it is
asyncio-native (the console's network thread is one asyncio loop: no thread per camera),
and it ships the ONVIF WSDLs, so nothing is fetched at run time. `onvif-zeep` (sync) is
abandoned. zeep does the SOAP and WS-Security UsernameToken digest.

`OnvifPtz` does no I/O until `connect()`; every call is bounded by `timeout_s` and any
failure becomes a `PtzError` whose kind says what happened (wrong credentials, camera
unreachable, timeout, refused command, not a PTZ camera), never a zeep or aiohttp
exception. `close()` is safe twice.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import aiohttp
from onvif import ONVIFCamera
from onvif.exceptions import (
    ONVIFAuthError,
    ONVIFError,
    ONVIFTimeoutError,
)
from zeep.exceptions import Fault, TransportError

from streams.ptz.types import OnvifAccess, Preset, PtzError, PtzErrorKind, PtzStatus, Vector

T = TypeVar("T")
AUTH_WORDS = ("notauthorized", "not authorized", "unauthorized", "authority failure")


def _fault_text(exc: Fault) -> str:
    subcodes = " ".join(str(getattr(c, "localname", c)) for c in (exc.subcodes or []))
    return f"{exc.message or ''} {subcodes}".strip()


def classify(exc: BaseException) -> PtzError:
    """The `PtzError` for an exception out of zeep, aiohttp or onvif."""
    if isinstance(exc, PtzError):
        return exc
    if isinstance(exc, Fault):
        text = _fault_text(exc)
        if any(w in text.lower() for w in AUTH_WORDS):
            return PtzError(
                PtzErrorKind.AUTH, f"用户名或密码错误 / wrong ONVIF credentials ({text})"
            )
        return PtzError(PtzErrorKind.REFUSED, f"摄像机拒绝该命令 / the camera refused: {text}")
    if isinstance(exc, TransportError) and exc.status_code in (401, 403):
        return PtzError(
            PtzErrorKind.AUTH,
            f"用户名或密码错误 / wrong ONVIF credentials (HTTP {exc.status_code})",
        )
    if isinstance(exc, ONVIFAuthError):
        return PtzError(PtzErrorKind.AUTH, f"用户名或密码错误 / wrong ONVIF credentials ({exc})")
    if isinstance(exc, (ONVIFTimeoutError, asyncio.TimeoutError, TimeoutError)):
        return PtzError(PtzErrorKind.TIMEOUT, "摄像机无响应 / the camera did not answer in time")
    if isinstance(exc, (aiohttp.ClientConnectionError, ConnectionError, OSError)):
        return PtzError(PtzErrorKind.UNREACHABLE, f"无法连接摄像机 / camera unreachable: {exc}")
    cause = exc.__cause__ or exc.__context__
    if isinstance(exc, ONVIFError) and cause is not None and cause is not exc:
        return classify(cause)
    return PtzError(PtzErrorKind.PROTOCOL, f"无法识别摄像机的应答 / unreadable answer: {exc}")


def _vector(ptz_vector: Any) -> Vector:
    if ptz_vector is None:
        return Vector()
    pt, z = getattr(ptz_vector, "PanTilt", None), getattr(ptz_vector, "Zoom", None)
    return Vector(
        float(pt.x) if pt is not None and pt.x is not None else 0.0,
        float(pt.y) if pt is not None and pt.y is not None else 0.0,
        float(z.x) if z is not None and z.x is not None else 0.0,
    )


def _speed(v: Vector) -> dict[str, Any]:
    return {"PanTilt": {"x": v.pan, "y": v.tilt}, "Zoom": {"x": v.zoom}}


class OnvifPtz:
    """PTZ of one camera. `connect()` finds its PTZ profile; the rest move it."""

    def __init__(self, access: OnvifAccess, *, timeout_s: float = 5.0) -> None:
        self.access = access
        self.timeout_s = timeout_s
        self.profile = ""
        self.stream_uri = ""
        self._camera: Any = None
        self._ptz: Any = None
        self._media: Any = None

    @property
    def connected(self) -> bool:
        return self._ptz is not None

    async def _bounded(self, what: Callable[[], Awaitable[T]]) -> T:
        try:
            return await asyncio.wait_for(what(), self.timeout_s)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise classify(exc) from exc

    async def connect(self) -> None:
        """Reach the device, check the credentials, find the PTZ profile. Safe twice."""
        if self._ptz is not None:
            return
        parts = urlsplit(self.access.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise PtzError(
                PtzErrorKind.PROTOCOL, f"不是 ONVIF 地址 / not an ONVIF URL: {self.access.url!r}"
            )
        host = f"{parts.scheme}://{parts.hostname}" if parts.scheme == "https" else parts.hostname
        port = parts.port or (443 if parts.scheme == "https" else 80)
        camera = ONVIFCamera(host, port, self.access.username, self.access.password, no_cache=True)
        self._camera = camera
        try:
            await self._bounded(camera.update_xaddrs)
            media = await self._bounded(camera.create_media_service)
            try:
                ptz = await camera.create_ptz_service()
            except ONVIFError as exc:
                raise PtzError(
                    PtzErrorKind.NOT_PTZ, f"该设备没有云台服务 / no PTZ service: {exc}"
                ) from exc
            profiles = await self._bounded(media.GetProfiles)
            with_ptz = [p for p in profiles if getattr(p, "PTZConfiguration", None) is not None]
            if not with_ptz:
                raise PtzError(PtzErrorKind.NOT_PTZ, "该设备没有云台配置 / no profile with PTZ")
            self.profile = str(with_ptz[0].token)
            self._media, self._ptz = media, ptz
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        camera, self._camera = self._camera, None
        self._ptz = self._media = None
        if camera is not None:
            with contextlib.suppress(Exception):  # a half-open client: nothing to keep
                await camera.close()

    def _call(self, op: str, params: dict[str, Any]) -> Callable[[], Awaitable[Any]]:
        if self._ptz is None:
            raise PtzError(PtzErrorKind.UNREACHABLE, "尚未连接摄像机 / not connected")
        service = self._ptz

        async def run() -> Any:
            return await getattr(service, op)({"ProfileToken": self.profile, **params})

        return run

    async def move(self, speed: Vector, timeout_s: float | None = None) -> None:
        """ContinuousMove at `speed` (each -1..1) until `stop()` (or the timeout)."""
        params: dict[str, Any] = {"Velocity": _speed(speed)}
        if timeout_s:
            params["Timeout"] = f"PT{timeout_s:g}S"
        await self._bounded(self._call("ContinuousMove", params))

    async def stop(self) -> None:
        await self._bounded(self._call("Stop", {"PanTilt": True, "Zoom": True}))

    async def absolute(self, position: Vector) -> None:
        await self._bounded(self._call("AbsoluteMove", {"Position": _speed(position)}))

    async def presets(self) -> list[Preset]:
        rows = await self._bounded(self._call("GetPresets", {}))
        return [
            Preset(str(p.token), str(p.Name or ""), _vector(getattr(p, "PTZPosition", None)))
            for p in rows or []
        ]

    async def goto_preset(self, token: str) -> None:
        await self._bounded(self._call("GotoPreset", {"PresetToken": token}))

    async def set_preset(self, name: str, token: str | None = None) -> str:
        """Store the current position as a preset named `name`; its token."""
        params: dict[str, Any] = {"PresetName": name}
        if token:
            params["PresetToken"] = token
        return str(await self._bounded(self._call("SetPreset", params)))

    async def status(self) -> PtzStatus:
        st = await self._bounded(self._call("GetStatus", {}))
        move = getattr(st, "MoveStatus", None)
        moving = move is not None and "MOVING" in (str(move.PanTilt), str(move.Zoom))
        return PtzStatus(_vector(getattr(st, "Position", None)), moving)
