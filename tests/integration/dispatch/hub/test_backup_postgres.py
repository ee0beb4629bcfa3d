"""`hall-hub backup` of a hub on PostgreSQL (`pg_dump --format=custom`) and `hall-hub
restore` into an empty database of a second cluster database (`pg_restore`), against a
real hub on a PostgreSQL cluster of the test's own: the restored hub serves the same
events; restore refuses a database that holds tables."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

from tests.integration.dispatch.hub.test_backup_restore import hall_hub, list_events
from tests.integration.dispatch.tasks.test_hub_phone import post_event
from tests.kit.hub import StartHub
from tests.kit.pgcluster import PgCluster

pytestmark = [pytest.mark.integration]


def test_a_postgres_hub_is_backed_up_with_pg_dump_and_restored(
    pg_cluster: PgCluster, start_hub: StartHub, tmp_path: Path
) -> None:
    a = tmp_path / "a"
    hub_a = start_hub(pg_cluster.url, demo=True, data_dir=a)
    for i in range(5):
        post_event(hub_a, "占道经营", f"pg-backup-{i}")
    archive = tmp_path / "hall.tar"
    done = hall_hub("backup", "--to", str(archive), "--db", pg_cluster.url, "--data-dir", str(a))
    assert done.returncode == 0, done.stderr
    with tarfile.open(archive) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    assert manifest["database"] == "postgresql"
    assert "db/hall.pgdump" in {m["name"] for m in manifest["members"]}

    target = pg_cluster.createdb("restored")
    b = tmp_path / "b"
    done = hall_hub("restore", str(archive), "--db", target, "--data-dir", str(b))
    assert done.returncode == 0, done.stderr
    hub_b = start_hub(target, demo=True, data_dir=b)
    assert list_events(hub_b) == list_events(hub_a)
    # the source database holds tables: refused, with the reason
    c = tmp_path / "c"
    done = hall_hub("restore", str(archive), "--db", pg_cluster.url, "--data-dir", str(c))
    assert done.returncode == 1 and "table(s)" in done.stderr, done.stderr
