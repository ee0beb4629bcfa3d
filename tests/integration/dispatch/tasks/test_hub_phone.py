"""The grid leader's phone page in real headless Chromium against a real `hall-hub`
process (SQLite file, zmq, aiohttp), with a `HubClient` as the console's view."""

from __future__ import annotations

import asyncio
import hashlib
import json
import struct
import urllib.request
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page, ViewportSize, async_playwright

from dispatch.client.connection import HubClient
from dispatch.db.store import Store
from dispatch.hub.demo import DEMO_API_KEY
from dispatch.hub.process import HubProcess
from dispatch.tasks import store as st
from dispatch.tasks.core import TaskAction, TaskState
from dispatch.tasks.messages import TaskChanged
from tests.kit.hub import client_keys
from tests.kit.paths import ROOT
from tests.kit.tls import HUB_HOST, chromium_args_for

pytestmark = [pytest.mark.integration, pytest.mark.browser]

SHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE: ViewportSize = {"width": 360, "height": 740}
WAIT_MS = 15_000


def png_bytes(w: int = 8, h: int = 8) -> bytes:
    """A real (tiny) PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + bytes([200, 60, 60]) * w for _ in range(h))
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def post_event(hub: HubProcess, title: str, ref: str) -> str:
    body = {
        "source": "grid_report",
        "source_ref": ref,
        "category": "neighbours",
        "priority": "urgent",
        "title": title,
        "place": {"township": "t01", "village": "v01", "grid": "v01g1", "address": "东街12号"},
    }
    req = urllib.request.Request(
        f"{hub.http_url}/api/v1/events",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "X-Api-Key": DEMO_API_KEY},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=10, context=hub.ssl_context()) as resp:
        return str(json.loads(resp.read())["id"])


class Console:
    """A logged-in HubClient collecting every published task change."""

    def __init__(self, hub: HubProcess) -> None:
        self.changes: list[TaskChanged] = []
        self.client = HubClient(
            hub.req_endpoint,
            hub.pub_endpoint,
            keys=client_keys(hub),
            workstation="test-console",
            on_change=lambda ch: None,
            on_connection=lambda st: None,
            on_task=self.changes.append,
        )

    def states(self, task_id: str) -> list[str]:
        return [m.task.state.value for m in self.changes if m.task.id == task_id]

    async def wait_state(self, task_id: str, state: str) -> None:
        async def until() -> None:
            while state not in self.states(task_id):
                await asyncio.sleep(0.02)

        await asyncio.wait_for(until(), WAIT_MS / 1000)


@asynccontextmanager
async def console(hub: HubProcess) -> AsyncIterator[Console]:
    c = Console(hub)
    await c.client.start()
    try:
        await c.client.login("duty", "duty123")
        yield c
    finally:
        await c.client.stop()


@asynccontextmanager
async def chromium(hub: HubProcess) -> AsyncIterator[Browser]:
    """Headless Chromium trusting `hub`'s CA (and mapping `hub.test` to 127.0.0.1)."""
    args = CHROMIUM_ARGS + chromium_args_for(hub, host=HUB_HOST)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path="/usr/bin/chromium", args=args, headless=True
        )
        try:
            yield browser
        finally:
            await browser.close()


async def phone(browser: Browser) -> BrowserContext:
    return await browser.new_context(viewport=PHONE, locale="zh-CN")


async def log_in(page: Page, url: str, pin: str) -> None:
    await page.goto(url)
    await page.fill("#pin", pin)
    await page.click("#login")
    await page.wait_for_selector("#conn.ok", timeout=WAIT_MS)


def card(task_id: str) -> str:
    return f'section.task[data-task-id="{task_id}"]'


def run(fn: Callable[[], Awaitable[Any]]) -> Any:
    async def go() -> Any:
        return await asyncio.wait_for(fn(), 120)

    return asyncio.run(go())


