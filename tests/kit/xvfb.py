"""A real X server for a test or a benchmark: `Xvfb` on a free display number.

`xvfb_display(size)` is a context manager giving the display (":71"); the server is
stopped (and the display freed) when it exits, also on an error. The `xvfb` fixture is
the same for one test. A Qt child process runs on it with `DISPLAY=<display>` and
`QT_QPA_PLATFORM=xcb` (xcb without a display aborts the process).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest


def free_display() -> int:
    """A display number with neither a lock file nor a socket."""
    for n in range(70, 200):
        if not Path(f"/tmp/.X{n}-lock").exists() and not Path(f"/tmp/.X11-unix/X{n}").exists():
            return n
    raise RuntimeError("no free X display number")


@contextmanager
def xvfb_display(size: str = "1920x1080x24", timeout_s: float = 15.0) -> Iterator[str]:
    """Start Xvfb (screen `size`, no TCP), yield its display, stop it at the end."""
    exe = shutil.which("Xvfb")
    if exe is None:
        raise RuntimeError("Xvfb is not installed (Debian package xvfb)")
    n = free_display()
    proc = subprocess.Popen(
        [exe, f":{n}", "-screen", "0", size, "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        sock = Path(f"/tmp/.X11-unix/X{n}")
        deadline = time.monotonic() + timeout_s
        while not sock.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        if not sock.exists():
            raise RuntimeError("Xvfb did not start")
        yield f":{n}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@pytest.fixture
def xvfb() -> Iterator[str]:
    with xvfb_display() as display:
        yield display


def run_on_display(
    display: str, module: str, args: list[str], marker: str, timeout_s: float = 180.0
) -> dict[str, Any]:
    """Run `python -m module *args` as a Qt (xcb) process on `display`; the JSON that
    follows `marker` on one of its stdout lines (it must exit 0 and print it)."""
    from tests.kit.paths import ROOT

    env = {k: v for k, v in os.environ.items() if not k.startswith("QT_")}
    env.update(DISPLAY=display, QT_QPA_PLATFORM="xcb", PYTHONPATH=str(ROOT))
    run = subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        env=env,
        cwd=ROOT,
        check=False,
    )
    line = next((ln for ln in run.stdout.splitlines() if ln.startswith(marker + " ")), None)
    assert run.returncode == 0 and line is not None, run.stderr[-2000:]
    report: dict[str, Any] = json.loads(line[len(marker) + 1 :])
    return report
