"""Tolerant parsing of WVP-GB28181-pro JSON answers, with clear errors (pure, no I/O).

Every answer is an envelope `{"code": 0, "msg": "...", "data": ...}`; code 0 is success.
Lists are pages `{"total": N, "list": [...]}`. A malformed list entry is skipped with a
reason (the rest of the catalogue is kept); a malformed envelope raises.
"""

from __future__ import annotations

from typing import Any

from streams.platform.errors import PlatformAuthError, PlatformError, PlatformProtocolError
from streams.platform.models import Channel, Device

AUTH_CODES = frozenset({401, 403})


def envelope_data(body: object, what: str) -> Any:
    """The `data` of a success envelope; the platform's error as a typed exception."""
    if not isinstance(body, dict) or "code" not in body:
        raise PlatformProtocolError(f"{what}: answer is not a {{code, msg, data}} envelope")
    code = body["code"]
    if not isinstance(code, int) or isinstance(code, bool):
        raise PlatformProtocolError(f"{what}: code is not an integer: {code!r:.40}")
    if code != 0:
        msg = str(body.get("msg", ""))[:200]
        cls = PlatformAuthError if code in AUTH_CODES else PlatformError
        raise cls(f"{what}: platform error {code}: {msg}", code=code)
    return body.get("data")


def page_list(data: object, what: str) -> tuple[int, list[object]]:
    if not isinstance(data, dict) or not isinstance(data.get("list"), list):
        raise PlatformProtocolError(f"{what}: data is not a {{total, list}} page")
    total = data.get("total", 0)
    if not isinstance(total, int) or isinstance(total, bool) or total < 0:
        raise PlatformProtocolError(f"{what}: total is not a count: {total!r:.40}")
    return total, list(data["list"])


def _str(entry: dict[str, Any], key: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key} missing or not a string")
    return value


def _online(value: object) -> bool:
    """WVP has sent `true`, `1` and `"ON"` for online across versions."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value == 1
    if isinstance(value, str):
        return value.strip().upper() in ("ON", "ONLINE", "1", "TRUE")
    return False


def _coord(value: object, low: float, high: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        f = float(value)
    except ValueError:
        return None
    return f if low <= f <= high and f != 0.0 else None


def device(entry: object) -> Device:
    if not isinstance(entry, dict):
        raise ValueError("device entry is not an object")
    did = _str(entry, "deviceId")
    return Device(id=did, name=str(entry.get("name") or did), online=_online(entry.get("onLine")))


def channel(device_id: str, entry: object) -> Channel:
    if not isinstance(entry, dict):
        raise ValueError("channel entry is not an object")
    cid = _str(entry, "channelId")
    civil = entry.get("civilCode")
    return Channel(
        device_id=device_id,
        id=cid,
        name=str(entry.get("name") or cid),
        civil_code=civil.strip() if isinstance(civil, str) else "",
        online=_online(entry.get("status")),
        lon=_coord(entry.get("longitude"), -180.0, 180.0),
        lat=_coord(entry.get("latitude"), -90.0, 90.0),
    )


def play_urls(data: object, what: str) -> tuple[str | None, str | None, float | None]:
    """(rtsp, flv, expire seconds or None) of a play answer; at least one URL required."""
    if not isinstance(data, dict):
        raise PlatformProtocolError(f"{what}: data is not an object")
    rtsp = data.get("rtsp")
    flv = data.get("flv")
    rtsp = rtsp if isinstance(rtsp, str) and rtsp.startswith(("rtsp://", "rtsps://")) else None
    flv = flv if isinstance(flv, str) and flv.startswith(("http://", "https://")) else None
    if rtsp is None and flv is None:
        raise PlatformProtocolError(f"{what}: no rtsp or flv URL in the answer")
    expire = data.get("expire")
    ttl = (
        float(expire) if isinstance(expire, int | float) and not isinstance(expire, bool) else None
    )
    return rtsp, flv, ttl if ttl is not None and ttl > 0 else None