def test_dispatch_accept_on_site_feedback_with_photo(hub: HubProcess, tmp_path: Path) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    photo = tmp_path / "现场.png"
    photo.write_bytes(png_bytes())

    async def body() -> None:
        eid = post_event(hub, "楼道堆放杂物引发邻里争吵", "ph-1")
        async with console(hub) as con, chromium(hub) as browser:
            link = await con.client.tasks.issue_phone_link("p00")
            ctx = await phone(browser)
            page = await ctx.new_page()
            await log_in(page, hub.http_url + link.path, link.pin)
            assert await page.locator("#empty").is_visible()
            task = await con.client.tasks.dispatch_event(eid, note="请带上调解员")  # one click
            assert task.assignee == "p00"
            await page.wait_for_selector(card(task.id), timeout=WAIT_MS)
            assert await page.locator("#toast").is_visible()
            assert "新任务" in await page.locator("#toast").inner_text()
            await con.wait_state(task.id, "read")  # acked (delivered), then shown (read)
            await page.screenshot(path=str(SHOTS / "phone_task_list.png"))
            await page.click(f"{card(task.id)} button.act-accept")
            await con.wait_state(task.id, "accepted")
            await page.click(f"{card(task.id)} button.act-arrive")
            await con.wait_state(task.id, "on_site")
            await page.click(f"{card(task.id)} button.act-feedback")
            await page.fill(
                f"{card(task.id)} textarea.feedback-text", "已到场调解，双方同意当日清理杂物"
            )
            await page.set_input_files(f"{card(task.id)} input.photo-input", str(photo))
            await page.screenshot(path=str(SHOTS / "phone_feedback_form.png"))
            await page.click(f"{card(task.id)} button.submit-feedback")
            await con.wait_state(task.id, "feedback")
            await page.wait_for_selector(f"{card(task.id)} .photos img", timeout=WAIT_MS)
            stats = await page.evaluate("window.__hall")
            assert stats["toasts"] == [task.id] and stats["acks"] == [task.id]
            assert await page.locator(card(task.id)).count() == 1
            done = await con.client.tasks.confirm_task(task.id)
            assert done.state is TaskState.DONE
            await page.wait_for_selector(card(task.id), state="detached", timeout=WAIT_MS)
            assert con.states(task.id) == [
                "sent", "delivered", "read", "accepted", "on_site", "feedback", "done",
            ]  # fmt: skip
            seqs = [m.seq for m in con.changes]
            assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
            timeline = [
                a
                for a in await con.client.events.timeline(eid)
                if str(a.action).startswith("task_")
            ]
            assert [str(a.action) for a in timeline] == [
                "task_dispatch", "task_deliver", "task_read", "task_accept",
                "task_arrive", "task_feedback", "task_confirm",
            ]  # fmt: skip
            assert "张建国" in timeline[0].note and "已送达" in timeline[1].note
            detail = await con.client.tasks.tasks_detail(eid)
            (ph,) = [a for a in detail.attachments if a.kind == "photo"]
            want = photo.read_bytes()
            assert ph.stored and ph.size == len(want)
            assert ph.sha256 == hashlib.sha256(want).hexdigest()
            assert detail.tasks[0].feedback_photos == (ph.id,)
            await ctx.close()

    run(body)


def test_wrong_pin_unknown_and_expired_links_are_refused(hub: HubProcess, tmp_path: Path) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)

    async def body() -> None:
        async with console(hub) as con, chromium(hub) as browser:
            link = await con.client.tasks.issue_phone_link("p02")
            ctx = await phone(browser)
            page = await ctx.new_page()
            await page.goto(hub.http_url + link.path)
            wrong = "000000" if link.pin != "000000" else "111111"
            await page.fill("#pin", wrong)
            async with page.expect_response(lambda r: r.url.endswith("/login")) as got:
                await page.click("#login")
            assert (await got.value).status == 401
            assert "PIN 码错误，还可尝试 4 次" in await page.locator("#pin-error").inner_text()
            await page.screenshot(path=str(SHOTS / "phone_wrong_pin.png"))
            assert await page.locator("#conn").count() == 0  # no task page
            resp = await page.goto(hub.http_url + "/m/no-such-link-0123456789")
            assert resp is not None and resp.status == 404
            assert "链接无效" in await page.locator("#notice h1").inner_text()
            short = await con.client.tasks.issue_phone_link("p02", ttl_days=1.0 / 86400)  # 1 s

            async def expired() -> None:
                while True:
                    r = await page.goto(hub.http_url + short.path)
                    if r is not None and r.status == 410:
                        return
                    await asyncio.sleep(0.2)

            await asyncio.wait_for(expired(), 15)
            assert "链接已过期" in await page.locator("#notice h1").inner_text()
            await page.screenshot(path=str(SHOTS / "phone_expired_link.png"))
            # the right PIN still works on the first link (4 tries were left)
            await log_in(page, hub.http_url + link.path, link.pin)
            await ctx.close()

    run(body)


