"""The map benchmark's marker update through a real hub (`tests.bench.map` runs it).

A real `hall-hub` (temporary SQLite, demo operators, started with `--yellow-share 0.999`:
an accepted event, whose routing stage lasts an hour, turns yellow by the hub's own
warning rules and deadline timer about 3.6 s after it was accepted). The console's own
parts as the console wires them: `EventQueue.for_hub` (HubClient with the enrolled
console's CURVE keys, its network thread, the queue model), a login as duty, the map
panel (the loaded site, base tiles) linked with `link_map`.

1. `fill` events are posted through the intake API over HTTPS (the hub's CA), placed at
   random in the county; the run waits until the map shows them all yellow.
2. `changes` more events are posted one by one; each is published twice by the hub: new
   (green), and ~3.6 s later yellow (the colour change). A tap (a plain CURVE SUB socket
   in a thread of this process, subscribed to the same PUB) notes when each publish
   arrives; `MapView.painted_hook` notes the first viewport repaint after which the map
   model holds that marker in that colour. marker update = repaint − publish seen by the
   tap (the publish → tap hop on loopback is well under a millisecond; the tap's thread
   may wait for the GIL while the GUI thread paints, which can only shorten the figure
   by that wait).
"""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import zmq
from pydantic import ValidationError

from dispatch.client.keys import ConsoleKeys
from dispatch.domain.model import Colour
from dispatch.events.messages import EventChanged
from dispatch.hub.demo import DEMO_API_KEY
from dispatch.hub.process import HubProcess
from tests.kit.hub import curve_client
from tests.kit.tls import hub_session

YELLOW_SHARE = 0.999
"""Share of the routing hour left when an event turns yellow: 3.6 s after acceptance."""
BBOX = (112.49, 37.86, 112.61, 37.935)


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))] if s else float("nan")


class PublishTap:
    """A CURVE SUB on the hub's PUB in a thread: when each (event id, colour) was first
    published. start()/stop() safe twice."""

    def __init__(self, endpoint: str, keys: ConsoleKeys) -> None:
        self._endpoint = endpoint
        self._keys = keys
        self.seen: dict[tuple[str, Colour], float] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            ready = threading.Event()
            self._thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
            self._thread.start()
            ready.wait(5)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def _run(self, ready: threading.Event) -> None:
        ctx = zmq.Context()
        sock = ctx.socket(zmq.SUB)
        sock.setsockopt(zmq.LINGER, 0)
        curve_client(sock, self._keys)
        sock.setsockopt(zmq.SUBSCRIBE, b"")
        sock.connect(self._endpoint)
        ready.set()
        try:
            while not self._stop.is_set():
                if not sock.poll(100):
                    continue
                frames = sock.recv_multipart()
                at = time.perf_counter()
                try:
                    change = EventChanged.model_validate_json(frames[-1])
                except ValidationError:
                    continue  # another kind of publish
                self.seen.setdefault((change.event.id, change.colour), at)
        finally:
            sock.close(0)
            ctx.destroy(0)


CHANGE_TITLE = "计时事件"
"""The title of the timed events (the map's markers carry titles, not source refs)."""


def body(n: int, tag: str, rng: random.Random, title: str = "占道经营") -> dict[str, Any]:
    return {
        "source": "grid_report",
        "source_ref": f"{tag}-{n}",
        "category": "environment",
        "title": f"{title} {n}",
        "place": {
            "township": "t01",
            "lon": rng.uniform(BBOX[0], BBOX[2]),
            "lat": rng.uniform(BBOX[1], BBOX[3]),
        },
    }


async def post_events(
    hub: HubProcess, bodies: list[dict[str, Any]], spacing_s: float, ids: list[str]
) -> None:
    """POST each body (32 at a time, or one every `spacing_s`); the new ids into `ids`."""
    head = {"X-Api-Key": DEMO_API_KEY}
    async with hub_session(hub) as s:
        sem = asyncio.Semaphore(32 if spacing_s <= 0 else 1)

        async def one(b: dict[str, Any]) -> None:
            async with sem, s.post(f"{hub.http_url}/api/v1/events", json=b, headers=head) as r:
                if r.status != 201:
                    raise RuntimeError(f"map bench: intake {r.status}: {await r.text()}")
                reply = await r.json()
                ids.append(str(reply["id"]))

        if spacing_s <= 0:
            await asyncio.gather(*(one(b) for b in bodies))
            return
        for b in bodies:
            t = time.perf_counter()
            await one(b)
            await asyncio.sleep(max(0.0, spacing_s - (time.perf_counter() - t)))


def in_thread(coro: Any) -> threading.Thread:
    thread = threading.Thread(target=asyncio.run, args=(coro,), daemon=True)
    thread.start()
    return thread


def pump_while(app: Any, busy: Any, timeout_s: float, what: str, state: Any = lambda: "") -> None:
    deadline = time.perf_counter() + timeout_s
    while busy():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"map bench: {what} not within {timeout_s:.0f} s {state()}")
        app.processEvents()
        time.sleep(0.002)


