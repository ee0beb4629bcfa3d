"""The hub-level request handlers: ping, login, logout."""

from __future__ import annotations

from dispatch.domain.wire import HandlerRegistrar, OkReply
from dispatch.events.service import HubService
from dispatch.hub.messages import LoginReply, LoginRequest, LogoutRequest, PingRequest, PongReply


class SessionHandlers:
    """Liveness and a console's session."""

    def __init__(self, service: HubService) -> None:
        self._svc = service

    def register(self, registry: HandlerRegistrar) -> None:
        registry.register(PingRequest, self.ping)
        registry.register(LoginRequest, self.login)
        registry.register(LogoutRequest, self.logout)

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
        )

    async def logout(self, req: LogoutRequest) -> OkReply:
        self._svc.sessions.close(req.token)
        return OkReply(rid=req.rid)
