"""The envelope every typed zmq message between the hub and its clients shares.

Requests go DEALER → ROUTER as one frame; each carries a client-chosen request id
`rid` that the reply repeats. Changes go PUB → SUB as one frame. Every message is a
pydantic model with a `type` literal and a version `v`; decoding picks the model by
`type` (a discriminated union) and rejects anything else with `ProtocolError`.

This is the pure base of the wire, in `dispatch.domain` because every feature's
`messages` module builds on it and may import only the domain and cores: the message
base class, the version, `ErrorCode` with the generic `OkReply`/`ErrorReply`, the
errors a request can end in (`HubError`, `AuthError`) and the encode/decode helpers.
Each feature's own messages live in its `messages` module (`dispatch.events.messages`,
`dispatch.tasks.messages`, …), the hub-level ones (login, ping, heartbeat) in
`dispatch.hub.messages`. The requests are decoded by the zmq server's handler registry
(each feature registers its handlers through `HandlerRegistrar`, so a feature needs
nothing of the hub to do it); the reply/published unions are in `dispatch.client.wire`.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Literal, Protocol, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from dispatch.domain.strict import FROZEN

VERSION = 1
T = TypeVar("T")
Req = TypeVar("Req", bound=BaseModel)


class WireMessage(BaseModel):
    """Base of every zmq message: frozen, no unknown fields, version `v`."""

    model_config = FROZEN
    v: Literal[1] = 1


class ErrorCode(StrEnum):
    AUTH = "auth"  # wrong operator or password, or no/expired session
    FORBIDDEN = "forbidden"  # the role may not do this
    TRANSITION = "transition"  # the workflow does not allow the action in this state
    NOT_FOUND = "not_found"
    INVALID = "invalid"  # a malformed or invalid request
    CONFLICT = "conflict"
    INTERNAL = "internal"
    TIMEOUT = "timeout"  # client side: no reply in time
    THROTTLED = "throttled"  # too many failed attempts: wait (the message says how long)
    BUSY = "busy"  # the hub cannot take this now (e.g. the hashing pool is full): retry
    REFUSED = "refused"  # client side: the hub refused this workstation's key (CURVE)


class OkReply(WireMessage):
    type: Literal["ok"] = "ok"
    rid: str


class ErrorReply(WireMessage):
    type: Literal["error"] = "error"
    rid: str
    code: ErrorCode
    message: str
    retry_after_s: float = 0.0  # of `throttled` and `busy`: seconds to wait (0: unsaid)


class ProtocolError(Exception):
    """A frame that is not a valid message of this protocol."""


class HubError(Exception):
    """An error reply from the hub (or a client-side timeout), with its code."""

    def __init__(self, code: ErrorCode, message: str, *, retry_after_s: float = 0.0) -> None:
        super().__init__(f"{code.value}: {message}")
        self.code = code
        self.message = message
        self.retry_after_s = retry_after_s


class AuthError(HubError):
    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.AUTH, message)


def error_for(reply: ErrorReply) -> HubError:
    if reply.code is ErrorCode.AUTH:
        return AuthError(reply.message)
    return HubError(reply.code, reply.message, retry_after_s=reply.retry_after_s)


def encode(msg: BaseModel) -> bytes:
    return msg.model_dump_json().encode("utf-8")


def first_error(exc: ValidationError) -> str:
    """The first few validation errors of `exc`, one line."""
    errs = exc.errors()
    parts = []
    for e in errs[:3]:
        loc = ".".join(str(p) for p in e["loc"]) or "(message)"
        parts.append(f"{loc}: {e['msg']}")
    return "; ".join(parts)


def decode_with(adapter: TypeAdapter[T], frame: bytes) -> T:
    """`frame` decoded by `adapter` (a union of messages); `ProtocolError` if it is not one."""
    try:
        return adapter.validate_json(frame)
    except ValidationError as exc:
        raise ProtocolError(first_error(exc)) from None


def request_rid(frame: bytes) -> str:
    """Best-effort request id of a frame that failed to decode (for the error reply)."""
    try:
        obj = json.loads(frame)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return ""  # RecursionError: nested too deeply (hole 5), still answered
    rid = obj.get("rid") if isinstance(obj, dict) else None
    return rid if isinstance(rid, str) else ""


Handler = Callable[[Req], Awaitable[BaseModel | bytes]]


class HandlerRegistrar(Protocol):
    """Where a feature registers the async handler of each of its request types (the
    hub's `dispatch.hub.registry.HandlerRegistry`). A handler returns the reply, or its
    frame already encoded; it raises `HubError` for an error reply."""

    def register(self, kind: type[Req], handler: Handler[Req]) -> None: ...
