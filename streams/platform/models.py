"""The catalogue and stream URLs as typed values (frozen: safe to share between tasks)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Device:
    id: str  # GB/T 28181 device id (20 digits on a real platform)
    name: str
    online: bool


@dataclass(frozen=True, slots=True)
class Channel:
    device_id: str
    id: str  # GB/T 28181 channel id
    name: str
    civil_code: str  # 行政区划代码 (GB/T 2260 + township/village digits), "" when unknown
    online: bool
    lon: float | None = None
    lat: float | None = None

    @property
    def key(self) -> str:
        """Unique in a platform: the channel id alone is not (two devices may reuse one)."""
        return f"{self.device_id}/{self.id}"


@dataclass(frozen=True, slots=True)
class Catalogue:
    platform: str
    devices: tuple[Device, ...]
    channels: tuple[Channel, ...]
    read_at: float  # wall clock (time.time()) when the read completed
    skipped: tuple[str, ...] = field(default=())  # entries dropped as malformed, with reasons


@dataclass(frozen=True, slots=True)
class StreamUrls:
    rtsp: str | None
    flv: str | None
    expires_at: float  # monotonic-clock seconds after which the URLs must be asked again

    def expired(self, now: float, margin_s: float = 0.0) -> bool:
        return now >= self.expires_at - margin_s