def test_offline_page_gets_its_tasks_once_even_across_a_hub_restart(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'hall.db'}"
    hub = HubProcess(db, demo=True)
    hub.start(timeout_s=60)

    async def body() -> None:
        nonlocal hub
        async with chromium(hub) as browser:
            async with console(hub) as con:
                link = await con.client.tasks.issue_phone_link("p00")
                ctx = await phone(browser)
                page = await ctx.new_page()
                await log_in(page, hub.http_url + link.path, link.pin)
                await page.close()  # the phone goes offline
                e1 = post_event(hub, "井盖缺失", "off-1")
                e2 = post_event(hub, "路灯不亮", "off-2")
                t1 = await con.client.tasks.dispatch_event(e1)
                t2 = await con.client.tasks.dispatch_event(e2)
                await asyncio.sleep(0.3)  # give a (wrong) push the chance to be acked
                assert con.states(t1.id) == ["sent"] and con.states(t2.id) == ["sent"]
            hub.kill()  # SIGKILL: only what was committed survives
            hub = HubProcess(db, demo=True)
            hub.start(timeout_s=60)
            async with console(hub) as con:
                page = await ctx.new_page()  # the session cookie survived the restart
                await page.goto(hub.http_url + link.path)
                for t in (t1, t2):
                    await page.wait_for_selector(card(t.id), timeout=WAIT_MS)
                    await con.wait_state(t.id, "read")
                await page.reload()  # a reconnect: nothing is shown or acked twice
                await page.wait_for_selector("#conn.ok", timeout=WAIT_MS)
                await page.wait_for_selector(card(t2.id), timeout=WAIT_MS)
                for t in (t1, t2):
                    assert await page.locator(card(t.id)).count() == 1
                stats = await page.evaluate("window.__hall")
                assert stats["toasts"] == [] and stats["acks"] == []
                for eid, t in ((e1, t1), (e2, t2)):
                    hist = (await con.client.tasks.tasks_detail(eid)).history
                    acts = [r.action for r in hist if r.task_id == t.id]
                    assert acts == [TaskAction.DISPATCH, TaskAction.DELIVER, TaskAction.READ]
            await ctx.close()

    try:
        run(body)
    finally:
        hub.stop()


def test_oversized_or_non_image_upload_is_refused_and_nothing_stored(
    hub: HubProcess, tmp_path: Path
) -> None:
    big = tmp_path / "big.jpg"
    big.write_bytes(b"\xff\xd8\xff\xe0" + b"\0" * (5 * 1024 * 1024 + 10))
    fake = tmp_path / "notes.png"
    fake.write_bytes("这不是照片".encode() * 100)
    uploads = tmp_path / "uploads"

    async def body() -> None:
        eid = post_event(hub, "违章搭建", "up-1")
        async with console(hub) as con, chromium(hub) as browser:
            link = await con.client.tasks.issue_phone_link("p00")
            ctx = await phone(browser)
            page = await ctx.new_page()
            await log_in(page, hub.http_url + link.path, link.pin)
            task = await con.client.tasks.dispatch_event(eid)
            await page.wait_for_selector(card(task.id), timeout=WAIT_MS)
            await page.click(f"{card(task.id)} button.act-accept")
            await con.wait_state(task.id, "accepted")
            await page.click(f"{card(task.id)} button.act-arrive")
            await con.wait_state(task.id, "on_site")
            await page.click(f"{card(task.id)} button.act-feedback")
            await page.fill(f"{card(task.id)} textarea.feedback-text", "已处理")
            for f, want in ((big, "照片太大"), (fake, "只能上传 JPG、PNG 或 WebP")):
                await page.set_input_files(f"{card(task.id)} input.photo-input", str(f))
                await page.click(f"{card(task.id)} button.submit-feedback")
                msg = page.locator(f"{card(task.id)} .msg.error")
                await msg.wait_for(timeout=WAIT_MS)
                assert want in await msg.inner_text()
                await page.wait_for_function(
                    "(sel) => !document.querySelector(sel).disabled",
                    arg=f"{card(task.id)} button.submit-feedback",
                )
            await page.screenshot(path=str(SHOTS / "phone_upload_refused.png"))
            assert con.states(task.id)[-1] == "on_site"  # no feedback was sent
            await ctx.close()

    run(body)
    files = list(uploads.iterdir()) if uploads.exists() else []
    assert files == []
    store = Store(hub.db_url)
    store.open()
    try:
        assert st.count_attachments(store.engine) == 0
    finally:
        store.close()
