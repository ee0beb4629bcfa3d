"""The soak's grid leaders: phone sessions speaking the phone page's own protocol with
plain aiohttp (no browser): PIN login (`POST /m/{token}/login`, cookie `hall_m`), the
page's WebSocket (`hello`, `task` pushes; `ack` back), and the page's JSON actions
(accept → arrive → feedback). Each session stays 20–60 s, goes away 1–5 s and comes
back, for as long as the soak runs; a hub that is away is waited for."""

from __future__ import annotations

import asyncio
import contextlib
import random
import ssl
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp
from pydantic import TypeAdapter

from dispatch.tasks.phone_messages import Ack, Hello, TaskPush, TaskView
from dispatch.tasks.web import COOKIE

PhoneOut = TypeAdapter(Hello | TaskPush)
FIELD_STEPS = ("accept", "arrive", "feedback")
# where the field steps start from, by the task's state
FIRST_STEP = {"sent": 0, "delivered": 0, "read": 0, "accepted": 1, "on_site": 2}


@dataclass(frozen=True)
class PhoneLink:
    person: str
    path: str  # /m/{token}
    pin: str


@dataclass
class PhoneCounts:
    connects: int = 0
    disconnects: int = 0
    acks: int = 0
    actions: int = 0
    errors: int = 0
    logins: int = 0


class Phones:
    def __init__(self, http_url: Callable[[], str], ssl_ctx: ssl.SSLContext,
                 links: list[PhoneLink], *, stay_s: tuple[float, float] = (20.0, 60.0),
                 away_s: tuple[float, float] = (1.0, 5.0), seed: int = 16) -> None:  # fmt: skip
        self._url = http_url
        self._ssl = ssl_ctx
        self._links = links
        self._stay = stay_s
        self._away = away_s
        self._rnd = random.Random(seed)
        self._cookies: dict[str, str] = {}
        self._busy: set[str] = set()  # task ids whose field steps are under way
        self._done: set[str] = set()  # task ids fed back
        self._steps: set[asyncio.Task[None]] = set()
        self._stop = asyncio.Event()
        self._http: aiohttp.ClientSession | None = None
        self.counts = PhoneCounts()

    async def _login(self, link: PhoneLink) -> None:
        assert self._http is not None
        url = f"{self._url()}{link.path}/login"
        async with self._http.post(url, data={"pin": link.pin}, allow_redirects=False) as r:
            if r.status != 303:
                raise RuntimeError(f"phone login {link.person}: HTTP {r.status}")
            self._cookies[link.path] = r.cookies[COOKIE].value
        self.counts.logins += 1

    def _head(self, link: PhoneLink) -> dict[str, str]:
        return {"Cookie": f"{COOKIE}={self._cookies[link.path]}"}

    async def _field_steps(self, link: PhoneLink, view: TaskView) -> None:
        """accept → arrive → feedback from where the task is, as the page's buttons do (a
        step already taken before a lost reply is answered 409 and passed)."""
        assert self._http is not None
        try:
            for step in FIELD_STEPS[FIRST_STEP.get(view.state, len(FIELD_STEPS)) :]:
                url = f"{self._url()}{link.path}/api/tasks/{view.id}/{step}"
                note = {"note": "已到现场处置，矛盾已化解"} if step == "feedback" else {}
                async with self._http.post(url, json=note, headers=self._head(link)) as r:
                    await r.read()
                    if r.status == 200:
                        self.counts.actions += 1
                    elif r.status != 409:
                        self.counts.errors += 1
                        return
            self._done.add(view.id)
        except (aiohttp.ClientError, TimeoutError, OSError):
            self.counts.errors += 1
        finally:
            self._busy.discard(view.id)

    async def _handle(self, link: PhoneLink, ws: aiohttp.ClientWebSocketResponse,
                      data: str) -> None:  # fmt: skip
        msg = PhoneOut.validate_json(data)
        views = msg.tasks if isinstance(msg, Hello) else [msg.task]
        for view in views:
            if view.need_ack:
                await ws.send_str(Ack(type="ack", id=view.id).model_dump_json())
                self.counts.acks += 1
            if view.state in FIRST_STEP and view.id not in self._busy and view.id not in self._done:
                self._busy.add(view.id)
                task = asyncio.create_task(self._field_steps(link, view))
                self._steps.add(task)
                task.add_done_callback(self._steps.discard)

    async def _visit(self, link: PhoneLink) -> None:
        """One connection of the page, for a random stay."""
        assert self._http is not None
        ws_url = self._url().replace("https", "wss", 1) + link.path + "/ws"
        stay = self._rnd.uniform(*self._stay)
        async with self._http.ws_connect(ws_url, headers=self._head(link), heartbeat=20) as ws:
            self.counts.connects += 1
            loop = asyncio.get_running_loop()
            end = loop.time() + stay
            while not self._stop.is_set() and (left := end - loop.time()) > 0:
                try:
                    msg = await ws.receive(timeout=min(left, 1.0))
                except TimeoutError:
                    continue
                if msg.type is not aiohttp.WSMsgType.TEXT:
                    break
                await self._handle(link, ws, msg.data)
        self.counts.disconnects += 1

    async def _phone(self, link: PhoneLink) -> None:
        while not self._stop.is_set():
            try:
                if link.path not in self._cookies:
                    await self._login(link)
                await self._visit(link)
            except aiohttp.WSServerHandshakeError as exc:
                self.counts.errors += 1
                if exc.status == 401:  # the session ended: the PIN again
                    self._cookies.pop(link.path, None)
            except (aiohttp.ClientError, RuntimeError, TimeoutError, OSError):
                self.counts.errors += 1  # the hub is away (restart)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self._rnd.uniform(*self._away))

    async def run(self) -> None:
        connector = aiohttp.TCPConnector(limit=0, ssl=self._ssl)
        jar = aiohttp.DummyCookieJar()  # each session's cookie is sent by hand
        timeout = aiohttp.ClientTimeout(total=20)
        async with aiohttp.ClientSession(connector=connector, cookie_jar=jar,
                                         timeout=timeout) as http:  # fmt: skip
            self._http = http
            phones = []
            for link in self._links:  # not all in the same millisecond
                phones.append(asyncio.create_task(self._phone(link)))
                await asyncio.sleep(0.02)
            await self._stop.wait()
            await asyncio.gather(*phones, return_exceptions=True)
        self._http = None

    def stop(self) -> None:
        self._stop.set()
