"""The monthly report's camera section comes from the patrol's table (real SQLite file)."""

from __future__ import annotations

import random
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from dispatch.db.store import Store
from dispatch.domain.calendar import CHINA_TZ, WorkCalendar
from dispatch.domain.site import demo_site_path, load_site
from dispatch.patrol import store as ps
from dispatch.reports.store import monthly_report
from streams.patrol.types import CameraCheck, OfflineReason

pytestmark = pytest.mark.integration

MONTH = date(2026, 3, 1)


def check_camera_section(store: Store) -> None:
    site = load_site(demo_site_path())
    store.open()
    rng = random.Random(7)
    start = datetime(2026, 3, 1, tzinfo=CHINA_TZ)
    rows = []
    # samples in the month, and some just outside it that must not count
    for day in range(-2, 33):
        for cam in site.cameras:
            at = start + timedelta(days=day, hours=rng.randrange(24))
            up = rng.random() > 0.1
            faults = {"blur": 1.5} if up and rng.random() < 0.2 else {}
            rows.append(
                ps.StoredCheck(
                    CameraCheck(
                        camera=cam.id,
                        at=at,
                        online=up,
                        reason=OfflineReason.NONE if up else OfflineReason.TIMEOUT,
                        faults=faults,
                    ),
                    "",
                )
            )
    try:
        with store.engine.begin() as conn:
            ps.insert_checks(conn, rows)
            ps.insert_fault_event(conn, "E1", "cam1", start + timedelta(days=3), start)
            ps.mark_recovered(conn, "E1", start + timedelta(days=4))
        rep = monthly_report(store, MONTH, site, WorkCalendar())
        # the same figures counted independently, straight from the table
        end = datetime(2026, 4, 1, tzinfo=CHINA_TZ)
        in_month = [r.check for r in rows if start <= r.check.at < min(end, rep.cutoff)]
        online = [c for c in in_month if c.online]
        healthy = [c for c in online if not c.faults]
        with store.engine.connect() as conn:
            n_db = conn.execute(
                sa.select(sa.func.count()).select_from(ps.camera_checks)
            ).scalar_one()
        assert n_db == len(rows)
    finally:
        store.close()
    sec = rep.cameras
    assert sec.available
    figs = {f.label: f.value for f in sec.figures}
    assert figs["巡检次数"] == str(len(in_month))
    assert figs["在线率"] == f"{100 * len(online) / len(in_month):.1f}%"
    assert figs["完好率（在线中画面正常）"] == f"{100 * len(healthy) / len(online):.1f}%"
    assert figs["巡检摄像机数"] == str(len({c.camera for c in in_month}))
    assert figs["设备故障工单"] == "1"
    assert figs["已恢复"] == "1"


def test_camera_section_counts_the_months_samples(tmp_path: Path) -> None:
    check_camera_section(Store(f"sqlite:///{tmp_path / 'hall.db'}"))


def test_camera_section_on_postgresql(pg_url: str) -> None:
    """The same on PostgreSQL, in a database of its own (dropped after)."""
    name = f"patrol_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    try:
        url = make_url(pg_url).set(database=name).render_as_string(hide_password=False)
        check_camera_section(Store(url))
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def test_no_samples_means_no_data_not_zero(tmp_path: Path) -> None:
    site = load_site(demo_site_path())
    store = Store(f"sqlite:///{tmp_path / 'hall.db'}")
    store.open()
    try:
        rep = monthly_report(store, MONTH, site, WorkCalendar())
    finally:
        store.close()
    assert not rep.cameras.available
    assert rep.cameras.figures == ()
