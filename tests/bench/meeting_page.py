"""The meeting benchmark's Chromium township: headless Chromium in the phone namespace
opens a page over HTTPS by host name, joins the room through `janus-room.js` (the
station page's client), publishes its fake camera in simulcast, decodes and paints the
convenor, and takes part in the floor: it follows each new speaker the way the station
page does (`mode="switch"`: one floor subscription, Janus's switch from the second floor
on) or the way it did before (`mode="subscribe"`: a new subscription per speaker), and
says when the first frame of the new speaker's top layer (its own height) was painted
(`requestVideoFrameCallback`).

The page lives on an asyncio loop of its own thread for the whole meeting; the bench
calls `join()` and `floor()` from its main thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, Literal, TypeVar

from tests.kit.janus import JanusCerts, JanusServer
from tests.kit.netns import HUB_NAME, Netns

T = TypeVar("T")
Mode = Literal["switch", "subscribe"]

JOIN_JS = """async (t) => {
  const stream = await navigator.mediaDevices.getUserMedia(
    {audio: true, video: {width: 640, height: 360, frameRate: 25}});
  const room = await JanusRoom.joinRoom(t);
  window.room = room;
  await room.publish(stream, {simulcast: true});
  for (let i = 0; i < 200 && ![...room.publishers.values()].includes(t.convenor); i++) {
    await new Promise((ok) => setTimeout(ok, 50));
  }
  const conv = [...room.publishers].find(([, d]) => d === t.convenor);
  const media = await room.subscribe(conv[0], {substream: 2});
  document.getElementById("v").srcObject = media;
  window.convFeed = conv[0];
  const f = document.createElement("video");
  f.id = "floor"; f.autoplay = true; f.muted = true; f.playsInline = true;
  document.body.append(f);
  return conv[0];
}"""
DECODED_JS = """async () => {
  const sub = window.room.subs.get(window.convFeed);
  let n = 0;
  if (sub && sub.pc) (await sub.pc.getStats()).forEach((r) => {
    if (r.type === "inbound-rtp" && r.kind === "video") n += r.framesDecoded || 0;
  });
  return n;
}"""
FLOOR_JS = """async (a) => {
  const room = window.room, v = document.getElementById("floor");
  const painted = new Promise((ok) => {
    const end = Date.now() + 8000;
    const step = (_now, meta) => {
      if (meta.height === a.height) ok(Date.now());
      else if (Date.now() > end) ok(null);
      else v.requestVideoFrameCallback(step);
    };
    v.requestVideoFrameCallback(step);
  });
  const old = window.floorFeed;
  if (old === undefined || a.mode === "subscribe") {
    const media = await room.subscribe(a.feed, {substream: 2});
    v.srcObject = media;
    if (old !== undefined && old !== window.convFeed) room.unsubscribe(old);
  } else {
    await room.switchFeed(old, a.feed);
  }
  window.floorFeed = a.feed;
  return await painted;
}"""


class ChromiumTownship:
    def __init__(
        self, netns: Netns, folder: Path, certs: JanusCerts, janus: JanusServer, mode: Mode
    ) -> None:
        self.netns, self.folder, self.certs, self.janus = netns, folder, certs, janus
        self.mode = mode
        self.feed = 0
        self.floor_ms: list[float] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._stack = contextlib.AsyncExitStack()
        self._page: Any = None

    def _run(self, coro: Coroutine[Any, Any, T], timeout_s: float = 120) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout_s)

    def join(self, ticket: Any, token: str) -> dict[str, Any]:
        """Join, publish, subscribe the convenor: the click → its first decoded frame, and
        the convenor's frame rate over `WINDOW_S`."""
        from tests.bench.meeting import WINDOW_S
        from tests.integration.dispatch.meetings.test_janus_page import page_in_phone

        async def go() -> dict[str, Any]:
            page = await self._stack.enter_async_context(
                page_in_phone(self.netns, self.folder, self.certs.spki_b64)
            )
            self._page = page
            t = {**ticket.browser(), "janusUrl": self.janus.https_url(HUB_NAME)}
            t.update(token=token, display="乡镇(浏览器)", convenor="县中心")
            clicked = time.time()
            await page.evaluate(JOIN_JS, t)
            while await page.evaluate(DECODED_JS) == 0:
                await asyncio.sleep(0.02)
            join_ms = (time.time() - clicked) * 1000
            self.feed = int(await page.evaluate("() => window.room.feed"))
            n0, t0 = await page.evaluate(DECODED_JS), time.monotonic()
            await asyncio.sleep(WINDOW_S)
            fps = (await page.evaluate(DECODED_JS) - n0) / (time.monotonic() - t0)
            return {"join_ms": round(join_ms, 1), "convenor_fps": round(fps, 1)}

        return self._run(go())

    def floor(self, feed: int, height: int, t0: float) -> float | None:
        """The floor to `feed` (given at wall-clock `t0`): ms until a frame of its top
        layer (`height` px) was painted, None when none came within 8 s."""

        async def go() -> float | None:
            args = {"feed": feed, "height": height, "mode": self.mode}
            painted = await self._page.evaluate(FLOOR_JS, args)
            return None if painted is None else float(painted) - t0 * 1000

        return self._run(go(), 60)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._run(self._stack.aclose(), 60)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
