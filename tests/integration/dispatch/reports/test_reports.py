"""The monthly report against a generated month written through the real store.

A fixed seed generates ~11 weeks of events around October 2026 (plus a burst of wage
arrears in one grid in the last week of October); each event is moved through the real
workflow (`dispatch.events.core.apply`) and dispatch tasks (`dispatch.tasks.core`) and written
with the hub's store functions. The expected figures are computed here from the
generator's own timeline (what it did, when), never from the report code.
"""

from __future__ import annotations

import random
import subprocess
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from dispatch.db import store as st
from dispatch.db.store import Store
from dispatch.domain.calendar import CHINA_TZ, WorkCalendar
from dispatch.domain.model import (
    Action,
    Actor,
    AuditEntry,
    Colour,
    Event,
    EventIntake,
    EventSource,
    Place,
    Role,
)
from dispatch.domain.site import Site, demo_site_path, load_site
from dispatch.events.core import apply, new_event
from dispatch.events.service import change_payload
from dispatch.reports.core import ReportError, parse_month
from dispatch.reports.pdf import write_pdf
from dispatch.reports.store import ReportOptions, monthly_report
from dispatch.tasks import core as tk
from dispatch.tasks import store as stt
from tests.kit.paths import ROOT

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

pytestmark = pytest.mark.integration

SEED = 20261031
MONTH = date(2026, 10, 1)
START = datetime(2026, 10, 1, tzinfo=CHINA_TZ)
END = datetime(2026, 11, 1, tzinfo=CHINA_TZ)
NOW = datetime(2026, 11, 25, tzinfo=CHINA_TZ)  # the generator stops acting here
CAL = WorkCalendar()  # weekends only: a plain calendar the test can reason about
DUTY = Actor(operator="duty", role=Role.DUTY_OFFICER, workstation="ws1")
LEADER = Actor(operator="leader", role=Role.SUPERVISOR, workstation="ws2")
CATEGORIES = ["land", "wages", "neighbours", "family", "property", "environment"]
SOURCES = [EventSource.GRID_REPORT, EventSource.HOTLINE_12345, EventSource.PETITION]
SPIKE_GRID = "v04g1"
SCREENSHOTS = ROOT / "artifacts" / "screenshots"


@dataclass
class Plan:
    """What the generator did to one event, kept independently of the store."""

    event: Event
    states: list[tuple[datetime, str]] = field(default_factory=list)  # (at, state entered)
    verified_at: datetime | None = None
    extensions: list[tuple[datetime, int]] = field(default_factory=list)
    returns: list[datetime] = field(default_factory=list)
    tasks: list[TaskPlan] = field(default_factory=list)


@dataclass
class TaskPlan:
    sent: datetime
    accepted: datetime | None = None
    returned: datetime | None = None


def _write_transition(
    store: Store, old: Event, action: Action, actor: Actor, at: datetime, **kw: object
) -> Event:
    tr = apply(old, action, actor, at, **kw)  # type: ignore[arg-type]
    payload = change_payload(tr.event, Colour.GREEN, [tr.audit])
    with store.transaction() as conn:
        st.update_event(conn, tr.event, Colour.GREEN, old.version, [tr.audit], payload, at)
    return tr.event


def _write_task(store: Store, ev: Event, out: tk.Outcome, prev: int | None) -> None:
    assert out.transition is not None
    with store.transaction() as conn:
        stt.save_task(conn, out.task, prev)
        seq = st.append_change(conn, ev.id, out.transition.at, change_payload(ev, Colour.GREEN, []))
        st.touch_event(conn, ev.id, seq, Colour.GREEN)
        st.append_audit(
            conn,
            [
                AuditEntry(
                    event_id=ev.id,
                    at=out.transition.at,
                    operator=out.transition.by.id,
                    role=Role.DUTY_OFFICER,
                    workstation=out.transition.by.via or "hub",
                    action=f"task_{out.transition.action.value}",
                    from_state=ev.state,
                    to_state=ev.state,
                    note="",
                )
            ],
        )
        stt.add_history(conn, out.transition, seq)


def _minutes(rng: random.Random, lo: float, hi: float) -> timedelta:
    return timedelta(minutes=rng.uniform(lo, hi))


