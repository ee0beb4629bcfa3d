"""The hub-level request handlers: ping, login, logout, a console's ICE servers."""

from __future__ import annotations

from dispatch.domain.wire import HandlerRegistrar, OkReply
from dispatch.events.service import HubService
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


class SessionHandlers:
    """Liveness and a console's session."""

    def __init__(self, service: HubService, ice: IceSource | None = None) -> None:
        self._svc = service
        self._ice = ice or static_ice()

    def register(self, registry: HandlerRegistrar) -> None:
        registry.register(PingRequest, self.ping)
        registry.register(LoginRequest, self.login)
        registry.register(LogoutRequest, self.logout)
        registry.register(IceRequest, self.ice)

    async def ping(self, req: PingRequest) -> PongReply:
        return PongReply(rid=req.rid, seq=self._svc.last_seq, hub_instance=self._svc.instance)

    async def login(self, req: LoginRequest) -> LoginReply:
        s = await self._svc.login(req.operator, req.password, req.workstation)
        return LoginReply(
            rid=req.rid,
            token=s.token,
            operator=s.operator,
            role=s.role,
            workstation=s.workstation,
            hub_instance=self._svc.instance,
            ice=ice_info(self._ice(console_ice_name(s.workstation))),
        )

    async def ice(self, req: IceRequest) -> IceReply:
        s = self._svc.session(req.token)
        return IceReply(rid=req.rid, ice=ice_info(self._ice(console_ice_name(s.workstation))))

    async def logout(self, req: LogoutRequest) -> OkReply:
        self._svc.sessions.close(req.token)
        return OkReply(rid=req.rid)
