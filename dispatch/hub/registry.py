"""The zmq server's handler registry: request type → async handler.

Each feature registers the handlers of its own request types when the hub is assembled
(its `handlers` module: e.g. `TaskHandlers(service, dispatch).register(registry)`,
through the `HandlerRegistrar` protocol of `dispatch.domain.wire`, so a feature imports
nothing of the hub for it). The registry then decodes a request frame with the union
of the registered types (a discriminated union on `type`, so a type nobody registered
is a `ProtocolError`, answered with a typed `invalid` error) and hands it to its
handler. Registration closes when the first frame is decoded.
"""

from __future__ import annotations

import typing
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from pydantic import BaseModel, Field, TypeAdapter

from dispatch.domain.strict import ADAPTER
from dispatch.domain.wire import Handler, ProtocolError, Req, decode_with


def request_tag(kind: type[BaseModel]) -> str:
    """The `type` literal of a request model (its discriminator value)."""
    field = kind.model_fields.get("type")
    tag = field.default if field is not None else None
    if not isinstance(tag, str) or not tag:
        raise TypeError(f"{kind.__name__} has no `type` literal with a default")
    return tag


def _union_adapter(kinds: list[type[BaseModel]]) -> TypeAdapter[Any]:
    if len(kinds) == 1:
        return TypeAdapter(kinds[0])
    union: Any = typing.Union.__getitem__(tuple(kinds))  # a union built at run time
    tagged: Any = Annotated[union, Field(discriminator="type")]
    return TypeAdapter(tagged, config=ADAPTER)


class HandlerRegistry:
    """Request type → async handler, filled by the features before the server serves."""

    def __init__(self) -> None:
        self._handlers: dict[str, Callable[[Any], Awaitable[BaseModel | bytes]]] = {}
        self._kinds: list[type[BaseModel]] = []
        self._adapter: TypeAdapter[Any] | None = None

    def register(self, kind: type[Req], handler: Handler[Req]) -> None:
        if self._adapter is not None:
            raise RuntimeError("handlers are registered before the server decodes requests")
        tag = request_tag(kind)
        if tag in self._handlers:
            raise ValueError(f"request type {tag!r} is registered twice")
        self._handlers[tag] = handler
        self._kinds.append(kind)

    @property
    def types(self) -> list[str]:
        """The registered request types, in registration order."""
        return [request_tag(k) for k in self._kinds]

    def decode(self, frame: bytes) -> BaseModel:
        """The request in `frame`; `ProtocolError` if it is none of the registered types."""
        if self._adapter is None:
            if not self._kinds:
                raise ProtocolError("the hub serves no requests")
            self._adapter = _union_adapter(self._kinds)
        got = decode_with(self._adapter, frame)
        assert isinstance(got, BaseModel)
        return got

    async def handle(self, req: BaseModel) -> BaseModel | bytes:
        """The reply to a decoded request (bytes: a reply already encoded)."""
        return await self._handlers[request_tag(type(req))](req)


def rid_of(req: BaseModel) -> str:
    """The request id of a decoded request (every request model has `rid`)."""
    rid = getattr(req, "rid", "")
    return rid if isinstance(rid, str) else ""
