"""The monthly report's mediation section, recounted from rows written by the store."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from dispatch.db.store import Store
from dispatch.domain.calendar import CHINA_TZ, WorkCalendar
from dispatch.domain.site import demo_site_path, load_site
from dispatch.mediation import store as ms
from dispatch.reports.sections.mediation import MediationSection
from dispatch.reports.store import monthly_report

pytestmark = pytest.mark.integration

NOV = datetime(2026, 11, 10, 9, 0, tzinfo=CHINA_TZ)


@pytest.fixture
def db(migrated_store: Store) -> Store:
    return migrated_store


def _session(db: Store, sid: str, opened: datetime, outcome: str | None, minutes: float) -> None:
    with db.transaction() as conn:
        ms.add_session(conn, sid, f"E-{sid}", "duty", opened)
        if outcome is not None:
            ms.close_session(
                conn,
                sid,
                at=opened + timedelta(minutes=minutes),
                outcome=outcome,
                notes="双方同意" if outcome == "agreement" else "",
                duration_s=minutes * 60,
                recording_path=None,
                recording_sha256=None,
            )


def test_mediation_outcomes_in_the_monthly_report(db: Store) -> None:
    start = datetime(2026, 11, 1, tzinfo=CHINA_TZ)
    end = datetime(2026, 12, 1, tzinfo=CHINA_TZ)
    assert MediationSection().section(db.engine, start, end) is None
    _session(db, "m1", NOV, "agreement", 30)
    _session(db, "m2", NOV + timedelta(days=1), "agreement", 50)
    _session(db, "m3", NOV + timedelta(days=2), "no_agreement", 20)
    _session(db, "m4", NOV + timedelta(days=3), "referred", 40)
    _session(db, "m5", NOV + timedelta(days=4), None, 0)  # still open
    _session(db, "m6", datetime(2026, 10, 30, tzinfo=CHINA_TZ), "agreement", 10)  # October

    site, cal = load_site(demo_site_path()), WorkCalendar()
    rep = monthly_report(db, date(2026, 11, 1), site, cal)
    assert rep.mediation.available and rep.mediation.title == "调解情况"
    figs = {f.label: f.value for f in rep.mediation.figures}
    assert figs == {
        "调解场次（已结束）": "4",
        "达成协议": "2",
        "未达成协议": "1",
        "转诉讼": "1",
        "调解成功率": "50.0%",
        "平均时长": "35.0 分钟",
        "进行中": "1",
    }
    october = monthly_report(db, date(2026, 10, 1), site, cal)
    assert {f.label: f.value for f in october.mediation.figures}["达成协议"] == "1"
    september = monthly_report(db, date(2026, 9, 1), site, cal)
    assert not september.mediation.available and "本月无数据" in september.mediation.note
