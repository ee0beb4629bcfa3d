"""Benchmark of the map (一张图): `python -m tests.bench.map --cameras 5000 --events 10000 --json`.

Runs the real map panel's view (console.map.view.MapView over MapModel) offscreen in this
process, on the demo county with N extra cameras and K events scattered over it, with
the demo's offline base tiles under it, 1280×800. Measured:

- paint_ms_median / paint_ms_p95: a scripted pan-and-zoom (county fitted, then zoomed
  ×2 four times and back, panning a quarter view in eight directions at each level);
  each step's synchronous viewport repaint is timed (paint_cpu_ms_*: the GUI thread's
  CPU time of the same repaints, steadier when other programs load the machine).
- marker_update_ms_p95: through a real hub (`tests.bench.map_hub`): the hub publishes an
  event's colour change (its own warning rules and deadline timer turn a new event
  yellow), the console's HubClient, event queue and `link_map` carry it to the map, until
  the viewport has repainted with the marker in its new colour; over `--hub-changes`
  changes with `--hub-events` other events on the map (posted over HTTPS first);
  `through_hub` has the details (also new markers: publish → painted).
- marker_update_inprocess_ms_p95: the second line: one event's colour changes in the rows
  the queue hands the map (the whole visible list, as `link_map` does on `rows_changed`)
  until the viewport has repainted, in process, over the loaded scenario's events.
- console_rss_mb: this process's resident memory after the run.

Baseline in the same run: the same script over the demo site alone (its own cameras,
no events). Prints a table, then one JSON object as the last line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

VIEW_SIZE = (1280, 800)
BBOX = (112.49, 37.86, 112.61, 37.935)  # the demo county, WGS-84 (west, south, east, north)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def loaded_site(cameras: int, seed: int) -> Any:
    from dispatch.domain.site import demo_site_path, load_site

    site = load_site(demo_site_path())
    rng = random.Random(seed)
    template = site.cameras[0]
    extra = [
        template.model_copy(
            update={
                "id": f"bench{i:05d}",
                "name": f"压测点{i}",
                "lon": rng.uniform(BBOX[0], BBOX[2]),
                "lat": rng.uniform(BBOX[1], BBOX[3]),
                "grid": None,
                "village": None,
            }
        )
        for i in range(cameras)
    ]
    return site.model_copy(update={"cameras": [*site.cameras, *extra]})


def events(n: int, seed: int) -> list[Any]:
    from dispatch.domain.model import (
        Colour,
        Event,
        EventSource,
        EventState,
        Place,
        Priority,
        Reporter,
    )
    from tests.kit.clock import T0

    rng = random.Random(seed)
    colours = (Colour.RED, Colour.YELLOW, Colour.GREEN)
    rows = []
    for i in range(n):
        event = Event(
            id=f"e{i:06d}",
            source=EventSource.GRID_REPORT,
            category="market",
            priority=Priority.ROUTINE,
            title="占道经营",
            place=Place(
                township="t01",
                lon=rng.uniform(BBOX[0], BBOX[2]),
                lat=rng.uniform(BBOX[1], BBOX[3]),
            ),
            reporter=Reporter(),
            state=EventState.ACCEPTED,
            reported_at=T0,
            accepted_at=T0,
            updated_at=T0,
        )
        rows.append((event, rng.choice(colours)))
    return rows


def script(view: Any, cpu: list[float] | None = None) -> list[float]:
    """The pan-and-zoom script; the paint time of each step in ms (and the GUI thread's
    CPU time of each into `cpu`: steadier than wall time on a shared machine)."""
    from PySide6.QtCore import QPointF

    view.fit_county()
    viewport = view.viewport()
    times: list[float] = []

    def paint() -> None:
        t0, c0 = time.perf_counter(), time.thread_time()
        viewport.repaint()
        times.append((time.perf_counter() - t0) * 1000)
        if cpu is not None:
            cpu.append((time.thread_time() - c0) * 1000)

    paint()
    dirs = [(1, 0), (1, 1), (0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1)]
    for factor in (2.0, 2.0, 2.0, 2.0, 0.5, 0.5, 0.5, 0.5):
        view.zoom(factor)
        paint()
        centre = view.mapToScene(viewport.rect().center())
        qw = viewport.width() / 4 / view.scale_px_per_m
        qh = viewport.height() / 4 / view.scale_px_per_m
        for dx, dy in dirs:
            view.centerOn(QPointF(centre.x() + dx * qw, centre.y() + dy * qh))
            paint()
            view.centerOn(centre)
    return times


def marker_updates(app: Any, view: Any, model: Any, rows: list[Any], n: int) -> list[float]:
    """Change one event's colour n times: ms from handing the rows to the map model until
    the viewport has repainted (a paint event delivered and processed)."""
    from PySide6.QtCore import QEvent, QObject

    from dispatch.domain.model import Colour

    painted = [0]

    class Counter(QObject):
        def eventFilter(self, obj: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                painted[0] += 1
            return False

    counter = Counter()
    view.viewport().installEventFilter(counter)
    view.fit_county()
    app.processEvents()
    out: list[float] = []
    cycle = (Colour.RED, Colour.YELLOW, Colour.GREEN)
    for k in range(n):
        i = (k * 7919) % len(rows)
        event, colour = rows[i]
        rows[i] = (event, cycle[(cycle.index(colour) + 1) % 3])
        before = painted[0]
        t0 = time.perf_counter()
        model.set_events(rows)
        deadline = t0 + 10.0
        while painted[0] == before and time.perf_counter() < deadline:
            app.processEvents()
        out.append((time.perf_counter() - t0) * 1000)
    view.viewport().removeEventFilter(counter)
    return out


def scenario(app: Any, site: Any, rows: list[Any], updates: int) -> dict[str, Any]:
    from console.map.install import add_base_tiles
    from console.map.model import MapModel
    from console.map.panel import MapPanel
    from dispatch.domain.site import demo_site_path

    model = MapModel(site)
    panel = MapPanel(model)
    tiles = site.map.tiles_path(demo_site_path())
    error = add_base_tiles(panel, tiles, site.map.datum) if tiles is not None else "no tiles"
    panel.resize(*VIEW_SIZE)
    panel.show()
    app.processEvents()
    t0 = time.perf_counter()
    model.set_events(rows)
    app.processEvents()
    load_ms = (time.perf_counter() - t0) * 1000
    cpu: list[float] = []
    paints = script(panel.view, cpu)
    updates_ms = marker_updates(app, panel.view, model, rows, updates) if rows else []
    panel.close()
    panel.deleteLater()
    app.processEvents()
    return {
        "base_tiles": error is None,
        "cameras": len(site.cameras),
        "events": len(rows),
        "set_events_ms": round(load_ms, 1),
        "paints": len(paints),
        "paint_ms_median": round(statistics.median(paints), 2),
        "paint_ms_p95": round(pct(paints, 0.95), 2),
        "paint_ms_max": round(max(paints), 2),
        "paint_cpu_ms_median": round(statistics.median(cpu), 2),
        "paint_cpu_ms_p95": round(pct(cpu, 0.95), 2),
        "marker_update_ms_median": round(statistics.median(updates_ms), 1) if updates_ms else None,
        "marker_update_ms_p95": round(pct(updates_ms, 0.95), 1) if updates_ms else None,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    import psutil
    from PySide6.QtWidgets import QApplication

    from dispatch.domain.site import demo_site_path, load_site

    app = QApplication.instance() or QApplication([])
    baseline = scenario(app, load_site(demo_site_path()), [], 0)
    site = loaded_site(args.cameras, args.seed)
    loaded = scenario(app, site, events(args.events, args.seed), args.updates)
    rss = psutil.Process().memory_info().rss / 1e6
    through_hub = None
    if args.hub_changes > 0:
        from tests.bench.map_hub import run_through_hub

        through_hub = run_through_hub(app, site, args.hub_events, args.hub_changes, args.seed)
    return {
        "bench": "map",
        "view": list(VIEW_SIZE),
        "cpu_count": os.cpu_count(),
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "paint_ms_median": loaded["paint_ms_median"],
        "paint_ms_p95": loaded["paint_ms_p95"],
        "paint_cpu_ms_median": loaded["paint_cpu_ms_median"],
        "paint_cpu_ms_p95": loaded["paint_cpu_ms_p95"],
        "marker_update_ms_p95": through_hub["marker_update_ms_p95"] if through_hub else None,
        "marker_update_inprocess_ms_p95": loaded["marker_update_ms_p95"],
        "marker_update_inprocess_path": "rows handed to MapModel → viewport repainted (no hub)",
        "through_hub": through_hub,
        "console_rss_mb": round(rss, 1),
        "targets": {"paint_ms_median": 16, "paint_ms_p95": 40, "marker_update_ms_p95": 1000},
        "loaded": loaded,
        "baseline_demo_site": baseline,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.bench.map")
    ap.add_argument("--cameras", type=int, default=5000)
    ap.add_argument("--events", type=int, default=10000)
    ap.add_argument("--updates", type=int, default=30, help="colour changes timed")
    ap.add_argument(
        "--hub-events", type=int, default=10000, help="events on the hub's map before timing"
    )
    ap.add_argument(
        "--hub-changes", type=int, default=60, help="colour changes timed through a hub (0: none)"
    )
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--json", action="store_true", help="print the result as one JSON line")
    args = ap.parse_args(argv)
    result = run(args)
    for name in ("baseline_demo_site", "loaded"):
        part = result[name]
        print(
            f"{name:20s} cameras {part['cameras']:5d} events {part['events']:6d}  "
            f"paint median {part['paint_ms_median']:6.2f} ms p95 {part['paint_ms_p95']:6.2f} ms "
            f"(CPU {part['paint_cpu_ms_median']:.1f}/{part['paint_cpu_ms_p95']:.1f})  "
            f"marker p95 {part['marker_update_ms_p95']} ms"
        )
    hub = result["through_hub"]
    if hub is not None:
        print(
            f"through a real hub   {hub['fill_events']} events, {hub['changes']} colour changes: "
            f"publish → repainted median {hub['marker_update_ms_median']} ms "
            f"p95 {hub['marker_update_ms_p95']} ms; new markers p95 {hub['new_marker_ms_p95']} ms"
        )
    print(f"console RSS {result['console_rss_mb']} MB, load {result['loadavg_1m']}")
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
