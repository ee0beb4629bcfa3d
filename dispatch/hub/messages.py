"""Hub-level zmq messages: a console's session (login, logout), its ICE servers (in the
login reply, refreshed with `IceRequest` before they expire), liveness (ping, the
published heartbeat). Built on the shared envelope of `dispatch.domain.wire`; each
feature's messages are in its own `messages` module.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from dispatch.domain.ice import IceInfo
from dispatch.domain.model import Role
from dispatch.domain.wire import WireMessage

# -- requests (client → hub) -----------------------------------------------------------


class LoginRequest(WireMessage):
    type: Literal["login"] = "login"
    rid: str
    operator: str = Field(min_length=1, max_length=64)
    password: str = Field(max_length=1024)
    workstation: str = Field(min_length=1, max_length=64)


class LogoutRequest(WireMessage):
    type: Literal["logout"] = "logout"
    rid: str
    token: str


class PingRequest(WireMessage):
    type: Literal["ping"] = "ping"
    rid: str


class IceRequest(WireMessage):
    """Fresh ICE servers (new TURN credentials) for this console's media."""

    type: Literal["ice"] = "ice"
    rid: str
    token: str


# -- replies (hub → client) ------------------------------------------------------------


class LoginReply(WireMessage):
    type: Literal["login_ok"] = "login_ok"
    rid: str
    token: str
    operator: str
    role: Role
    workstation: str
    hub_instance: str
    ice: IceInfo = Field(default_factory=IceInfo)
    public_url: str = Field(
        default="",
        max_length=2048,
        description="the hub's public HTTPS base URL: every link the console builds starts with it",
    )


class IceReply(WireMessage):
    type: Literal["ice_ok"] = "ice_ok"
    rid: str
    ice: IceInfo


class PongReply(WireMessage):
    type: Literal["pong"] = "pong"
    rid: str
    seq: int
    hub_instance: str


# -- published (hub → all) -------------------------------------------------------------


StorageState = Literal["ok", "disk_full", "db_unreachable"]


class Heartbeat(WireMessage):
    """Published about once a second; `seq` is the hub's last published seq; `storage`
    the state of its store (`dispatch.hub.storage`: not ok, the hub takes no writes)."""

    type: Literal["heartbeat"] = "heartbeat"
    seq: int
    at: AwareDatetime
    hub_instance: str
    storage: StorageState = "ok"
    storage_since: AwareDatetime | None = None
