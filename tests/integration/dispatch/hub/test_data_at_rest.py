"""Hole 5, data at rest, against real hub processes: after a run with intake, a phone
photo upload and a console evidence upload, every folder under the data folder is 0700
and every file 0600 (the SQLite database with its -wal and -shm, uploads, evidence);
an older world-readable file there is tightened at start; with nothing configured the
hub keeps its database in the user's state folder and creates nothing in the current
directory. The SQLite file's mode is also checked in-process under an open umask."""

from __future__ import annotations

import asyncio
import hashlib
import os
import selectors
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import pytest

from dispatch.db.store import Store
from tests.integration.dispatch.hub.test_web_guard import _phone_session
from tests.integration.dispatch.tasks.test_hub_phone import console, png_bytes, post_event
from tests.kit.hub import StartHub
from tests.kit.paths import ROOT
from tests.kit.tls import hub_session

pytestmark = [pytest.mark.integration]


def modes(root: Path) -> dict[str, int]:
    """Relative path → permission bits of everything under `root` (and `.` for root)."""
    out = {".": stat.S_IMODE(root.lstat().st_mode)}
    for p in root.rglob("*"):
        out[str(p.relative_to(root))] = stat.S_IMODE(p.lstat().st_mode)
    return out


def assert_private(root: Path) -> dict[str, int]:
    got = modes(root)
    wrong = {
        name: oct(m) for name, m in got.items() if m != (0o700 if (root / name).is_dir() else 0o600)
    }
    assert not wrong, f"not owner-only under {root}: {wrong}"
    return got


def test_everything_the_hub_writes_is_owner_only(start_hub: StartHub, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    (data / "old-export.csv").write_text("written by an older hub")
    os.chmod(data / "old-export.csv", 0o644)
    mine = tmp_path / "console"
    mine.mkdir()
    snap = mine / "cam1.png"
    snap.write_bytes(png_bytes(64, 64))
    hub = start_hub(f"sqlite:///{data / 'hall.db'}", demo=True, data_dir=data)

    async def run() -> None:
        async with hub_session(hub) as http:
            base, cookie, task_id = await _phone_session(hub, http)  # intake + dispatch
            url = f"{base}/api/tasks/{task_id}/photos"
            async with http.post(url, data=png_bytes(32, 32), cookies={"hall_m": cookie}) as r:
                assert r.status == 201, await r.text()
        eid = post_event(hub, "数据权限", "rest-1")
        async with console(hub) as con:
            body = snap.read_bytes()
            await con.client.tasks.attach_evidence(
                eid,
                "snapshot",
                snap,
                hashlib.sha256(body).hexdigest(),
                size=len(body),
            )

    asyncio.run(run())
    got = assert_private(data)
    assert "hall.db" in got and "hall.db-wal" in got
    assert any(n.startswith("uploads/") and got[n] == 0o600 for n in got)
    assert any(n.startswith("evidence/") and got[n] == 0o600 for n in got)
    hub.stop()
    assert_private(data)


def test_with_nothing_configured_the_data_is_in_the_state_folder_not_here(
    tmp_path: Path,
) -> None:
    here = tmp_path / "cwd"
    here.mkdir()
    env = dict(os.environ)
    env.update(
        XDG_STATE_HOME=str(tmp_path / "state"),
        HALL_PASSWORD="secret-1",
        PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
    )
    run = subprocess.run(
        [sys.executable, "-m", "dispatch.hub", "--add-operator", "wang", "--role", "duty_officer"],
        cwd=here,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert list(here.iterdir()) == []
    got = assert_private(tmp_path / "state" / "command-hall")
    assert "hall.db" in got


def test_the_sqlite_file_and_its_wal_are_0600_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        store = Store(f"sqlite:///{tmp_path / 'db' / 'hall.db'}")
        store.open()  # creates the file, migrates (WAL mode: the -wal file exists now)
        got = assert_private(tmp_path / "db")
        store.close()
    finally:
        os.umask(old)
    assert {"hall.db", "hall.db-wal"} <= set(got)
    assert_private(tmp_path / "db")


def test_a_hub_started_with_no_folder_given_serves_from_the_state_folder(tmp_path: Path) -> None:
    """The whole hub (database, CA, key pair) with no --db, --data-dir or config: all of
    it in $XDG_STATE_HOME/command-hall, 0700/0600, nothing in the current directory."""
    here = tmp_path / "cwd"
    here.mkdir()
    env = dict(os.environ)
    env.update(
        XDG_STATE_HOME=str(tmp_path / "state"),
        PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
        PYTHONUNBUFFERED="1",
    )
    cmd = [sys.executable, "-m", "dispatch.hub", "--demo", "--exit-with-parent"]
    cmd += ["--http", "127.0.0.1:0", "--plain-port", "0"]
    cmd += ["--zmq-req", "tcp://127.0.0.1:0", "--zmq-pub", "tcp://127.0.0.1:0"]
    proc = subprocess.Popen(
        cmd, cwd=here, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    try:
        assert proc.stdout is not None
        ready = wait_for_line(proc.stdout, b"READY", timeout_s=90)
        assert ready, "the hub did not print READY"
    finally:
        proc.terminate()
        proc.wait(30)
        if proc.stdout is not None:
            proc.stdout.close()
    assert list(here.iterdir()) == []
    got = assert_private(tmp_path / "state" / "command-hall")
    assert "hall.db" in got and any(n.startswith("tls/") for n in got)
    assert any(n.startswith("keys/") for n in got)


def wait_for_line(stream: IO[bytes], prefix: bytes, timeout_s: float) -> bool:
    """True once a line starting with `prefix` is read from `stream` within the time."""
    deadline = time.monotonic() + timeout_s
    buf = b""
    with selectors.DefaultSelector() as sel:
        sel.register(stream, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if not sel.select(timeout=0.2):
                continue
            chunk = os.read(stream.fileno(), 65536)
            if not chunk:
                return False
            buf += chunk
            if any(line.startswith(prefix) for line in buf.split(b"\n")):
                return True
    return False