def _make_event(
    store: Store, site: Site, rng: random.Random, n: int, at: datetime, category: str, grid: str
) -> Plan:
    g = next(x for x in site.grids if x.id == grid)
    village = next(v for v in site.villages if v.id == g.village)
    intake = EventIntake(
        source=rng.choice(SOURCES),
        source_ref=f"ref-{n}",
        category=category,
        title=f"测试事件{n}",
        place=Place(township=village.township, village=village.id, grid=grid),
        multi_department=rng.random() < 0.2,
    )
    ev, a = new_event(intake, event_id=f"E{n:04d}", now=at)
    with store.transaction() as conn:
        st.insert_event(conn, ev, Colour.GREEN, [a], change_payload(ev, Colour.GREEN, [a]))
    plan = Plan(ev, states=[(at, "accepted")])
    _drive(store, site, rng, plan, at)
    return plan


def _drive(store: Store, site: Site, rng: random.Random, plan: Plan, t: datetime) -> None:
    """Move the event on with random (sometimes late) steps until NOW or archive."""
    ev = plan.event
    grid = next(x for x in site.grids if x.id == ev.place.grid)
    leader = next(p for p in site.people if p.id == grid.leader)
    deputy = next(p for p in site.people if p.id == grid.deputy)

    def step(action: Action, dt: timedelta, actor: Actor = DUTY, **kw: object) -> bool:
        nonlocal ev, t
        if t + dt >= NOW:
            return False
        t = t + dt
        old_state = ev.state
        ev = _write_transition(store, ev, action, actor, t, **kw)
        if ev.state != old_state:
            plan.states.append((t, ev.state.value))
        return True

    if not step(Action.REGISTER, _minutes(rng, 2, 20)):
        return
    late_routing = rng.random() < 0.15
    routes = 2 if rng.random() < 0.15 else 1
    for r in range(routes):
        gap = _minutes(rng, 70, 300) if late_routing and r == 0 else _minutes(rng, 1, 30)
        if not step(Action.ROUTE, gap, assignee="城关镇综治中心"):
            return
        # a dispatch task to the grid leader; acknowledged after a few minutes, or returned
        out = tk.new_task(
            task_id=f"T{ev.id}-{r}",
            event=ev,
            recipient=leader,
            by=tk.TaskActor.officer(DUTY),
            now=t,
            instruction="请核实处理",
        )
        _write_task(store, ev, out, None)
        task = out.task
        info = TaskPlan(sent=t)
        plan.tasks.append(info)
        roll = rng.random()
        if roll < 0.1:  # task returned by the grid leader
            at = t + _minutes(rng, 3, 40)
            o = tk.apply(
                task, tk.TaskAction.RETURN, tk.TaskActor.field(leader), at, note="不在辖区"
            )
            _write_task(store, ev, o, task.version)
            info.returned = at
        elif roll < 0.18:  # reassigned to the deputy (改派), who accepts
            at = t + _minutes(rng, 20, 60)
            closed, opened = tk.reassign(
                task, deputy, tk.TaskActor.officer(DUTY), at, new_task_id=f"{task.id}-x"
            )
            _write_task(store, ev, closed, task.version)
            _write_task(store, ev, opened, None)
            acc_at = at + _minutes(rng, 1, 30)
            o = tk.apply(opened.task, tk.TaskAction.ACCEPT, tk.TaskActor.field(deputy), acc_at)
            _write_task(store, ev, o, opened.task.version)
            plan.tasks.append(TaskPlan(sent=at, accepted=acc_at))
        else:
            at = t + _minutes(rng, 1, 45)
            o = tk.apply(task, tk.TaskAction.ACCEPT, tk.TaskActor.field(leader), at)
            _write_task(store, ev, o, task.version)
            info.accepted = at
        if r == 0 and routes == 2:
            if not step(Action.RETURN, _minutes(rng, 30, 120), note="不属于本单位"):
                return
            plan.returns.append(t)
    if not step(Action.START_HANDLING, _minutes(rng, 5, 90)):
        return
    if rng.random() < 0.1:
        if not step(
            Action.REQUEST_EXTENSION, _minutes(rng, 60, 300), note="需协调", extension_days=2
        ):
            return
        if not step(Action.GRANT_EXTENSION, _minutes(rng, 10, 60), LEADER):
            return
        plan.extensions.append((t, 2))
    late = rng.random() < 0.2
    handling = timedelta(days=rng.uniform(5.5, 9)) if late else timedelta(hours=rng.uniform(2, 60))
    if not step(Action.FEEDBACK, handling):
        return
    if rng.random() < 0.1:
        return  # stays in feedback, never verified
    if not step(Action.VERIFY, timedelta(hours=rng.uniform(1, 30))):
        return
    plan.verified_at = t
    if not step(Action.CALL_BACK, timedelta(hours=rng.uniform(1, 20))):
        return
    gap = (
        timedelta(days=rng.uniform(6, 8))
        if rng.random() < 0.08
        else timedelta(hours=rng.uniform(1, 30))
    )
    step(Action.ARCHIVE, gap)


