"""Feeds the reports model from the hub (issue 7); `install_reports` docks the report view
and the hot-spot panel, which observe the model and send their intents here.

The calls run on the event queue's network thread (`submit` a coroutine that uses the
logged-in hub client); the results come back to Qt through `post` and go into the
`ReportsModel` (the controller never touches a widget). The charts are rendered on the
charts' thread, not on the Qt thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import ssl
from collections.abc import Callable, Coroutine
from datetime import date
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable

from PySide6.QtCore import QTimer

from console.events.ports import QueueHost
from console.kit.net import submit_to_qt
from console.kit.observable import Subscription
from console.reports.model import ReportScreen, ReportsModel, default_pdf_name, report_screen
from console.reports.strings import t
from console.reports.view import HotspotPanel, ReportView
from dispatch.reports.messages import HotspotsReply, ReportReply
from streams.private import write_private

log = logging.getLogger(__name__)
T = TypeVar("T")

HOTSPOT_REFRESH_MS = 60_000


_CHARTS: concurrent.futures.ThreadPoolExecutor | None = None


def chart_thread() -> concurrent.futures.ThreadPoolExecutor:
    """The one thread the console draws charts on: matplotlib and its FreeType fonts are
    not thread-safe, so all drawing stays on one thread (and under the charts' lock)."""
    global _CHARTS
    if _CHARTS is None:
        _CHARTS = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="charts")
    return _CHARTS


