"""Feeds the health view from the hub (HTTP, in worker threads); the hub runs the patrol.

Worker threads never touch widgets: results come back through a queued Qt signal.
"""

from __future__ import annotations

import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from console.health.model import summarise
from console.health.view import HealthView
from dispatch.domain.site import Site
from dispatch.patrol.service import CameraHealth, HealthReply, HistoryReply


class HealthSource:
    """Blocking reads of the hub's patrol API."""

    def __init__(self, http_url: str, api_key: str, timeout_s: float = 10.0) -> None:
        self.http_url = http_url.rstrip("/")
        self.api_key = api_key
        self.timeout_s = timeout_s

    def _get(self, path: str) -> bytes:
        req = urllib.request.Request(self.http_url + path, headers={"X-Api-Key": self.api_key})
        with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
            data: bytes = resp.read()
            return data

    def health(self) -> list[CameraHealth]:
        return HealthReply.model_validate_json(self._get("/api/v1/camera_health")).cameras

    def history(self, camera: str, limit: int = 200) -> list[CameraHealth]:
        q = urllib.parse.urlencode({"camera": camera, "limit": limit})
        return HistoryReply.model_validate_json(self._get(f"/api/v1/camera_checks?{q}")).checks


class HealthController(QObject):
    _delivered = Signal(object)  # a callable to run on the Qt thread

    def __init__(
        self,
        view: HealthView,
        site: Site,
        source: HealthSource,
        *,
        refresh_ms: int = 30_000,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(view)
        self.view = view
        self.site = site
        self.source = source
        self.on_error = on_error
        self._names = {c.id: c.name for c in site.cameras}
        # a bound slot of this QObject (which lives on the Qt thread): emitted from a
        # worker thread, the call is queued to the Qt thread (a bare lambda would run
        # in the worker)
        self._delivered.connect(self._run_delivered)
        self._timer = QTimer(self)
        self._timer.setInterval(refresh_ms)
        self._timer.timeout.connect(self.refresh)
        view.camera_picked.connect(self.load_history)

    @Slot(object)
    def _run_delivered(self, fn: object) -> None:
        if callable(fn):
            fn()

    def refresh_soon(self) -> None:
        """Thread-safe: refresh on the Qt thread (e.g. after a patrol round)."""
        self._delivered.emit(self.refresh)

    def start(self) -> None:
        if not self._timer.isActive():
            self._timer.start()
            self.refresh()

    def stop(self) -> None:
        self._timer.stop()

    def _in_thread(self, work: Callable[[], object], done: Callable[[object], None]) -> None:
        def run() -> None:
            try:
                got = work()
            except (OSError, urllib.error.URLError, ValueError) as exc:
                msg = f"设备巡检数据读取失败 / camera health: {exc}"
                if self.on_error is not None:
                    err = self.on_error
                    self._delivered.emit(lambda: err(msg))
                return
            self._delivered.emit(lambda: done(got))

        threading.Thread(target=run, name="health-fetch", daemon=True).start()

    def refresh(self) -> None:
        def done(got: object) -> None:
            assert isinstance(got, list)
            self.view.show_summary(summarise(self.site, got))

        self._in_thread(self.source.health, done)

    def load_history(self, camera: str) -> None:
        def done(got: object) -> None:
            assert isinstance(got, list)
            self.view.show_history(self._names.get(camera, camera), got)

        self._in_thread(lambda: self.source.history(camera), done)


class HealthInstall:
    """What `install_health` started; `stop()` ends it (safe twice)."""

    def __init__(self, controller: HealthController) -> None:
        self.controller = controller

    def stop(self) -> None:
        self.controller.stop()


def install_health(
    add_panel: Callable[[HealthView, str], object],
    site: Site,
    hub_http: str,
    api_key: str,
    *,
    show_message: Callable[[str], None] | None = None,
) -> HealthInstall:
    """Dock the health view fed from the hub (which patrols: `hall-hub --patrol-every`)."""
    from console.health.strings import t

    view = HealthView()
    add_panel(view, t("title"))
    controller = HealthController(
        view, site, HealthSource(hub_http, api_key), on_error=show_message
    )
    controller.start()
    return HealthInstall(controller)