def generate(store: Store, site: Site, seed: int = SEED) -> list[Plan]:
    """About 200 background events from 20 Aug to 8 Nov, and a burst of 14 wage-arrears
    events in one grid in the last week of October."""
    rng = random.Random(seed)
    grids = [g.id for g in site.grids]
    times: list[tuple[datetime, str, str]] = []
    day = datetime(2026, 8, 20, tzinfo=CHINA_TZ)
    while day < datetime(2026, 11, 8, tzinfo=CHINA_TZ):
        for _ in range(rng.randint(1, 4)):
            at = day + timedelta(seconds=rng.uniform(0, 86400))
            times.append((at, rng.choice(CATEGORIES), rng.choice(grids)))
        day += timedelta(days=1)
    for _ in range(14):
        at = datetime(2026, 10, 25, tzinfo=CHINA_TZ) + timedelta(
            seconds=rng.uniform(0, 6.9 * 86400)
        )
        times.append((at, "wages", SPIKE_GRID))
    times.sort()
    return [_make_event(store, site, rng, n, at, c, g) for n, (at, c, g) in enumerate(times)]


# -- the independent expectations ----------------------------------------------------------


def _in(at: datetime | None) -> bool:
    return at is not None and START <= at < END


def _stage(state: str) -> str | None:
    return {
        "accepted": "routing",
        "registered": "routing",
        "routed": "resolution",
        "handling": "resolution",
        "feedback": "feedback",
    }.get(state)


def _expected_overdue(p: Plan) -> bool:
    moves = [(at, s) for at, s in p.states if at < END]
    spans: list[tuple[str, datetime, datetime]] = []
    cur: tuple[str, datetime] | None = None
    for at, s in moves:
        stg = _stage(s)
        if cur is not None and stg == cur[0]:
            continue
        if cur is not None:
            spans.append((cur[0], cur[1], at))
        cur = (stg, at) if stg is not None else None
    if cur is not None:
        spans.append((cur[0], cur[1], END))
    for name, a, b in spans:
        if name == "routing":
            limit = a + timedelta(hours=1)
        elif name == "resolution":
            ext = sum(d for at, d in p.extensions if a <= at < b)
            limit = CAL.add_working_days(a, 3 + ext)
        else:
            limit = CAL.add_working_days(a, 3)
        if b >= limit:
            return True
    return False


def _expected_stays(plans: list[Plan]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for p in plans:
        for (a, s), (b, _) in zip(p.states, p.states[1:], strict=False):
            if _in(b):
                out.setdefault(s, []).append((b - a).total_seconds())
    return out


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, list[Plan], Site]]:
    site = load_site(demo_site_path())
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('reports') / 'hall.db'}")
    store.open()
    plans = generate(store, site)
    yield store, plans, site
    store.close()


