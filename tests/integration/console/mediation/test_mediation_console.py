"""The console's mediation window (offscreen Qt) against a real `hall-hub` process and a
real headless Chromium participant: links and QR codes, lobby admit, the participant's
video in the window (frames counted), recording, and the outcome form that files the
session on the event's timeline."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, Playwright, async_playwright
from PySide6.QtWidgets import QApplication

from console.events.controller import LoginOutcome
from console.events.panel import EventQueuePanel
from console.events.wiring import EventQueue
from console.kit.net import NetThread, QtBridge
from console.mediation.controller import MediationController
from console.mediation.coordinator import install_mediation
from console.mediation.model import MediationModel
from console.mediation.view import MediationWindow
from dispatch.client.connection import HubClient
from dispatch.hub.process import HubProcess
from streams.webrtc.config import restrict_host_addresses
from tests.integration.dispatch.mediation.test_mediation_support import (
    CHROMIUM_ARGS,
    LOOPBACK,
    SHOTS,
    mediation_args,
    open_participant,
    page_frames,
    post_event,
)
from tests.kit import pump_until
from tests.kit.hub import StartHub, client_keys
from tests.kit.tls import HUB_HOST, chromium_args_for

pytestmark = [pytest.mark.integration, pytest.mark.browser]


@pytest.fixture
def hub(start_hub: StartHub, tmp_path: Path) -> HubProcess:
    return start_hub(**mediation_args(tmp_path))


class BrowserSide:
    """Playwright on its own loop thread, so that the Qt thread can keep pumping."""

    def __init__(self, hub: HubProcess) -> None:
        self.args = CHROMIUM_ARGS + chromium_args_for(hub, host=HUB_HOST)
        self.net = NetThread("browser")
        self.pw: Playwright | None = None
        self.browser: Browser | None = None

    def run(self, coro: Any, timeout_s: float = 60.0) -> Any:
        return self.net.submit(coro).result(timeout_s)

    def start(self) -> None:
        self.net.start()

        async def go() -> None:
            self.pw = await async_playwright().start()
            self.browser = await self.pw.chromium.launch(
                executable_path="/usr/bin/chromium", args=self.args, headless=True
            )

        self.run(go())

    def stop(self) -> None:
        async def go() -> None:
            if self.browser is not None:
                await self.browser.close()
            if self.pw is not None:
                await self.pw.stop()

        try:
            self.run(go(), 30)
        finally:
            self.net.stop()


def duty_window(
    hub: HubProcess, net: NetThread, bridge: QtBridge, eid: str, title: str
) -> tuple[HubClient, MediationModel, MediationWindow]:
    """The duty officer's hub client (logged in on the network thread) and a mediation
    window for event `eid`, its controller on that client."""

    async def make_client() -> HubClient:
        c = HubClient(
            hub.req_endpoint,
            hub.pub_endpoint,
            keys=client_keys(hub),
            workstation="hall-1",
            on_change=lambda ch: None,
            on_connection=lambda st: None,
        )
        await c.start()
        await c.login("duty", "duty123")
        return c

    client = net.submit(make_client()).result(30)
    model = MediationModel(eid, title)
    ctl = MediationController(
        model,
        net,
        bridge,
        lambda: client.mediation,
        hub.http_url,
        keep_hosts=LOOPBACK,
        http_ssl=hub.ssl_context(),
    )
    return client, model, MediationWindow(model, ctl)


def test_console_window_admits_shows_video_records_and_files_the_outcome(
    hub: HubProcess, qapp: QApplication
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    restrict_host_addresses(LOOPBACK)
    eid = post_event(hub, "邻里漏水纠纷", "med-console-1")
    net, bridge = NetThread(), QtBridge()
    net.start()
    side = BrowserSide(hub)
    side.start()

    client, model, win = duty_window(hub, net, bridge, eid, "邻里漏水纠纷")
    win.show()
    try:
        # an invite without a name is refused with a clear message and nothing is opened
        win.open_session()
        assert "请填写姓名" in win.status.text()
        assert model.session_id is None
        names = ["王法官", "", "", "张三", ""]
        for (check, _role, edit), name in zip(win.invite_rows, names, strict=True):
            check.setChecked(bool(name))
            edit.setText(name)
        win.open_button.click()
        pump_until(lambda: model.phase == "open", 30)
        assert [(lk.label, lk.name) for lk in model.links] == [
            ("法官", "王法官"),
            ("当事人", "张三"),
        ]
        assert len(win.link_cards) == 2
        card = win.link_cards[0]
        assert card.pin in card.text.text() and "有效至" in card.text.text()
        assert card.copy_text() == f"{hub.http_url}{model.links[0].path}  PIN {card.pin}"
        pix = card.qr.pixmap()
        assert pix is not None and pix.width() >= 75
        card.copy()
        clip = QApplication.clipboard()
        assert clip is not None and clip.text() == card.copy_text()

        court = model.links[0]
        page: Page = side.run(
            open_participant(side.browser, hub.http_url + court.path, court.pin)  # type: ignore[arg-type]
        )
        pid = court.participant_id
        pump_until(lambda: any(p.id == pid for p in model.lobby()), 30)
        assert "候场 1 人" in win.lobby_label.text()
        assert pid not in win.tiles  # not admitted: no picture
        win.peer_rows[pid][1].click()  # 准入
        pump_until(lambda: pid in win.tiles and win.tiles[pid].frames > 25, 30)
        assert model.frames[pid] >= win.tiles[pid].frames
        # the hall's self-preview: what the hall sends (the synthetic camera), labelled
        pump_until(lambda: win.self_tile.frames > 10, 30)
        assert win.self_tile.title == "本端"
        me = win.self_tile.image
        assert me is not None and me.shape[:2] == (120, 160) and int(me.std()) > 0
        pump_until(lambda: win.conn_label.text() == "通话中", 30)
        arr = win.tiles[pid].image
        assert arr is not None and arr.shape[2] == 4 and int(arr.std()) > 0
        # the browser sees the hall
        side_frames = side.run(_wait_frames(page, "host", 20))
        assert side_frames["host"] > 20
        # the page's fake microphone beeps: the hall shows who speaks at some moment
        pump_until(lambda: pid in model.speaking() and win.tiles[pid].speaking, 30)

        win.record_button.click()
        pump_until(lambda: model.recording and "录像中" in win.rec_label.text(), 30)
        win.grab().save(str(SHOTS / "mediation_console.png"))
        win.record_button.click()
        pump_until(lambda: not model.recording, 30)

        # outcome form: an agreement needs its notes; then it closes and files
        win.close_session()
        assert "请选择调解结果" in win.status.text() and model.phase == "open"
        win.outcome.setCurrentIndex(win.outcome.findData("agreement"))
        win.close_session()
        assert "协议要点" in win.status.text() and model.phase == "open"
        win.notes.setPlainText("分三期赔偿维修费")
        win.close_button.click()
        pump_until(lambda: model.closed_reply is not None, 30)
        assert model.phase in ("closed",)
        assert model.closed_reply is not None and model.closed_reply.outcome == "agreement"
        assert "达成协议" in win.status.text()
        side.run(page.wait_for_selector("#ended:not([hidden])", timeout=10_000))
        timeline = net.submit(client.events.timeline(eid)).result(15)
        line = next(e.note for e in timeline if e.action == "mediation_close")
        assert "达成协议" in line and "王法官" in line and "分三期赔偿维修费" in line
    finally:
        win.shutdown()
        win.close()
        try:
            net.submit(client.stop()).result(15)
        finally:
            net.stop()
            side.stop()


async def _wait_frames(page: Page, key: str, n: int, timeout_s: float = 30.0) -> dict[str, int]:
    deadline = time.monotonic() + timeout_s
    while True:
        got = await page_frames(page)
        if got.get(key, 0) > n or time.monotonic() > deadline:
            return got
        await asyncio.sleep(0.1)


def test_event_queue_button_opens_the_window_on_the_selected_event(
    hub: HubProcess, qapp: QApplication
) -> None:
    restrict_host_addresses(LOOPBACK)
    eid = post_event(hub, "土地承包合同纠纷", "med-console-2")
    queue = EventQueue.for_hub(hub.req_endpoint, hub.pub_endpoint, keys=client_keys(hub))
    queue.start()
    panel = EventQueuePanel(queue.model, queue.controller, beep=lambda: None, ask=lambda *a: None)
    coord = install_mediation(
        panel,
        queue.controller,
        queue.net,
        queue.bridge,
        hub.http_url,
        http_ssl=hub.ssl_context(),
    )
    try:
        panel.request_mediation()  # nothing selected: no window
        assert coord.windows == {}
        assert "M" in panel.shortcuts and "视频调解" in panel.mediation_button.text()
        out: list[LoginOutcome] = []
        queue.controller.login("duty", "duty123", "hall-1", out.append)
        pump_until(lambda: bool(out) and queue.model.row(eid) is not None, 30)
        queue.controller.select(eid)
        pump_until(lambda: queue.model.selected_id == eid, 30)
        panel.mediation_button.click()
        win = coord.windows[eid]
        assert "土地承包合同纠纷" in win.windowTitle()
        for (check, _r, edit), name in zip(
            win.invite_rows, ["王法官", "", "", "", ""], strict=True
        ):
            check.setChecked(bool(name))
            edit.setText(name)
        win.open_button.click()
        pump_until(lambda: win.model.phase == "open" and win.model.me is not None, 30)
        assert [lk.name for lk in win.model.links] == ["王法官"]
        panel.request_mediation()  # again: the same window, raised
        assert coord.windows[eid] is win
        win.outcome.setCurrentIndex(win.outcome.findData("referred"))
        win.close_button.click()
        pump_until(lambda: win.model.closed_reply is not None, 30)
        assert win.model.closed_reply is not None
        assert win.model.closed_reply.outcome == "referred"
        assert "转诉讼" in win.status.text()
    finally:
        coord.stop()
        queue.stop()
        panel.close()
    assert not queue.bridge.errors


def test_more_than_six_parties_without_janus_shows_the_hubs_refusal(
    hub: HubProcess, qapp: QApplication
) -> None:
    """The invite form with 4 parties added to court, notary and mediator (8 parties with
    the hall) against a hub on `engine = auto` with no Janus: the hub's refusal is shown in
    the window as the hub words it, nothing opens, and the officer can take 2 rows out
    and open on the hub's own star (6 parties)."""
    restrict_host_addresses(LOOPBACK)
    eid = post_event(hub, "宅基地边界纠纷", "med-console-3")
    net, bridge = NetThread(), QtBridge()
    net.start()

    client, model, win = duty_window(hub, net, bridge, eid, "宅基地边界纠纷")
    win.show()
    try:
        form = win.invite_box
        form.add_button.click()
        form.add_button.click()
        names = ["王法官", "李公证", "赵调解", "张三", "李四", "王五", "赵六"]
        for (check, _role, edit), name in zip(win.invite_rows, names, strict=True):
            check.setChecked(True)
            edit.setText(name)
        win.open_button.click()
        pump_until(lambda: model.phase == "failed", 30)
        shown = win.status.text()
        assert shown.startswith("开启调解失败：8 方的调解需要 Janus 视频会议服务"), shown
        assert "内置模式最多 6 方" in shown and "invalid:" not in shown
        assert model.session_id is None and form.isEnabled()
        for row in form.rows[5:]:  # the two added rows go
            assert row.remove_button is not None
            row.remove_button.click()
        assert len(win.invite_rows) == 5
        win.open_button.click()
        pump_until(lambda: model.phase == "open" and model.me is not None, 30)
        assert [lk.name for lk in model.links] == names[:5]
        win.outcome.setCurrentIndex(win.outcome.findData("referred"))
        win.close_button.click()
        pump_until(lambda: model.closed_reply is not None, 30)
    finally:
        win.shutdown()
        win.close()
        try:
            net.submit(client.stop()).result(15)
        finally:
            net.stop()
    assert not bridge.errors