@runtime_checkable
class ReportClient(Protocol):
    async def report(self, month: str) -> ReportReply: ...
    async def hotspots(self) -> HotspotsReply: ...
    async def report_pdf(
        self,
        http_url: str,
        month: str,
        timeout_s: float = 60.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> bytes: ...


Submit = Callable[[Coroutine[Any, Any, Any]], "concurrent.futures.Future[Any]"]


def month_text(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


def error_text(exc: BaseException) -> str:
    msg = getattr(exc, "message", None)
    return str(msg) if isinstance(msg, str) and msg else str(exc) or type(exc).__name__


class ReportController:
    """Reads the hub into `model`; the views' intents are `load_month`, `export` and
    `open_events`. Construct on the Qt thread; `start`/`stop` are safe to call twice."""

    def __init__(
        self,
        model: ReportsModel,
        *,
        client: Callable[[], object | None],
        submit: Submit,
        post: Callable[[Callable[[], None]], None],
        http_url: str | None,
        save_dir: Path,
        open_events: Callable[[tuple[str, ...]], None],
        http_ssl: ssl.SSLContext | None = None,
    ) -> None:
        self.model = model
        self._client = client
        self._submit_fn = submit
        self._post = post
        self.http_url = http_url
        self.http_ssl = http_ssl  # trusts the hub's CA (None: the system's CAs)
        self.save_dir = save_dir
        self._open_events = open_events
        self._timer: QTimer | None = None

    # ------------------------------------------------------------ plumbing
    def _report_client(self) -> ReportClient | None:
        c = self._client()
        return c if isinstance(c, ReportClient) else None

    def _submit(
        self,
        coro: Coroutine[Any, Any, T],
        ok: Callable[[T], None],
        failed: Callable[[BaseException], None],
    ) -> None:
        submit_to_qt(self._submit_fn, self._post, coro, ok, failed)

    # ------------------------------------------------------------ report
    def load_month(self, month: date) -> None:
        self.model.working()
        client = self._report_client()
        if client is None:
            self.model.failed(t("not_connected"))
            return
        text = month_text(month)

        async def run() -> tuple[ReportReply, ReportScreen]:
            rep = await client.report(text)
            loop = asyncio.get_running_loop()
            screen = await loop.run_in_executor(chart_thread(), report_screen, rep.report)
            return rep, screen

        def ok(got: tuple[ReportReply, ReportScreen]) -> None:
            rep, screen = got
            self.model.show_report(
                rep, screen, exportable=rep.pdf_available and bool(self.http_url)
            )

        def failed(exc: BaseException) -> None:
            self.model.failed(error_text(exc))

        self._submit(run(), ok, failed)

    def export(self, month: date) -> None:
        client = self._report_client()
        if client is None or not self.http_url:
            self.model.failed(t("cannot_export"))
            return
        text, url, ctx = month_text(month), self.http_url, self.http_ssl
        out = self.save_dir / default_pdf_name(month)

        async def run() -> Path:
            body = await client.report_pdf(url, text, ssl_context=ctx)

            def write() -> Path:
                return write_private(out, body)  # 0600 in a 0700 folder

            return await asyncio.to_thread(write)

        def failed(exc: BaseException) -> None:
            self.model.failed(error_text(exc))

        self._submit(run(), self.model.pdf_saved, failed)

    # ------------------------------------------------------------ hot spots
    def refresh_hotspots(self) -> None:
        client = self._report_client()
        if client is None:
            return

        def failed(exc: BaseException) -> None:
            self.model.hotspots_failed(error_text(exc))

        self._submit(client.hotspots(), self.model.show_hotspots, failed)

    def open_events(self, ids: tuple[str, ...]) -> None:
        """Show these events in the queue (a hot spot's events); nothing for none."""
        if ids:
            self._open_events(ids)

    # ------------------------------------------------------------ lifetime
    def start(self, refresh_ms: int = HOTSPOT_REFRESH_MS) -> None:
        if self._timer is not None:
            return
        self._timer = QTimer()
        self._timer.setInterval(refresh_ms)
        self._timer.timeout.connect(self.refresh_hotspots)
        self._timer.start()
        self.refresh_hotspots()

    def stop(self) -> None:
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.stop()


def open_in_queue(queue: QueueHost, ids: tuple[str, ...]) -> str | None:
    """Show only these events in the queue and select the first one of its list."""
    queue.model.show_only(ids)
    first = next((r.event.id for r in queue.model.visible()), None)
    if first is not None:
        queue.controller.select(first)
    return first


class ReportsInstall:
    """What `install_reports` built and started; `stop()` ends it (safe twice)."""

    def __init__(
        self,
        model: ReportsModel,
        controller: ReportController,
        view: ReportView,
        panel: HotspotPanel,
        subscriptions: list[Subscription],
    ) -> None:
        self.model = model
        self.controller = controller
        self.view = view
        self.panel = panel
        self._subscriptions = subscriptions

    def stop(self) -> None:
        for sub in self._subscriptions:
            sub.disconnect()
        self.controller.stop()


def install_reports(
    add_side_panel: Callable[[Any, str], object],
    queue: QueueHost,
    http_url: str | None,
    *,
    save_dir: Path,
    raise_panel: Callable[[], object] | None = None,
    show_message: Callable[[str], None] | None = None,
    http_ssl: ssl.SSLContext | None = None,
) -> ReportsInstall:
    """Dock the monthly report and the hot spots beside the event queue and start."""

    def open_events(ids: tuple[str, ...]) -> None:
        open_in_queue(queue, ids)
        if raise_panel is not None:
            raise_panel()

    model = ReportsModel()
    ctl = ReportController(
        model,
        client=lambda: getattr(queue.controller.client, "reports", None),
        submit=queue.net.submit,
        post=queue.bridge.post,
        http_url=http_url,
        save_dir=save_dir,
        open_events=open_events,
        http_ssl=http_ssl,
    )
    view = ReportView(model, ctl)
    view.setObjectName("reports")
    panel = HotspotPanel(model, ctl)
    panel.setObjectName("hotspots")
    view.set_month(date.today())
    add_side_panel(panel, t("hotspots_title"))
    add_side_panel(view, t("report_title"))
    subs = [queue.model.session_changed.connect(lambda _s: ctl.refresh_hotspots())]
    if show_message is not None:
        subs.append(model.notices.connect(show_message))
    ctl.start()
    return ReportsInstall(model, ctl, view, panel, subs)
