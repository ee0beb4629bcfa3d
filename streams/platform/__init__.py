"""Cameras from a video platform's catalogue (docs/platform.md).

A platform (the public-security video platform, GB/T 28181 behind it) shares its cameras as
a catalogue of devices and channels and hands out stream URLs per request, which expire.
`PlatformSource` is the interface; `WvpSource` speaks the WVP-GB28181-pro REST API.
"""

from streams.platform.errors import (
    PlatformAuthError,
    PlatformError,
    PlatformProtocolError,
    PlatformUnreachable,
)
from streams.platform.models import Catalogue, Channel, Device, StreamUrls
from streams.platform.source import PlatformSource
from streams.platform.wvp import WvpSource

__all__ = [
    "Catalogue",
    "Channel",
    "Device",
    "PlatformAuthError",
    "PlatformError",
    "PlatformProtocolError",
    "PlatformSource",
    "PlatformUnreachable",
    "StreamUrls",
    "WvpSource",
]
