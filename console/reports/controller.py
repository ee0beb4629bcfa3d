"""Feeds the report view and the hot-spot panel from the hub (issue 7).

The calls run on the event queue's network thread (`submit` a coroutine that uses the
logged-in hub client); the results come back to Qt through `post`. The charts are
rendered on the network thread's worker pool, not on the Qt thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Callable, Coroutine
from datetime import date
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable

from PySide6.QtCore import QTimer

from console.kit.net import submit_to_qt
from console.reports.model import ReportScreen, default_pdf_name, report_screen
from console.reports.strings import t
from console.reports.view import HotspotPanel, ReportView
from dispatch.reports.messages import HotspotsReply, ReportReply

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
    async def report_pdf(self, http_url: str, month: str, timeout_s: float = 60.0) -> bytes: ...


Submit = Callable[[Coroutine[Any, Any, Any]], "concurrent.futures.Future[Any]"]


def month_text(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


def error_text(exc: BaseException) -> str:
    msg = getattr(exc, "message", None)
    return str(msg) if isinstance(msg, str) and msg else str(exc) or type(exc).__name__


class ReportController:
    """Construct on the Qt thread; `start`/`stop` are safe to call twice."""

    def __init__(
        self,
        view: ReportView,
        panel: HotspotPanel,
        *,
        client: Callable[[], object | None],
        submit: Submit,
        post: Callable[[Callable[[], None]], None],
        http_url: str | None,
        save_dir: Path,
        open_events: Callable[[tuple[str, ...]], None],
        show_message: Callable[[str], None] | None = None,
    ) -> None:
        self.view = view
        self.panel = panel
        self._client = client
        self._submit_fn = submit
        self._post = post
        self.http_url = http_url
        self.save_dir = save_dir
        self._open_events = open_events
        self._show_message = show_message
        self.last_reply: ReportReply | None = None
        self.last_hotspots: HotspotsReply | None = None
        self.saved: list[Path] = []
        self._timer: QTimer | None = None
        view.month_requested.connect(self.load_month)
        view.export_requested.connect(self.export)
        panel.open_events.connect(self._open)

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
        client = self._report_client()
        if client is None:
            self.view.show_error(t("not_connected"))
            return
        text = month_text(month)

        async def run() -> tuple[ReportReply, ReportScreen]:
            rep = await client.report(text)
            loop = asyncio.get_running_loop()
            screen = await loop.run_in_executor(chart_thread(), report_screen, rep.report)
            return rep, screen

        def ok(got: tuple[ReportReply, ReportScreen]) -> None:
            rep, screen = got
            self.last_reply = rep
            self.view.show_screen(screen)
            self.view.export_button.setEnabled(rep.pdf_available and bool(self.http_url))

        def failed(exc: BaseException) -> None:
            self.view.show_error(error_text(exc))

        self._submit(run(), ok, failed)

    def export(self, month: date) -> None:
        client = self._report_client()
        if client is None or not self.http_url:
            self.view.show_error(t("cannot_export"))
            return
        text, url = month_text(month), self.http_url
        out = self.save_dir / default_pdf_name(month)

        async def run() -> Path:
            body = await client.report_pdf(url, text)

            def write() -> Path:
                out.parent.mkdir(parents=True, exist_ok=True)
                tmp = out.with_suffix(".pdf.part")
                tmp.write_bytes(body)
                tmp.replace(out)
                return out

            return await asyncio.to_thread(write)

        def ok(path: Path) -> None:
            self.saved.append(path)
            self.view.status.setText(t("saved", path=path))
            if self._show_message is not None:
                self._show_message(t("report_saved", path=path))

        def failed(exc: BaseException) -> None:
            self.view.show_error(error_text(exc))

        self._submit(run(), ok, failed)

    # ------------------------------------------------------------ hot spots
    def refresh_hotspots(self) -> None:
        client = self._report_client()
        if client is None:
            return

        def ok(rep: HotspotsReply) -> None:
            self.last_hotspots = rep
            self.panel.set_hotspots(rep.hotspots)

        def failed(exc: BaseException) -> None:
            self.panel.header.setText(t("hotspots_failed", error=error_text(exc)))

        self._submit(client.hotspots(), ok, failed)

    def _open(self, ids: object) -> None:
        if isinstance(ids, tuple) and ids:
            self._open_events(tuple(str(i) for i in ids))

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


class _QueueLike(Protocol):
    """What the reports need of the event queue (`console.events.wiring.EventQueue`)."""

    @property
    def model(self) -> Any: ...
    @property
    def controller(self) -> Any: ...
    @property
    def net(self) -> Any: ...
    @property
    def bridge(self) -> Any: ...


def open_in_queue(queue: _QueueLike, ids: tuple[str, ...]) -> str | None:
    """Show only these events in the queue and select the first one of its list."""
    queue.model.show_only(ids)
    first = next((r.event.id for r in queue.model.visible()), None)
    if first is not None:
        queue.controller.select(first)
    return first


def install_reports(
    add_side_panel: Callable[[Any, str], object],
    queue: _QueueLike,
    http_url: str | None,
    *,
    save_dir: Path,
    raise_panel: Callable[[], object] | None = None,
    show_message: Callable[[str], None] | None = None,
) -> ReportController:
    """Dock the monthly report and the hot spots beside the event queue and start."""
    view = ReportView()
    view.setObjectName("reports")
    panel = HotspotPanel()
    panel.setObjectName("hotspots")
    view.set_month(date.today())

    def open_events(ids: tuple[str, ...]) -> None:
        open_in_queue(queue, ids)
        if raise_panel is not None:
            raise_panel()

    ctl = ReportController(
        view,
        panel,
        client=lambda: getattr(queue.controller.client, "reports", None),
        submit=queue.net.submit,
        post=queue.bridge.post,
        http_url=http_url,
        save_dir=save_dir,
        open_events=open_events,
        show_message=show_message,
    )
    add_side_panel(panel, t("hotspots_title"))
    add_side_panel(view, t("report_title"))
    queue.model.session_changed.connect(lambda _s: ctl.refresh_hotspots())
    ctl.start()
    return ctl
