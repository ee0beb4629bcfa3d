"""The wall's PTZ intents, Qt-free: widgets call `begin`, `drag`, `end`, `wheel`,
`goto`, `save`, `takeover`, `release` on the Qt thread; the work runs on the network
thread (`submit`), and what the officer must see comes back through `post` into the
`PtzModel`.

Each gesture (a button or key going down) first asks the hub for the camera's hold
(`PtzAction`: rights, the holder, the audit row); the speeds of that gesture wait for
the answer and are dropped when the hub refuses (the refusal shows on the tile). The
ONVIF commands go through the camera's `PtzLink` (newest speed only, explicit states,
backoff). No hub (`holds` None): PTZ is refused, since nobody can check the rights.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any, Protocol

from console.kit.i18n import tr
from console.wall.ptz_model import PtzModel
from dispatch.domain.wire import HubError
from dispatch.ptz.core import PtzAction
from dispatch.ptz.messages import PtzHold
from streams.ptz.intent import wheel_zoom
from streams.ptz.link import LinkState, LinkStatus, PtzLink
from streams.ptz.onvif_client import OnvifPtz
from streams.ptz.types import OnvifAccess, Preset, PtzError, Vector

log = logging.getLogger(__name__)
Submit = Callable[[Coroutine[Any, Any, Any]], "concurrent.futures.Future[Any]"]
Post = Callable[[Callable[[], None]], None]


class HoldsPort(Protocol):
    """The hub's PTZ holds (`dispatch.client.ptz.PtzFacade` fits)."""

    async def hold(self, camera_id: str, action: PtzAction = ..., detail: str = ...) -> PtzHold: ...
    async def release(self, camera_id: str) -> None: ...


