"""`hall-relay` as a process (`python -m dispatch.relays.runner`): a bad config exits 2
with the field named; a good one serves the site's relay and ends on SIGTERM."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path

import av
import pytest

from streams.simulator import CamSim

pytestmark = pytest.mark.integration


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "dispatch.relays.runner", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_bad_config_names_the_field(tmp_path: Path) -> None:
    cfg = tmp_path / "relay.toml"
    cfg.write_text('site = "x.toml"\nrelay = "r1"\nidle_s = -1\n', encoding="utf-8")
    proc = _run("--config", str(cfg))
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2, (out, err)
    assert "idle_s" in err


def test_serves_the_sites_relay_and_stops_on_sigterm(tmp_path: Path) -> None:
    with CamSim(cameras=1) as sim:
        port = _port()
        site = tmp_path / "site.toml"
        site.write_text(
            'name = "县"\n[[townships]]\nid = "t1"\nname = "镇"\n'
            f'[[relays]]\nid = "r1"\nurl = "rtsp://127.0.0.1:{port}"\ntownships = ["t1"]\n'
            '[[cameras]]\nid = "cam1"\nname = "路口"\ntownship = "t1"\nlon = 113.0\nlat = 34.0\n'
            f'main = {{ url = "{sim.url("cam1", "main")}", width = 1280, height = 720 }}\n'
            f'sub = {{ url = "{sim.url("cam1", "sub")}", width = 704, height = 576 }}\n',
            encoding="utf-8",
        )
        proc = _run("--site", str(site), "--relay", "r1", "--listen", "127.0.0.1")
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            assert line.startswith("READY relay r1: 2 streams"), line
            url = f"rtsp://127.0.0.1:{port}/cam1/sub"
            with av.open(url, options={"rtsp_transport": "tcp"}, timeout=(8.0, 4.0)) as c:
                frame = next(c.decode(video=0))
                assert (frame.width, frame.height) == (704, 576)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.communicate(timeout=10)
