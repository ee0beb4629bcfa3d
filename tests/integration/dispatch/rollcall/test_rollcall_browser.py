"""A roll call over duty stations in real headless Chromium: some answer, one does not
answer (and answers the re-call), one declines, one is closed (page not open). The log
holds the right outcome for each, the closed one is link_down, the re-calls happen,
coverage is right, snapshots are real pictures, and the week exports to CSV and a PDF
whose Chinese renders (pages rendered with pdftoppm into artifacts/screenshots)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.async_api import Browser, Page

from streams.webrtc.config import restrict_host_addresses
from tests.integration.dispatch.mediation.test_mediation_support import SHOTS, chromium
from tests.integration.dispatch.rollcall.test_rollcall_support import (
    LOOPBACK,
    WAIT_S,
    console,
    rollcall_hub,
    until,
    write_site,
)

pytestmark = [pytest.mark.integration, pytest.mark.browser]

PLANS = {
    "t01": ["answer"],
    "t01v01": ["answer"],
    "t01v02": ["ignore", "answer"],
    "t01v03": ["decline", "decline"],
}  # t01v04: closed, its page is never opened


async def open_station(browser: Browser, url: str, pin: str) -> Page:
    ctx = await browser.new_context(viewport={"width": 900, "height": 700}, locale="zh-CN")
    page = await ctx.new_page()
    await page.goto(url)
    await page.fill("#pin", pin)
    await page.click("#login")
    await page.wait_for_selector("#presence.online", timeout=WAIT_S * 1000)
    return page


async def drive(page: Page, plan: list[str], shot: Path | None) -> None:
    for act in plan:
        await page.wait_for_selector("#ringing:not([hidden])", timeout=120_000)
        count = int(await page.inner_text("#countdown"))
        assert 0 < count <= 4
        if shot is not None:
            await page.screenshot(path=str(shot))
            shot = None
        if act == "answer":
            await page.click("#answer")
            await page.wait_for_selector("#incall:not([hidden])", timeout=WAIT_S * 1000)
            await page.wait_for_selector("#idle:not([hidden])", timeout=60_000)
        elif act == "decline":
            await page.click("#decline")
        else:
            await page.wait_for_selector("#ringing", state="hidden", timeout=30_000)


def test_rollcall_over_chromium_stations(tmp_path: Path) -> None:
    restrict_host_addresses(LOOPBACK)
    SHOTS.mkdir(parents=True, exist_ok=True)
    site = write_site(tmp_path / "site.toml", 1, 4)
    hub = rollcall_hub(tmp_path, site)

    async def scenario() -> None:
        async with console(hub) as c, chromium(hub) as browser:
            pages: dict[str, Page] = {}
            for cid in [*PLANS, "t01v04"]:
                link = await c.rollcall.station_link(centre_id=cid)
                assert link.path.startswith("/s/") and len(link.pin) == 6
                if cid in PLANS:
                    pages[cid] = await open_station(browser, hub.http_url + link.path, link.pin)
            roster = await c.rollcall.roster()
            online = {x.id: x.online for x in roster.centres}
            assert online == {
                "t01": True,
                "t01v01": True,
                "t01v02": True,
                "t01v03": True,
                "t01v04": False,
            }
            drivers = [
                asyncio.create_task(
                    drive(
                        p,
                        PLANS[cid],
                        SHOTS / "rollcall_station_ringing.png" if cid == "t01" else None,
                    )
                )
                for cid, p in pages.items()
            ]
            rep = await c.rollcall.start(ring_s=3.0, talk_s=1.0)
            assert rep.run is not None and rep.run.due == [*PLANS, "t01v04"]

            async def done() -> bool:
                st = await c.rollcall.status()
                return st.run is not None and st.run.status == "done"

            await until(done, timeout_s=150, what="run done")
            await asyncio.wait_for(asyncio.gather(*drivers), 30)
            week = await c.rollcall.week()
            got = {(x.centre_id, x.attempt): x for x in week.calls}
            outcomes = {k: v.outcome for k, v in got.items()}
            assert outcomes == {
                ("t01", 1): "answered",
                ("t01v01", 1): "answered",
                ("t01v02", 1): "no_answer",
                ("t01v03", 1): "declined",
                ("t01v04", 1): "link_down",
                ("t01v02", 2): "answered",
                ("t01v03", 2): "declined",
                ("t01v04", 2): "link_down",
            }
            order = [(x.centre_id, x.attempt) for x in week.calls]
            assert order.index(("t01v02", 2)) > order.index(("t01v04", 1))  # re-calls at the end
            for k in [("t01", 1), ("t01v01", 1), ("t01v02", 2)]:
                x = got[k]
                assert x.answer_s is not None and 0 < x.answer_s < 3.5
                assert x.duration_s is not None and x.duration_s >= 0.9
                assert x.snapshot is not None
                img = np.asarray(Image.open(x.snapshot).convert("L"))
                assert img.shape[0] >= 120 and img.std() > 10  # a real picture, not black
            assert got[("t01v04", 1)].rang_at is None and got[("t01v03", 1)].answered_at is None
            cov = {r.township: (r.due, r.reached) for r in week.coverage}
            assert cov == {"t01": (5, 3), "": (5, 3)}
            shutil.copy(got[("t01", 1)].snapshot or "", SHOTS / "rollcall_snapshot.png")

            note = await c.rollcall.note(centre_id="t01v03", attempt=1, note="值班员称正在开会")
            assert note.run is not None
            assert (
                next(x.note for x in note.run.calls if x.centre_id == "t01v03")
                == "值班员称正在开会"
            )

            ex = await c.rollcall.export()
            files = [Path(f) for f in ex.files]  # the roll call's CSV, the week's meetings, PDF
            assert [f.name.split("-")[0] for f in files] == ["rollcall", "meetings", "rollcall"]
            csv_path, pdf_path = files[0], files[2]
            assert csv_path.suffix == ".csv" and pdf_path.suffix == ".pdf"
            text = csv_path.read_text(encoding="utf-8-sig")
            assert text.splitlines()[0].startswith("周,点名批次,乡镇/街道,中心")
            assert text.count("链路中断") == 2 and text.count("已接通") == 3
            assert "值班员称正在开会" in text
            out = SHOTS / "rollcall_pdf"
            subprocess.run(
                ["pdftoppm", "-r", "60", "-png", str(pdf_path), str(out)], check=True, timeout=60
            )
            pages_png = sorted(SHOTS.glob("rollcall_pdf-*.png"))
            assert len(pages_png) >= 3  # coverage, log, snapshots
            fonts = subprocess.run(
                ["pdffonts", str(pdf_path)], capture_output=True, text=True, timeout=30
            ).stdout
            assert "WenQuanYi" in fonts or "wqy" in fonts.lower()

    hub.start()
    try:
        asyncio.run(asyncio.wait_for(scenario(), 300))
    finally:
        hub.stop()
