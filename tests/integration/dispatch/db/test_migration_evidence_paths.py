"""Migrations 0007 and 0008 on a real SQLite file: old attachment rows lose the path a
console sent, only the hub's own feedback photos keep a stored file name (issue 12,
hole 1); old stored changes get the reporter's numbers masked (hole 2)."""

from __future__ import annotations

import json
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


def test_old_changes_are_masked_and_events_keep_whole_numbers(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'hall.db'}")
    reporter = {"name": "李", "phone": "13812345678", "id_number": "11010119900307123X"}
    payloads = [
        {"event": {"id": "E1", "reporter": reporter}, "colour": "green", "audit": []},
        {"event": {"id": "E2", "reporter": {"name": "", "phone": "", "id_number": ""}}},
        {"event": {"id": "E3"}},
    ]
    try:
        with engine.begin() as conn:
            upgrade(conn, "0007")
            for p in payloads:
                conn.execute(
                    text("INSERT INTO changes (event_id, at, payload) VALUES ('E', :at, :p)"),
                    {"at": datetime.now(UTC), "p": json.dumps(p, ensure_ascii=False)},
                )
        with engine.begin() as conn:
            upgrade(conn)
            got = [json.loads(r[0]) for r in conn.execute(text("SELECT payload FROM changes"))]
        assert got[0]["event"]["reporter"] == {
            "name": "李",
            "phone": "138****5678",
            "id_number": "110101********123X",
        }
        assert got[1:] == payloads[1:]
    finally:
        engine.dispose()
