"""`ReportGenerator`: posts realistic Chinese reports to the intake API (for the demo).

Varied sources and categories, places taken from the site (townships, villages, grids),
descriptions in the style of grid workers' and hotline reports, and reporters with
phone and ID numbers (which the hub masks wherever it shows them). Runs in its own
thread with its own event loop; `start()`/`stop()` are safe to call twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl
import threading
from typing import Any

import aiohttp

from dispatch.domain.site import Site

log = logging.getLogger(__name__)

SURNAMES = "张王李赵刘陈杨黄周吴徐孙马朱胡郭何高林罗"
TEMPLATES: dict[str, list[tuple[str, str]]] = {
    "land": [
        ("宅基地边界纠纷", "{p}与邻居因宅基地边界发生争执，双方各执一词，现场情绪激动，请求调解。"),
        ("承包地界桩被移动", "{p}反映其承包地界桩被他人移动，约两分地被占种，多次协商未果。"),
    ],
    "wages": [
        ("农民工讨要工资", "{p}等{n}名工人反映某建筑工地拖欠工资约{m}万元，已聚集在项目部门口。"),
        ("工厂拖欠工资", "{p}反映所在服装厂已三个月未发工资，涉及工人{n}人。"),
    ],
    "neighbours": [
        ("邻里噪音纠纷", "{p}反映楼上住户夜间装修噪音扰民，沟通无果，双方发生口角。"),
        ("排水沟堵塞引发纠纷", "{p}与邻居因排水沟堵塞、雨水倒灌院内发生争执。"),
    ],
    "family": [
        ("家庭矛盾求助", "{p}反映与配偶因赡养老人问题长期争吵，请求村调委会介入。"),
        ("赡养纠纷", "{p}的母亲年逾八旬，几名子女互相推诿赡养责任，老人生活困难。"),
    ],
    "property": [
        ("物业费纠纷", "{p}所在小区业主与物业公司因收费和服务质量发生矛盾，约{n}户拒交物业费。"),
        ("电梯长期故障", "{p}反映小区{n}号楼电梯故障已两周无人维修，老人出行困难。"),
    ],
    "demolition": [
        ("拆迁补偿争议", "{p}对房屋征收补偿标准有异议，认为评估面积少算，要求重新测量。"),
    ],
    "environment": [
        ("河道污水排放", "{p}反映村边河道有不明污水排放，水体发黑发臭，疑似附近养殖场所为。"),
        ("焚烧秸秆", "{p}反映田间有人焚烧秸秆，浓烟影响附近道路通行。"),
    ],
    "safety_hazard": [
        ("危房安全隐患", "{p}反映村内一处闲置危房墙体开裂，紧邻上学路，存在倒塌风险。"),
        ("燃气泄漏隐患", "{p}反映楼道内有明显燃气味，疑似管道老化泄漏。"),
    ],
    "other": [
        ("路灯损坏", "{p}反映村口路灯损坏多日，夜间通行不便。"),
    ],
}
SOURCES = [
    "grid_report",
    "grid_report",
    "grid_report",
    "hotline_12345",
    "hotline_12345",
    "petition",
    "walk_in",
    "camera_alarm",
]
PRIORITIES = ["routine"] * 7 + ["urgent"] * 2 + ["emergency"]


def person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "某"


def phone(rng: random.Random) -> str:
    return rng.choice(["138", "139", "150", "186", "177"]) + f"{rng.randrange(10**8):08d}"


def id_number(rng: random.Random) -> str:
    body = f"411422{rng.randrange(1950, 2005)}{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}"
    body += f"{rng.randrange(1000):03d}"
    return body + rng.choice("0123456789X")


def make_report(rng: random.Random, site: Site | None, n: int) -> dict[str, Any]:
    """One realistic report body for `POST /api/v1/events`."""
    category = rng.choice(list(TEMPLATES))
    title, text = rng.choice(TEMPLATES[category])
    who = person(rng)
    place: dict[str, Any] = {}
    if site is not None and site.villages:
        v = rng.choice(site.villages)
        place = {
            "township": v.township,
            "village": v.id,
            "address": f"{site.township_name(v.township)}{v.name}",
        }
        grids = [g for g in site.grids if g.village == v.id]
        if grids:
            place["grid"] = rng.choice(grids).id
    source = rng.choice(SOURCES)
    return {
        "source": source,
        "source_ref": f"GEN-{source}-{n:06d}-{rng.randrange(16**6):06x}",
        "category": category,
        "priority": rng.choice(PRIORITIES),
        "title": title,
        "description": text.format(p=who, n=rng.randrange(3, 40), m=rng.randrange(5, 80)),
        "place": place,
        "reporter": {"name": who, "phone": phone(rng), "id_number": id_number(rng)},
    }


class ReportGenerator:
    def __init__(
        self,
        http_url: str,
        api_key: str,
        rate_per_min: float = 6.0,
        site: Site | None = None,
        seed: int | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.http_url = http_url
        self.ssl_context = ssl_context
        self.api_key = api_key
        self.rate_per_min = rate_per_min
        self.site = site
        self._rng = random.Random(seed)
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.posted = 0
        self.failed = 0

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="report-generator", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join(timeout=10)
        self._thread = None

    def _run(self) -> None:
        asyncio.run(self._loop())

    async def _loop(self) -> None:
        interval = 60.0 / max(self.rate_per_min, 0.001)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as s:
            n = 0
            while not self._stop.is_set():
                body = make_report(self._rng, self.site, n)
                n += 1
                try:
                    async with s.post(
                        f"{self.http_url}/api/v1/events",
                        json=body,
                        headers={"X-Api-Key": self.api_key},
                        ssl=self.ssl_context or True,
                    ) as r:
                        if r.status in (200, 201):
                            self.posted += 1
                        else:
                            self.failed += 1
                            log.warning("report rejected %s: %s", r.status, await r.text())
                except (aiohttp.ClientError, TimeoutError) as exc:
                    self.failed += 1
                    log.info("hub not reachable: %s", exc)
                # exponential gaps: reports arrive at random, at the configured mean rate
                wait = self._rng.expovariate(1.0 / interval)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.to_thread(self._stop.wait, wait), wait + 1)
