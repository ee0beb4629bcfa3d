"""Migration 0007 on a real SQLite file: old attachment rows lose the path a console
sent; only the hub's own feedback photos keep a stored file name (issue 12, hole 1)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from dispatch.db.migrations import upgrade
from dispatch.tasks import store as st

pytestmark = pytest.mark.integration

PHOTO = "ph-" + "0123456789abcdef" * 2 + ".jpg"


def test_old_paths_become_display_names_and_are_never_served(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'hall.db'}")
    try:
        with engine.begin() as conn:
            upgrade(conn, "0006")
            rows = [
                ("ev-1", "snapshot", str(tmp_path / "hall.db")),
                ("ev-2", "clip", "C:\\evidence\\cam1.mp4"),
                ("ph-1", "photo", f"/srv/hall/uploads/{PHOTO}"),
                ("ph-2", "photo", "/etc/passwd"),
            ]
            for att_id, kind, path in rows:
                conn.execute(
                    text(
                        "INSERT INTO attachments (id, event_id, task_id, kind, path, sha256,"
                        " size, mime, added_by, at, note) VALUES (:id, 'E1', NULL, :kind,"
                        " :path, :sha, 1, 'image/png', 'duty', :at, '')"
                    ),
                    {
                        "id": att_id,
                        "kind": kind,
                        "path": path,
                        "sha": "a" * 64,
                        "at": datetime.now(UTC),
                    },
                )
        with engine.begin() as conn:
            upgrade(conn)
        got = {a.id: (a.blob, a.name) for a in st.attachments_of(engine, event_id="E1")}
        assert got == {
            "ev-1": (None, "hall.db"),
            "ev-2": (None, "cam1.mp4"),
            "ph-1": (PHOTO, PHOTO),
            "ph-2": (None, "passwd"),
        }
    finally:
        engine.dispose()
