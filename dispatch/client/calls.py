"""What a feature's facade needs of the connection: an authenticated call whose answer
must be of one reply type, and the session's token (for HTTP downloads)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from dispatch.domain.wire import ErrorCode, HubError

R = TypeVar("R")


class Caller(Protocol):
    async def call(self, reply: type[R], request: Callable[..., object]) -> R:
        """An authenticated request, built by `request(rid=…, token=…)` (a `partial` of
        the request class), whose answer must be a `reply`; raises `HubError`."""
        ...

    def token(self) -> str:
        """The session token; `AuthError` when not logged in."""
        ...


def expect(kind: type[R], rep: object) -> R:
    """`rep` as the reply its request asks for (another kind breaks the protocol)."""
    if not isinstance(rep, kind):
        raise HubError(
            ErrorCode.INTERNAL,
            f"集控中心回复类型错误 / the hub answered {type(rep).__name__}, "
            f"expected {kind.__name__}",
        )
    return rep
