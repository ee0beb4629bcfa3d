"""Feeds the health model from the hub over zmq; the hub runs the patrol.

The reads (`camera_health`, `camera_history`) are typed requests of the logged-in hub
client's `patrol` facade, run on the event queue's network thread (`submit`); the
results come back to the Qt thread through `post` (`console.kit.net.submit_to_qt`) and
go into the `HealthModel`, which the view observes (the controller never touches a
widget). `install_health` builds the model, the controller and the view.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Coroutine
from typing import Any, Protocol, TypeVar, runtime_checkable

from PySide6.QtCore import QTimer

from console.events.ports import QueueHost
from console.health.model import HealthModel
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


class HealthController:
    """Reads the hub into `model` (on `start`, then every `refresh_ms`); the view's intent
    is `load_history`. Construct on the Qt thread; `start`/`stop` are safe to call twice."""

    def __init__(
        self,
        model: HealthModel,
        *,
        client: Callable[[], object | None],
        submit: Submit,
        post: Callable[[Callable[[], None]], None],
        refresh_ms: int = 30_000,
    ) -> None:
        self.model = model
        self._client = client
        self._submit_fn = submit
        self._post = post
        self._refresh_ms = refresh_ms
        self._timer: QTimer | None = None

    def start(self) -> None:
        if self._timer is not None:
            return
        self._timer = QTimer()
        self._timer.setInterval(self._refresh_ms)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        self.refresh()

    def stop(self) -> None:
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.stop()

    def _health_client(self) -> HealthClient | None:
        c = self._client()
        return c if isinstance(c, HealthClient) else None

    def _submit(self, coro: Coroutine[Any, Any, T], ok: Callable[[T], None]) -> None:
        def failed(exc: BaseException) -> None:
            self.model.failed(error_text(exc))

        submit_to_qt(self._submit_fn, self._post, coro, ok, failed)

    def refresh(self) -> None:
        """Read the newest samples (nothing before a login: the next refresh tries again)."""
        client = self._health_client()
        if client is None:
            return

        def done(rep: CameraHealthReply) -> None:
            self.model.show_cameras(rep.cameras)

        self._submit(client.camera_health(), done)

    def load_history(self, camera: str) -> None:
        client = self._health_client()
        if client is None:
            return

        def done(rep: CameraHistoryReply) -> None:
            self.model.show_history(camera, rep.checks)

        self._submit(client.camera_history(camera), done)


class HealthInstall:
    """What `install_health` built and started; `stop()` ends it (safe twice)."""

    def __init__(
        self,
        model: HealthModel,
        controller: HealthController,
        view: HealthView,
        subscriptions: list[Subscription],
    ) -> None:
        self.model = model
        self.controller = controller
        self.view = view
        self._subscriptions = subscriptions

    def stop(self) -> None:
        for sub in self._subscriptions:
            sub.disconnect()
        self.controller.stop()


def install_health(
    add_panel: Callable[[HealthView, str], object],
    site: Site,
    queue: QueueHost,
    *,
    show_message: Callable[[str], None] | None = None,
) -> HealthInstall:
    """Dock the health view fed from the hub (which patrols: `hall-hub --patrol-every`);
    it refreshes on every login and every 30 s."""
    from console.health.strings import t

    model = HealthModel(site)
    controller = HealthController(
        model,
        client=lambda: getattr(queue.controller.client, "patrol", None),
        submit=queue.net.submit,
        post=queue.bridge.post,
    )
    view = HealthView(model, controller)
    add_panel(view, t("title"))
    subs = [
        queue.model.session_changed.connect(
            lambda session: controller.refresh() if session is not None else None
        )
    ]
    if show_message is not None:
        subs.append(model.notices.connect(show_message))
    controller.start()
    return HealthInstall(model, controller, view, subs)