def check_report_against_plans(store: Store, plans: list[Plan], site: Site) -> None:
    rep = monthly_report(store, MONTH, site, CAL)
    cohort = [p for p in plans if _in(p.states[0][0])]
    assert len(cohort) > 80
    assert rep.accepted == len(cohort)
    assert {c.key: c.count for c in rep.by_category} == Counter(p.event.category for p in cohort)
    assert {c.key: c.count for c in rep.by_township} == Counter(
        p.event.place.township for p in cohort
    )
    assert {c.key: c.count for c in rep.by_source} == Counter(p.event.source.value for p in cohort)
    resolved = [p for p in cohort if p.verified_at is not None and p.verified_at < END]
    assert (rep.resolution.numerator, rep.resolution.denominator) == (len(resolved), len(cohort))
    assert 0 < len(resolved) < len(cohort)
    overdue = {p.event.id for p in cohort if _expected_overdue(p)}
    assert 0 < len(overdue) < len(cohort)
    assert {o.event_id for o in rep.overdue_items} == overdue
    assert rep.overdue.numerator == len(overdue)
    stays = _expected_stays(plans)
    for s in rep.stage_times:
        got = stays.get(s.state.value, [])
        assert s.durations.count == len(got), s.state
        assert got, s.state
        assert s.durations.mean_s == pytest.approx(sum(got) / len(got), abs=1e-3)
        assert s.durations.max_s == pytest.approx(max(got), abs=1e-3)
    tasks_all = [t for p in plans for t in p.tasks]
    d = rep.dispatch
    assert d.tasks_sent == sum(1 for t in tasks_all if _in(t.sent))
    acked = [t for t in tasks_all if t.accepted is not None and _in(t.accepted)]
    assert d.tasks_accepted == len(acked) > 0
    acks = [(t.accepted - t.sent).total_seconds() for t in acked if t.accepted is not None]
    assert d.ack.mean_s == pytest.approx(sum(acks) / len(acks), abs=1e-3)
    assert d.task_returns == sum(1 for t in tasks_all if _in(t.returned)) > 0
    assert d.event_returns == sum(1 for p in plans for r in p.returns if _in(r)) > 0
    # hot spots: the burst is found with exactly the events of its last 7 days
    week = END - timedelta(days=7)
    in_week = [p for p in plans if week <= p.states[0][0] < END]
    by_key = {(h.kind, h.key): h for h in rep.hotspots}
    assert ("category", "wages") in by_key
    assert ("grid", SPIKE_GRID) in by_key
    for (kind, key), h in by_key.items():

        def attr(p: Plan, kind: str = kind) -> str | None:
            return p.event.category if kind == "category" else p.event.place.grid

        assert set(h.event_ids) == {p.event.id for p in in_week if attr(p) == key}
    # mediation, roll call and cameras have no tables yet: said honestly, no figures
    for sec in (rep.mediation, rep.rollcall, rep.cameras):
        assert not sec.available and sec.figures == () and "本月无数据" in sec.note


def test_report_figures_match_generated_month(month: tuple[Store, list[Plan], Site]) -> None:
    check_report_against_plans(*month)


def test_report_as_of_cuts_the_month(month: tuple[Store, list[Plan], Site]) -> None:
    store, plans, site = month
    cut = datetime(2026, 10, 15, 12, tzinfo=CHINA_TZ)
    rep = monthly_report(store, MONTH, site, CAL, ReportOptions(as_of=cut))
    assert rep.accepted == sum(1 for p in plans if START <= p.states[0][0] < cut)
    with pytest.raises(ReportError, match="before the month"):
        monthly_report(store, MONTH, site, CAL, ReportOptions(as_of=START - timedelta(days=1)))
    with pytest.raises(ReportError, match="timezone-aware"):
        monthly_report(store, MONTH, site, CAL, ReportOptions(as_of=datetime(2026, 10, 5)))


def test_empty_month_is_empty_not_invented(month: tuple[Store, list[Plan], Site]) -> None:
    store, _plans, site = month
    rep = monthly_report(store, date(2025, 3, 1), site, CAL)
    assert rep.accepted == 0 and rep.resolution.value is None and rep.overdue.percent() == "—"
    assert all(s.durations.count == 0 for s in rep.stage_times)
    assert rep.dispatch.ack.mean_s is None and rep.hotspots == ()


@pytest.mark.parametrize("text", ["2026/10", "2026-13", "26-1", "", "2026-10-01"])
def test_bad_month_is_refused(text: str) -> None:
    with pytest.raises(ReportError, match="month"):
        parse_month(text)


