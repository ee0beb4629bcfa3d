"""The zmq server's handler registry: each feature's request types, one handler each."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import BaseModel

from dispatch.domain.wire import OkReply, ProtocolError, encode
from dispatch.events.messages import TimelineRequest
from dispatch.hub.messages import LoginRequest, PingRequest, PongReply
from dispatch.hub.registry import HandlerRegistry, request_tag, rid_of


async def pong(req: PingRequest) -> PongReply:
    return PongReply(rid=req.rid, seq=7, hub_instance="h")


async def ok(req: TimelineRequest) -> OkReply:
    return OkReply(rid=req.rid)


def registry() -> HandlerRegistry:
    reg = HandlerRegistry()
    reg.register(PingRequest, pong)
    reg.register(TimelineRequest, ok)
    return reg


def test_a_frame_goes_to_the_handler_of_its_type() -> None:
    reg = registry()
    assert reg.types == ["ping", "timeline"]
    req = reg.decode(encode(TimelineRequest(rid="r2", token="t", event_id="e1")))
    assert isinstance(req, TimelineRequest) and rid_of(req) == "r2"
    assert asyncio.run(reg.handle(req)) == OkReply(rid="r2")
    ping = reg.decode(b'{"type":"ping","rid":"r1"}')
    assert asyncio.run(reg.handle(ping)) == PongReply(rid="r1", seq=7, hub_instance="h")


def test_a_type_nobody_registered_is_a_protocol_error() -> None:
    reg = registry()
    frame = encode(LoginRequest(rid="r3", operator="a", password="b", workstation="w"))
    with pytest.raises(ProtocolError, match="'login'"):
        reg.decode(frame)
    with pytest.raises(ProtocolError):
        reg.decode(b"not json")
    with pytest.raises(ProtocolError):
        reg.decode(b'{"type":"ping"}')  # no rid


def test_one_registered_type_still_checks_the_type() -> None:
    reg = HandlerRegistry()
    reg.register(PingRequest, pong)
    assert isinstance(reg.decode(b'{"type":"ping","rid":"1"}'), PingRequest)
    with pytest.raises(ProtocolError):
        reg.decode(b'{"type":"timeline","rid":"1","token":"t","event_id":"e"}')


def test_no_type_twice_and_none_after_serving_began() -> None:
    reg = registry()
    with pytest.raises(ValueError, match="twice"):
        reg.register(PingRequest, pong)
    reg.decode(b'{"type":"ping","rid":"1"}')
    with pytest.raises(RuntimeError):
        reg.register(LoginRequest, pong)  # type: ignore[arg-type]


def test_an_empty_registry_serves_nothing() -> None:
    with pytest.raises(ProtocolError):
        HandlerRegistry().decode(b'{"type":"ping","rid":"1"}')


def test_a_request_model_needs_a_type_literal() -> None:
    class Untyped(BaseModel):
        rid: str

    assert request_tag(PingRequest) == "ping"
    with pytest.raises(TypeError):
        request_tag(Untyped)
