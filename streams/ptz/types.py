"""Plain values of PTZ: a speed or position vector, a preset, a camera's ONVIF access."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class PtzErrorKind(StrEnum):
    AUTH = "auth"  # wrong user name or password (ter:NotAuthorized)
    UNREACHABLE = "unreachable"  # refused, reset, no route
    TIMEOUT = "timeout"  # no answer in time
    REFUSED = "refused"  # the camera refused the command (unknown preset, bad value)
    NOT_PTZ = "not_ptz"  # the device has no PTZ service or no PTZ profile
    PROTOCOL = "protocol"  # an answer we cannot read


class PtzError(Exception):
    """A PTZ call that failed; `kind` says what a person should do about it."""

    def __init__(self, kind: PtzErrorKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(frozen=True, slots=True)
class Vector:
    """Pan and tilt in -1..1 (pan +1 right, tilt +1 up), zoom in -1..1 as a speed
    (0..1 as a position)."""

    pan: float = 0.0
    tilt: float = 0.0
    zoom: float = 0.0

    @property
    def still(self) -> bool:
        return self.pan == 0.0 and self.tilt == 0.0 and self.zoom == 0.0


@dataclass(frozen=True, slots=True)
class Preset:
    token: str
    name: str
    position: Vector | None = None


@dataclass(frozen=True, slots=True)
class PtzStatus:
    position: Vector
    moving: bool


@dataclass(frozen=True, slots=True)
class OnvifAccess:
    """Where and how to reach a camera's ONVIF device service."""

    camera_id: str
    url: str  # http://host:port/onvif/device_service
    username: str = ""
    password: str = ""
