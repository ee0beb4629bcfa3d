"""A PostgreSQL cluster of the test's own, for tests that stop and start the database
(the suite's shared one, `pg_url`, must never be stopped under other tests):
`pg_cluster()` runs initdb in a new folder under /tmp on a free port (as the `postgres`
user when root, like scripts/pg.sh) and starts it; `.stop()` / `.start()` while a hub
uses it; removed after the test, also when it fails. Fails (never skips) without the
PostgreSQL server binaries."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kit.hub import free_port


def _bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    if not found:
        pytest.fail("PostgreSQL is not installed (Debian: postgresql; scripts/system-packages.sh)")
    return found[-1].parent


class PgCluster:
    def __init__(self, folder: Path, port: int) -> None:
        self.folder = folder
        self.port = port
        self.bin = _bin()
        self.url = f"postgresql+psycopg://hall@127.0.0.1:{port}/hall"

    def _run(self, *cmd: str, timeout: float = 60) -> None:
        argv = [str(self.bin / cmd[0]), *cmd[1:]]
        if os.geteuid() == 0:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"{cmd[0]} failed: {done.stderr.strip()[-500:]}")

    def init(self) -> None:
        self._run(
            "initdb", "-D", str(self.folder / "data"), "-U", "hall", "--auth=trust", "-E", "UTF8"
        )
        self.start()
        self.createdb("hall")

    def createdb(self, name: str) -> str:
        """A new empty database in the cluster; its URL."""
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "hall", name)
        return self.url.rsplit("/", 1)[0] + "/" + name

    def start(self) -> None:
        opts = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder} -c fsync=on"
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-l", str(self.folder / "log"), "-w",
                  "-o", opts, "start")  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """fast: clients are cut off at once (what a restart of the service does)."""
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", mode, "-w", "stop")


@pytest.fixture
def pg_cluster() -> Iterator[PgCluster]:
    folder = Path(tempfile.mkdtemp(prefix="hall-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    cluster = PgCluster(folder, free_port())
    try:
        cluster.init()
        yield cluster
    finally:
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):  # not running
            cluster.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)
