"""`HubProcess`: a hub started by another program never outlives it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dispatch.hub.process import HubProcess
from tests.kit.paths import ROOT

pytestmark = pytest.mark.integration


# a parent that starts a hub, says its pid, and then waits to be killed
PARENT = """
import sys, time
from dispatch.hub.process import HubProcess
hub = HubProcess(sys.argv[1], demo=True)
hub.start(timeout_s=60)
print(hub.pid, flush=True)
time.sleep(120)
"""


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for a reaper counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def _wait_gone(pid: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return not _alive(pid)


def test_hub_stops_when_the_program_that_started_it_is_killed(tmp_path: Path) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, f"sqlite:///{tmp_path / 'hall.db'}"],
        stdout=subprocess.PIPE,
        cwd=ROOT,
        text=True,
    )
    hub_pid = 0
    try:
        assert parent.stdout is not None
        line = parent.stdout.readline()  # bounded: the parent's hub.start has a timeout
        assert line.strip().isdigit(), f"parent said {line!r}"
        hub_pid = int(line)
        assert _alive(hub_pid)
        with open(f"/proc/{hub_pid}/cmdline", "rb") as f:
            assert b"hall-hub" in f.read()  # what `pgrep -f hall-hub` finds
        parent.send_signal(signal.SIGKILL)  # no chance to stop its hub
        parent.wait(timeout=10)
        assert _wait_gone(hub_pid, 15), "the hub outlived the program that started it"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait(timeout=10)
        if parent.stdout is not None:
            parent.stdout.close()
        if hub_pid and _alive(hub_pid):
            os.kill(hub_pid, signal.SIGKILL)


def test_stop_and_kill_are_safe_twice(tmp_path: Path) -> None:
    hub = HubProcess(f"sqlite:///{tmp_path / 'hall.db'}", demo=True)
    hub.start(timeout_s=60)
    pid = hub.pid
    assert pid is not None and _alive(pid)
    hub.stop()
    hub.stop()
    hub.kill()
    assert hub.pid is None
    assert _wait_gone(pid, 10)
