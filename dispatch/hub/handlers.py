"""The hub-level request handlers: ping, login (throttled: `dispatch.hub.guard`; the
session's workstation is the enrolled console's name: `session_workstation`), logout, a
console's ICE servers."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

from dispatch.domain.security import CLIENT, CONSOLE
from dispatch.domain.wire import ErrorCode, HandlerRegistrar, HubError, OkReply
from dispatch.events.service import HubService
from dispatch.hub.guard import Guard, wait_text
from dispatch.hub.messages import (
    IceReply,
    IceRequest,
    LoginReply,
    LoginRequest,
    LogoutRequest,
    PingRequest,
    PongReply,
)
from dispatch.hub.turn import console_ice_name, ice_info
from streams.webrtc.config import IceSource, static_ice

log = logging.getLogger("hall-hub.sessions")


def session_workstation(declared: str, enrolled: str) -> str:
    """The workstation a session is opened for: the enrolled console's name (its CURVE
    key's, from ZAP) when there is one, whatever the console declares (a console cannot
    claim another workstation's name; a different name is logged and overridden); the
    declared name only on a hub without CURVE."""
    if not enrolled:
        return declared
    if declared != enrolled:
        log.warning(
            "console enrolled as %r declared workstation %r: session opened as %r",
            enrolled,
            declared[:64],
            enrolled,
        )
    return enrolled


class SessionHandlers:
    """Liveness and a console's session."""

    def __init__(
        self,
        service: HubService,
        guard: Guard,
        ice: IceSource | None = None,
        public_url: Callable[[], str] = lambda: "",
    ) -> None:
        self._svc = service
        self._guard = guard
        self._ice = ice or static_ice()
        self._public_url = public_url  # known once the HTTPS listener is bound

    def register(self, registry: HandlerRegistrar) -> None:
        registry.register(PingRequest, self.ping)
        registry.register(LoginRequest, self.login)
        registry.register(LogoutRequest, self.logout)
        registry.register(IceRequest, self.ice)

    async def ping(self, req: PingRequest) -> PongReply:
        return PongReply(rid=req.rid, seq=self._svc.last_seq, hub_instance=self._svc.instance)

    async def login(self, req: LoginRequest) -> LoginReply:
        """Throttled per account and per client (`Guard`): a login that must wait is
        refused with `throttled` and the seconds to wait; the attempt is counted before
        the password is checked (no await between the two)."""
        guard, account, client = self._guard, req.operator, CLIENT.get()
        wait = guard.login_wait(account, client)
        if wait > 0:
            secs = max(1, math.ceil(wait))
            msg = f"{wait_text(wait)} / too many failed logins, retry in {secs} s"
            raise HubError(ErrorCode.THROTTLED, msg, retry_after_s=wait)
        blocks = guard.login_counted(account, client)
        workstation = session_workstation(req.workstation, CONSOLE.get())
        try:
            s = await self._svc.login(req.operator, req.password, workstation)
        except HubError as exc:
            if exc.code is ErrorCode.BUSY:
                guard.login_uncounted(account, client)
            else:
                guard.login_failed(account, client, blocks)
            raise
        guard.login_ok(account, client)
        return LoginReply(
            rid=req.rid,
            token=s.token,
            operator=s.operator,
            role=s.role,
            workstation=s.workstation,
            hub_instance=self._svc.instance,
            ice=ice_info(self._ice(console_ice_name(s.workstation))),
            public_url=self._public_url(),
        )

    async def ice(self, req: IceRequest) -> IceReply:
        s = self._svc.session(req.token)
        return IceReply(rid=req.rid, ice=ice_info(self._ice(console_ice_name(s.workstation))))

    async def logout(self, req: LogoutRequest) -> OkReply:
        self._svc.sessions.close(req.token)
        return OkReply(rid=req.rid)
