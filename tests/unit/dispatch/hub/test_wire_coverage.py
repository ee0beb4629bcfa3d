"""Every wire message a feature defines is served and understood: the assembled hub has a
handler for each request type, and the client decodes each reply and published type.
A feature that adds a message but forgets to register its handler (or to join the
client's unions) fails here, not with an `invalid` reply at run time."""

from __future__ import annotations

import importlib
import pkgutil
import typing
from collections.abc import Iterator
from pathlib import Path

import dispatch
from dispatch.client.wire import Published, Reply
from dispatch.domain.wire import WireMessage
from dispatch.hub.app import Hub
from dispatch.hub.config import HubConfig
from dispatch.hub.registry import request_tag


def _subclasses(cls: type[WireMessage]) -> Iterator[type[WireMessage]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def wire_types(suffix: str) -> dict[str, str]:
    """tag → class name of every message class of the feature packages named `…suffix`."""
    for mod in pkgutil.walk_packages(dispatch.__path__, "dispatch."):
        if mod.name.endswith(".messages"):
            importlib.import_module(mod.name)
    found = {}
    for cls in _subclasses(WireMessage):
        field = cls.model_fields.get("type")
        if cls.__name__.endswith(suffix) and field is not None and field.default:
            found[request_tag(cls)] = cls.__name__
    return found


def union_tags(union: object) -> set[str]:
    members = typing.get_args(typing.get_args(union)[0])
    return {request_tag(m) for m in members}


def test_the_hub_serves_every_request_type(tmp_path: Path) -> None:
    hub = Hub(HubConfig(db_url=f"sqlite:///{tmp_path / 'hall.db'}"))  # no I/O until start
    registered = hub.zmq.request_types
    assert len(registered) == len(set(registered))
    requests = wire_types("Request")
    assert {"ping", "login", "act", "dispatch", "mediation_open", "report"} <= set(requests)
    assert set(registered) == set(requests)


def test_the_client_decodes_every_reply_and_published_type() -> None:
    replies = wire_types("Reply")
    assert {"error", "ok", "pong", "snapshot_ok", "task_ok"} <= set(replies)
    assert union_tags(Reply) == set(replies)
    published = {**wire_types("Changed"), **wire_types("Heartbeat")}
    assert {"event_changed", "task_changed", "heartbeat"} <= set(published)
    assert union_tags(Published) == set(published)