def run_through_hub(app: Any, site: Any, fill: int, changes: int, seed: int) -> dict[str, Any]:
    """Publish → marker repainted through a real hub; figures in ms."""
    from console.events.controller import LoginOutcome
    from console.events.wiring import EventQueue
    from console.map.install import add_base_tiles, link_map
    from console.map.model import MapModel
    from console.map.panel import MapPanel
    from dispatch.domain.site import demo_site_path

    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="map-bench-") as tmp:
        hub = HubProcess(
            f"sqlite:///{Path(tmp) / 'hall.db'}",
            data_dir=Path(tmp),
            demo=True,
            extra_args=["--yellow-share", str(YELLOW_SHARE)],
        )
        hub.start(timeout_s=60)
        tap = PublishTap(hub.pub_endpoint, hub.console_keys)
        queue = EventQueue.for_hub(hub.req_endpoint, hub.pub_endpoint, keys=hub.console_keys)
        panel = MapPanel(MapModel(site))
        try:
            tap.start()
            queue.start()
            tiles = site.map.tiles_path(demo_site_path())
            if tiles is not None:
                add_base_tiles(panel, tiles, site.map.datum)
            panel.resize(1280, 800)
            panel.show()
            links = link_map(panel, queue.model, queue.controller)
            out: list[LoginOutcome] = []
            queue.controller.login("duty", "duty123", "席位A", out.append)
            pump_while(app, lambda: not out, 30, "login")
            if not out[0].ok:
                raise RuntimeError(f"map bench: login refused: {out[0].error}")
            model, view = panel.model, panel.view
            painted: dict[tuple[str, Colour], float] = {}
            watched: set[str] = set()

            def on_events(_version: int) -> None:
                watched.update(
                    m.id for m in model.events.values() if m.title.startswith(CHANGE_TITLE)
                )

            def on_paint() -> None:
                now = time.perf_counter()
                for eid in watched:
                    m = model.events.get(eid)
                    if m is not None:
                        painted.setdefault((eid, m.colour), now)

            t0 = time.perf_counter()
            filled: list[str] = []
            bodies = [body(i, "fill", rng) for i in range(fill)]
            poster = in_thread(post_events(hub, bodies, 0.0, filled))

            progress = {"yellow": -1, "since": time.perf_counter()}

            def filling() -> bool:
                """Until all are yellow on the map, or (a few publishes of the burst lost
                on the way: counted in the result) no more turn for 15 s."""
                yellow = sum(m.colour is Colour.YELLOW for m in model.events.values())
                if yellow != progress["yellow"]:
                    progress.update(yellow=yellow, since=time.perf_counter())
                stalled = time.perf_counter() - progress["since"] > 15 and yellow >= 0.9 * fill
                return poster.is_alive() or (yellow < fill and not stalled)

            def fill_state() -> str:
                colours = [m.colour.value for m in model.events.values()]
                return (
                    f"(posted {len(filled)}, queue {len(queue.model.visible())}, "
                    f"map {len(colours)}, yellow {colours.count('yellow')})"
                )

            pump_while(app, filling, 60 + fill / 20, "the filled events shown yellow", fill_state)
            fill_s = time.perf_counter() - t0
            fill_missing = fill - sum(m.colour is Colour.YELLOW for m in model.events.values())
            tap_yellow = sum(c is Colour.YELLOW for _, c in list(tap.seen))
            sub = model.events_changed.connect(on_events)
            view.painted_hook = on_paint
            ids: list[str] = []
            bodies = [body(i, "change", rng, CHANGE_TITLE) for i in range(changes)]
            poster = in_thread(post_events(hub, bodies, 0.25, ids))

            def changing() -> bool:
                done = sum((eid, Colour.YELLOW) in painted for eid in ids)
                return poster.is_alive() or done < changes

            pump_while(app, changing, 30 + changes * 0.5, "the colour changes painted")
            view.painted_hook = None
            sub.disconnect()
            links.stop()
        finally:
            panel.close()
            queue.stop()
            tap.stop()
            hub.stop()
            app.processEvents()

    def latencies(colour: Colour) -> list[float]:
        keys = [(eid, colour) for eid in ids]
        return [(painted[k] - tap.seen[k]) * 1000 for k in keys if k in painted and k in tap.seen]

    colour_ms, new_ms = latencies(Colour.YELLOW), latencies(Colour.GREEN)
    return {
        "path": "hub publish (intake over HTTPS; colour by the hub's deadline timer) → "
        "CURVE SUB → HubClient → EventQueueModel → link_map → MapModel → viewport repainted",
        "fill_events": fill,
        "fill_s": round(fill_s, 1),
        "fill_not_yellow_on_map": fill_missing,
        "fill_yellow_published": tap_yellow,
        "changes": len(colour_ms),
        "marker_update_ms_median": round(statistics.median(colour_ms), 1) if colour_ms else None,
        "marker_update_ms_p95": round(pct(colour_ms, 0.95), 1) if colour_ms else None,
        "marker_update_ms_max": round(max(colour_ms), 1) if colour_ms else None,
        "new_marker_ms_median": round(statistics.median(new_ms), 1) if new_ms else None,
        "new_marker_ms_p95": round(pct(new_ms, 0.95), 1) if new_ms else None,
        "yellow_share": YELLOW_SHARE,
    }