class PtzController:
    def __init__(
        self,
        accesses: Mapping[str, OnvifAccess],
        model: PtzModel,
        submit: Submit,
        post: Post,
        holds: Callable[[], HoldsPort | None],
    ) -> None:
        self.accesses = dict(accesses)
        self.model = model
        self._submit = submit
        self._post = post
        self._holds = holds
        self._links: dict[str, PtzLink] = {}
        self._gestures: dict[str, asyncio.Future[bool]] = {}

    def is_ptz(self, camera_id: str | None) -> bool:
        return camera_id is not None and camera_id in self.accesses

    # -- on the network thread --------------------------------------------------------
    def _link(self, camera_id: str) -> PtzLink:
        link = self._links.get(camera_id)
        if link is None:
            link = self._links[camera_id] = PtzLink(self.accesses[camera_id], self._status)
        return link

    def _status(self, st: LinkStatus) -> None:
        text = tr("ptz.error", error=st.error) if st.state is LinkState.ERROR else ""
        if st.state in (LinkState.ERROR, LinkState.READY):
            self._post(lambda: self.model.set_error(st.camera_id, text))

    def _show_error(self, camera_id: str, message: str) -> None:
        self._post(lambda: self.model.set_error(camera_id, tr("ptz.error", error=message)))

    async def _hold(self, camera_id: str, action: PtzAction, detail: str = "") -> bool:
        holds = self._holds()
        if holds is None:
            self._show_error(camera_id, "未连接调度中心，无法核对权限 / no hub to check rights")
            return False
        try:
            await holds.hold(camera_id, action, detail)
        except HubError as exc:
            self._show_error(camera_id, exc.message)
            return False
        return True

    async def _begin(self, camera_id: str, action: PtzAction) -> None:
        fut: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._gestures[camera_id] = fut
        fut.set_result(await self._hold(camera_id, action))

    async def _want(self, camera_id: str, speed: Vector) -> None:
        gesture = self._gestures.get(camera_id)
        if gesture is None:
            await self._begin(camera_id, PtzAction.MOVE)
            gesture = self._gestures[camera_id]
        if await gesture:
            self._link(camera_id).want(speed)

    async def _end(self, camera_id: str) -> None:
        gesture = self._gestures.pop(camera_id, None)
        if gesture is not None and await gesture:
            self._link(camera_id).want(Vector())

    async def _pulse(self, camera_id: str, speed: Vector, seconds: float) -> None:
        if await self._hold(camera_id, PtzAction.MOVE, "zoom"):
            await self._command(camera_id, lambda p: p.move(speed, timeout_s=seconds))

    async def _command(self, camera_id: str, fn: Callable[[OnvifPtz], Awaitable[Any]]) -> Any:
        try:
            return await self._link(camera_id).call(fn)
        except PtzError:
            return None  # shown on the tile by the link's status

    async def _presets(self, camera_id: str) -> None:
        got: list[Preset] | None = await self._command(camera_id, lambda p: p.presets())
        if got is not None:
            self._post(lambda: self.model.set_presets(camera_id, got))

    async def _goto(self, camera_id: str, token: str, name: str) -> None:
        if await self._hold(camera_id, PtzAction.PRESET_GOTO, name):
            await self._command(camera_id, lambda p: p.goto_preset(token))

    async def _goto_named(self, camera_id: str, name: str) -> None:
        got: list[Preset] | None = await self._command(camera_id, lambda p: p.presets())
        if got is None:
            return
        self._post(lambda: self.model.set_presets(camera_id, got))
        token = next((p.token for p in got if p.name == name), None)
        if token is None:
            self._show_error(camera_id, f"没有预置位 {name} / no preset {name!r}")
            return
        await self._goto(camera_id, token, name)

    async def _save(self, camera_id: str, name: str) -> None:
        if await self._hold(camera_id, PtzAction.PRESET_SAVE, name):
            await self._command(camera_id, lambda p: p.set_preset(name))
            await self._presets(camera_id)

    async def _takeover(self, camera_id: str) -> None:
        await self._hold(camera_id, PtzAction.TAKEOVER)

    async def _release(self, camera_id: str) -> None:
        holds = self._holds()
        if holds is not None:
            try:
                await holds.release(camera_id)
            except HubError as exc:
                self._show_error(camera_id, exc.message)

    async def close(self) -> None:
        for link in list(self._links.values()):
            await link.close()
        self._links.clear()

    # -- intents (Qt thread) ----------------------------------------------------------
    def _run(self, camera_id: str | None, coro: Coroutine[Any, Any, Any]) -> None:
        if not self.is_ptz(camera_id):
            coro.close()
            return
        self._submit(coro)

    def begin(self, camera_id: str) -> None:
        """A drag or a key press starts: ask the hub for the hold."""
        self._run(camera_id, self._begin(camera_id, PtzAction.MOVE))

    def drag(self, camera_id: str, speed: Vector) -> None:
        self._run(camera_id, self._want(camera_id, speed))

    def end(self, camera_id: str) -> None:
        self._run(camera_id, self._end(camera_id))

    def wheel(self, camera_id: str, angle_delta: int) -> None:
        speed, seconds = wheel_zoom(angle_delta)
        if seconds > 0:
            self._run(camera_id, self._pulse(camera_id, speed, seconds))

    def refresh_presets(self, camera_id: str) -> None:
        self._run(camera_id, self._presets(camera_id))

    def goto(self, camera_id: str, token: str, name: str = "") -> None:
        self._run(camera_id, self._goto(camera_id, token, name))

    def goto_named(self, camera_id: str, name: str) -> None:
        """Go to the preset called `name` (a tour step, an alarm): the camera's list is
        read first; an unknown name shows on the tile."""
        self._run(camera_id, self._goto_named(camera_id, name))

    def save(self, camera_id: str, name: str) -> None:
        self._run(camera_id, self._save(camera_id, name))

    def takeover(self, camera_id: str) -> None:
        self._run(camera_id, self._takeover(camera_id))

    def release(self, camera_id: str) -> None:
        self._run(camera_id, self._release(camera_id))