def test_pdf_renders_chinese(month: tuple[Store, list[Plan], Site], tmp_path: Path) -> None:
    store, _plans, site = month
    rep = monthly_report(store, MONTH, site, CAL)
    out = write_pdf(rep, tmp_path / "report.pdf")
    assert out.read_bytes().startswith(b"%PDF")
    fonts = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True, timeout=60)
    assert "WenQuanYi" in fonts.stdout, fonts.stdout
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, timeout=60)
    assert "信息月报" in text.stdout and "化解率" in text.stdout and "按类别" in text.stdout
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", str(out), str(SCREENSHOTS / "report-2026-10")],
        check=True,
        timeout=120,
    )
    assert len(list(SCREENSHOTS.glob("report-2026-10-*.png"))) == 6


def test_cli_writes_pdf_and_refuses_bad_input(
    month: tuple[Store, list[Plan], Site], tmp_path: Path
) -> None:
    import sys

    store, _plans, _site = month
    out = tmp_path / "cli.pdf"
    ok = subprocess.run(
        [
            sys.executable,
            "-m",
            "dispatch.reports",
            "--db",
            store.url,
            "--month",
            "2026-10",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ok.returncode == 0, ok.stderr
    assert out.read_bytes().startswith(b"%PDF")
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "dispatch.reports",
            "--db",
            store.url,
            "--month",
            "10/2026",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and "YYYY-MM" in bad.stderr


def test_report_on_postgresql(pg_url: str) -> None:
    """The same month and checks on PostgreSQL, in a database of its own (dropped after)."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"reports_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    url = make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    site = load_site(demo_site_path())
    store = Store(url)
    try:
        store.open()
        check_report_against_plans(store, generate(store, site), site)
    finally:
        store.close()
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def test_console_report_view_and_hotspot_click(
    qapp: QApplication, month: tuple[Store, list[Plan], Site], tmp_path: Path
) -> None:

    from console.kit.net import NetThread, QtBridge
    from console.reports.controller import ReportController
    from console.reports.model import ReportsModel, report_screen
    from console.reports.view import HotspotPanel, ReportView
    from dispatch.reports.messages import HotspotsReply, ReportReply, pdf_path

    app = qapp
    store, _plans, site = month
    rep = monthly_report(store, MONTH, site, CAL)
    model = ReportsModel()
    opened: list[tuple[str, ...]] = []
    ctl = ReportController(  # not logged in: asking for a report says so
        model,
        client=lambda: None,
        submit=NetThread().submit,
        post=QtBridge().post,
        http_url=None,
        save_dir=tmp_path,
        open_events=opened.append,
    )
    view = ReportView(model, ctl)
    view.set_month(MONTH)
    view.load_button.click()
    assert view.status.text() == "出错：未连接集控中心或未登录"
    reply = ReportReply(rid="r", report=rep, pdf_available=True, pdf_path=pdf_path("2026-10"))
    model.show_report(reply, report_screen(rep), exportable=True)
    view.resize(1400, 900)
    view.show()
    app.processEvents()
    cell = view.table.item(0, 1)
    assert cell is not None and cell.text() == str(rep.accepted)
    assert view.export_button.isEnabled() and view.status.text() == ""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    assert view.grab().save(str(SCREENSHOTS / "report-view.png"))

    panel = HotspotPanel(model, ctl)
    model.show_hotspots(HotspotsReply(rid="h", at=datetime.now(CHINA_TZ), hotspots=rep.hotspots))
    panel.resize(420, 200)
    panel.show()
    app.processEvents()
    assert panel.list.count() == len(rep.hotspots) >= 2
    item = panel.list.item(0)
    panel.list.itemClicked.emit(item)
    assert opened == [rep.hotspots[0].event_ids]
    assert panel.grab().save(str(SCREENSHOTS / "hotspots-panel.png"))
    model.show_hotspots(HotspotsReply(rid="h2", at=datetime.now(CHINA_TZ), hotspots=[]))
    assert panel.list.count() == 1 and "无热点" in panel.list.item(0).text()
    view.close()
    panel.close()
