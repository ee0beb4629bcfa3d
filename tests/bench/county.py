"""Benchmark of a county-sized console: `python -m tests.bench.county --json`.

Generates a site of `--cameras` (5,000) cameras in 20 townships and 300 villages
(`dispatch.domain.sitegen`), then measures:

- site_load_ms: the TOML file parsed and validated (`load_site`, the first start) and
  the cached start (`console.shell.sitecache`: the parsed data read as JSON and validated).
- tree: the tree built, the panel made (lazy: rows fetched at start), the online counts
  of all 5,000 cameras refreshed, and search times (index + the pruned tree shown + one
  paint) over a fixed list of queries, offscreen in this process.
- start: `hall-console --site FILE --startup-report` under Xvfb (xcb, 1920x1080), `--runs`
  times: seconds from the process's creation to its main window exposed (the console's
  own `STARTUP` line, with its phases) and the same seen from here (spawn to the line).
  The first run parses the TOML (cold cache), the others read the cache. Beside the wall
  time, the CPU time the console used until then (`cpu_s`): what the start costs on a
  machine that is not shared. Baseline in the same run: the demo site (12 cameras), so
  the county's own cost is the difference.

The machine's load average is reported beside the figures: on a shared 2-core machine
they are upper bounds. Prints a table, then one JSON object as the last line.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

QUERIES = ["社区", "村委会", "c00042", "城关镇", "城关", "村", "东", "不存在的名字", ""]


def ms(seconds: float) -> float:
    return round(seconds * 1000.0, 1)


def site_file(folder: Path, cameras: int) -> Path:
    from dispatch.domain.sitegen import CountySpec, county_site, site_toml

    path = folder / f"county-{cameras}.toml"
    path.write_text(site_toml(county_site(CountySpec(cameras=cameras))), encoding="utf-8")
    return path


def site_loads(path: Path, cache: Path) -> dict[str, float]:
    from console.shell.sitecache import load_site_cached
    from dispatch.domain.site import load_site

    t0 = time.perf_counter()
    load_site(path)
    t1 = time.perf_counter()
    load_site_cached(path, cache)  # writes the cache
    t2 = time.perf_counter()
    load_site_cached(path, cache)
    t3 = time.perf_counter()
    return {"toml_ms": ms(t1 - t0), "first_cached_ms": ms(t2 - t1), "cached_ms": ms(t3 - t2)}


def tree_figures(path: Path, cache: Path) -> dict[str, Any]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from console.cameras.panel import CameraTreePanel
    from console.cameras.tree import build_tree
    from console.shell.sitecache import load_site_cached

    app = QApplication.instance() or QApplication([])
    site = load_site_cached(path, cache)
    t0 = time.perf_counter()
    root = build_tree(site)
    t1 = time.perf_counter()
    panel = CameraTreePanel(root)
    panel.resize(320, 900)
    panel.show()
    app.processEvents()
    t2 = time.perf_counter()
    rows = panel.model.fetched_rows
    online = {c.id for c in site.cameras[::3]}
    t3 = time.perf_counter()
    panel.set_online(online)
    app.processEvents()
    t4 = time.perf_counter()
    search: dict[str, float] = {}
    for text in QUERIES:
        t = time.perf_counter()
        panel.search.setText(text)
        app.processEvents()
        search[text or "(empty)"] = ms(time.perf_counter() - t)
    panel.close()
    values = list(search.values())
    return {
        "build_tree_ms": ms(t1 - t0),
        "panel_shown_ms": ms(t2 - t1),
        "rows_at_start": rows,
        "online_refresh_ms": ms(t4 - t3),
        "search_ms": search,
        "search_ms_median": round(statistics.median(values), 1),
        "search_ms_max": max(values),
    }


@contextmanager
def xvfb() -> Iterator[str]:
    exe = shutil.which("Xvfb")
    if exe is None:
        raise SystemExit("Xvfb is not installed (Debian package xvfb)")
    n = next(
        n
        for n in range(120, 400)
        if not Path(f"/tmp/.X{n}-lock").exists() and not Path(f"/tmp/.X11-unix/X{n}").exists()
    )
    proc = subprocess.Popen(
        [exe, f":{n}", "-screen", "0", "1920x1080x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    sock = Path(f"/tmp/.X11-unix/X{n}")
    deadline = time.monotonic() + 15
    while not sock.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f":{n}"
    finally:
        proc.terminate()
        proc.wait(10)


def start_once(site: Path | None, display: str, cfg: Path) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QT_", "HALL_"))}
    env.update(DISPLAY=display, QT_QPA_PLATFORM="xcb", HALL_CONFIG_DIR=str(cfg))
    exe = Path(sys.executable).parent / "hall-console"
    cmd = [str(exe), "--startup-report", *(["--site", str(site)] if site else [])]
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    seen: float | None = None
    report: dict[str, Any] = {}
    for line in proc.stdout:
        if line.startswith("STARTUP "):
            seen = time.monotonic() - t0
            report = json.loads(line.removeprefix("STARTUP "))
            break
    _out, err = proc.communicate(timeout=60)
    if seen is None:
        raise RuntimeError(f"no STARTUP line (exit {proc.returncode}): {err[-2000:]}")
    return {
        "shown_s": report["shown_s"],
        "cpu_s": report["cpu_s"],
        "seen_s": round(seen, 3),
        "phases": report["phases"],
    }


def starts(site: Path | None, runs: int, folder: Path) -> list[dict[str, Any]]:
    cfg = folder / ("cfg-county" if site else "cfg-demo")
    with xvfb() as display:
        return [start_once(site, display, cfg) for _ in range(runs)]


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    warm = runs[1:] or runs
    return {
        "first_shown_s": runs[0]["shown_s"],
        "shown_s_median": round(statistics.median(r["shown_s"] for r in warm), 3),
        "shown_s_max": max(r["shown_s"] for r in warm),
        "cpu_s_median": round(statistics.median(r["cpu_s"] for r in warm), 3),
        "runs": runs,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cameras", type=int, default=5000)
    ap.add_argument("--runs", type=int, default=4, help="console starts (the first is cold)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="hall-county-") as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        path = site_file(folder, args.cameras)
        gen_ms = ms(time.perf_counter() - t0)
        size = path.stat().st_size
        load = site_loads(path, folder / "cache")
        tree = tree_figures(path, folder / "cache")
        county = summary(starts(path, args.runs, folder))
        demo = summary(starts(None, args.runs, folder))
    out = {
        "cameras": args.cameras,
        "site_bytes": size,
        "generate_ms": gen_ms,
        "site_load": load,
        "tree": tree,
        "start_county": county,
        "start_demo": demo,
        "target_start_s": 3.0,
        "target_search_ms": 100.0,
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
    }
    print(f"site: {args.cameras} cameras, generated in {gen_ms} ms")
    print(f"load: TOML {load['toml_ms']} ms, cached {load['cached_ms']} ms")
    print(
        f"tree: rows at start {tree['rows_at_start']}, panel {tree['panel_shown_ms']} ms, "
        f"counts {tree['online_refresh_ms']} ms, search median {tree['search_ms_median']} ms "
        f"max {tree['search_ms_max']} ms"
    )
    for name, s in (("county", county), ("demo", demo)):
        print(
            f"start {name}: first {s['first_shown_s']} s, then median {s['shown_s_median']} s "
            f"max {s['shown_s_max']} s (CPU {s['cpu_s_median']} s)"
        )
    print(f"load average {out['loadavg_1m']} on {out['cpus']} cpus")
    if args.json:
        print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
