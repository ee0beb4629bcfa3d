"""deploy/ with real programs: `systemd-analyze verify` on the units (where systemd
is installed; the parse tests in tests/unit/deploy stand in elsewhere), and Debian's
coturn started with the sample turnserver.conf, moved to loopback and free ports (and
loopback peers allowed, which coturn needs on one machine), answering STUN."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from streams.webrtc.coturn import free_udp_tcp_port, stun_answers
from tests.kit import wait_until
from tests.kit.paths import ROOT

pytestmark = [pytest.mark.integration]

DEPLOY = ROOT / "deploy"


def test_systemd_analyze_verify_finds_nothing_but_the_missing_install() -> None:
    exe = shutil.which("systemd-analyze")
    if exe is None:
        return  # not installed (CI containers): tests/unit/deploy parses the units instead
    for name in (
        "command-hall-hub.service",
        "command-hall-turn.service",
        "command-hall-backup.service",
        "command-hall-backup.timer",
    ):
        run = subprocess.run(
            [exe, "verify", "--man=no", str(DEPLOY / name)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        problems = [
            line
            for line in (run.stdout + run.stderr).splitlines()
            if line.strip() and "Command /opt/command-hall/.venv/bin/hall-hub is not" not in line
        ]
        assert not problems, f"{name}: {problems}"


def loopback_copy(folder: Path) -> tuple[Path, int]:
    """The sample with 127.0.0.1 for the public address, free ports, its own state files
    and the loopback allowances; every other line as shipped."""
    port = free_udp_tcp_port()
    text = (DEPLOY / "turnserver.conf").read_text(encoding="utf-8")
    text = text.replace("203.0.113.10", "127.0.0.1")
    text = re.sub(r"(?m)^listening-port=\d+$", f"listening-port={port}", text)
    text = re.sub(r"(?m)^static-auth-secret=.*$", "static-auth-secret=" + "s" * 32, text)
    text += f"pidfile={folder / 'turnserver.pid'}\nuserdb={folder / 'turndb'}\n"
    text += "allow-loopback-peers\ncli-password=" + "c" * 24 + "\n"
    conf = folder / "turnserver.conf"
    conf.write_text(text, encoding="utf-8")
    return conf, port


def test_coturn_starts_with_the_sample_config(tmp_path: Path) -> None:
    conf, port = loopback_copy(tmp_path)
    proc = subprocess.Popen(
        ["turnserver", "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: stun_answers("127.0.0.1", port), timeout=15, what="coturn answering")
        assert proc.poll() is None
    finally:
        proc.terminate()
        proc.wait(10)
