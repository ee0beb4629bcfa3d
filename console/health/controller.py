"""Feeds the health view from the hub over zmq; the hub runs the patrol.

The reads (`camera_health`, `camera_history`) are typed requests of the logged-in hub
client's `patrol` facade, run on the event queue's network thread (`submit`); the
results come back to the Qt thread through `post` (`console.kit.net.submit_to_qt`).
Widgets are only touched on the Qt thread.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Coroutine
from typing import Any, Protocol, TypeVar, runtime_checkable

from PySide6.QtCore import QObject, QTimer

from console.health.model import summarise
from console.health.view import HealthView
from console.kit.net import submit_to_qt
from console.kit.observable import Subscription
from dispatch.domain.site import Site
from dispatch.patrol.messages import CameraHealthReply, CameraHistoryReply

T = TypeVar("T")
Submit = Callable[[Coroutine[Any, Any, Any]], "concurrent.futures.Future[Any]"]


@runtime_checkable
class HealthClient(Protocol):
    async def camera_health(self) -> CameraHealthReply: ...
    async def camera_history(self, camera: str, limit: int = 200) -> CameraHistoryReply: ...


def error_text(exc: BaseException) -> str:
    msg = getattr(exc, "message", None)
    return str(msg) if isinstance(msg, str) and msg else str(exc) or type(exc).__name__


class HealthController(QObject):
    """Construct on the Qt thread; `start`/`stop` are safe to call twice."""

    def __init__(
        self,
        view: HealthView,
        site: Site,
        *,
        client: Callable[[], object | None],
        submit: Submit,
        post: Callable[[Callable[[], None]], None],
        refresh_ms: int = 30_000,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(view)
        self.view = view
        self.site = site
        self._client = client
        self._submit_fn = submit
        self._post = post
        self.on_error = on_error
        self._names = {c.id: c.name for c in site.cameras}
        self._timer = QTimer(self)
        self._timer.setInterval(refresh_ms)
        self._timer.timeout.connect(self.refresh)
        view.camera_picked.connect(self.load_history)

    def start(self) -> None:
        if not self._timer.isActive():
            self._timer.start()
            self.refresh()

    def stop(self) -> None:
        self._timer.stop()

    def _health_client(self) -> HealthClient | None:
        c = self._client()
        return c if isinstance(c, HealthClient) else None

    def _submit(self, coro: Coroutine[Any, Any, T], ok: Callable[[T], None]) -> None:
        def failed(exc: BaseException) -> None:
            if self.on_error is not None:
                self.on_error(f"设备巡检数据读取失败 / camera health: {error_text(exc)}")

        submit_to_qt(self._submit_fn, self._post, coro, ok, failed)

    def refresh(self) -> None:
        """Read the newest samples (nothing before a login: the next refresh tries again)."""
        client = self._health_client()
        if client is None:
            return

        def done(rep: CameraHealthReply) -> None:
            self.view.show_summary(summarise(self.site, rep.cameras))

        self._submit(client.camera_health(), done)

    def load_history(self, camera: str) -> None:
        client = self._health_client()
        if client is None:
            return

        def done(rep: CameraHistoryReply) -> None:
            self.view.show_history(self._names.get(camera, camera), rep.checks)

        self._submit(client.camera_history(camera), done)


class _QueueLike(Protocol):
    """What the health panel needs of the event queue (`console.events.wiring.EventQueue`):
    its model's session, its controller's logged-in client, its network thread and its
    Qt bridge."""

    @property
    def model(self) -> Any: ...
    @property
    def controller(self) -> Any: ...
    @property
    def net(self) -> Any: ...
    @property
    def bridge(self) -> Any: ...


class HealthInstall:
    """What `install_health` started; `stop()` ends it (safe twice)."""

    def __init__(self, controller: HealthController, on_login: Subscription) -> None:
        self.controller = controller
        self._on_login = on_login

    def stop(self) -> None:
        self._on_login.disconnect()
        self.controller.stop()


def install_health(
    add_panel: Callable[[HealthView, str], object],
    site: Site,
    queue: _QueueLike,
    *,
    show_message: Callable[[str], None] | None = None,
) -> HealthInstall:
    """Dock the health view fed from the hub (which patrols: `hall-hub --patrol-every`);
    it refreshes on every login and every 30 s."""
    from console.health.strings import t

    view = HealthView()
    add_panel(view, t("title"))
    controller = HealthController(
        view,
        site,
        client=lambda: getattr(queue.controller.client, "patrol", None),
        submit=queue.net.submit,
        post=queue.bridge.post,
        on_error=show_message,
    )
    on_login = queue.model.session_changed.connect(
        lambda session: controller.refresh() if session is not None else None
    )
    controller.start()
    return HealthInstall(controller, on_login)
