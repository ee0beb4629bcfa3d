"""The weekly video roll call (视频点名) of township and village centres: pure run state.

No I/O, no clock reads: every function takes `now` (an aware datetime) where it needs one.

- The roster is every township and village centre of the site (`roster_from_site`).
  An `Exemption` (closed for a holiday, under repair) takes a centre out of the week's
  due list for the days it covers.
- A `Schedule` (weekday + time of day, China time) gives the next run (`next_run`).
- A run is its due list plus the calls made so far (`CallRecord`). What to call next is
  a function of those two alone (`plan`), so a run restored from the store after a hub
  restart continues exactly where it was: the first pass in roster order, then every
  centre not reached in the first pass called once more (attempt 2).
- Each call: link checked first (station page offline → `link_down`, never rung), then
  rung for `ring_s`; `answered`, `no_answer`, `declined` or `technical_fault` (answered
  but no picture arrived), or `no_camera` (应答（无画面）: the station answered but said
  its browser has no camera — not a secure context, refused, missing or busy — and
  took the call receive-only). `classify` turns what happened into the outcome.
  `answered` and `no_camera` both reach the centre (`ANSWERED`): it is not called again.
- Coverage: centres reached (answered at least once) out of centres due, per township and
  for the county (`coverage`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Literal

from dispatch.domain.calendar import CHINA_TZ
from dispatch.domain.site import Site

Outcome = Literal["answered", "no_camera", "no_answer", "declined", "technical_fault", "link_down"]
OUTCOMES: tuple[Outcome, ...] = (
    "answered",
    "no_camera",
    "no_answer",
    "declined",
    "technical_fault",
    "link_down",
)
OUTCOME_ZH: dict[str, str] = {
    "answered": "已接通",
    "no_camera": "应答（无画面）",
    "no_answer": "无人应答",
    "declined": "拒接",
    "technical_fault": "技术故障",
    "link_down": "链路中断",
}
ANSWERED: frozenset[str] = frozenset({"answered", "no_camera"})
"""Outcomes that reach the centre (with or without its picture)."""
NoCamera = Literal["insecure", "denied", "missing", "busy", "other"]
NO_CAMERA_ZH: dict[str, str] = {
    "insecure": "页面未通过 HTTPS 打开，浏览器不允许使用摄像头",
    "denied": "摄像头被拒绝使用",
    "missing": "未找到摄像头",
    "busy": "摄像头被其他程序占用",
    "other": "无法打开摄像头",
}
"""Why a station answered without its camera (the page says which), for the call's note."""
ExemptReason = Literal["holiday", "repair", "other"]
REASON_ZH: dict[str, str] = {"holiday": "节假日闭所", "repair": "设备维修", "other": "其他"}
RunStatus = Literal["running", "stopped", "done"]
Level = Literal["township", "village"]

DEFAULT_RING_S = 60.0
DEFAULT_TALK_S = 10.0
MAX_BATCH = 10


class RollcallError(ValueError):
    """A request the roll call cannot take; the message says which and why."""


@dataclass(frozen=True)
class Centre:
    id: str
    name: str
    level: Level
    township: str  # the township's id (its own id for a township centre)
    township_name: str


@dataclass(frozen=True)
class Exemption:
    centre_id: str
    start: date
    end: date  # inclusive
    reason: ExemptReason
    note: str = ""

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True)
class Schedule:
    weekday: int = 0  # Monday = 0
    at: time = time(9, 0)
    ring_s: float = DEFAULT_RING_S
    batch: int = 1
    enabled: bool = True


@dataclass(frozen=True)
class CallRecord:
    centre_id: str
    attempt: int  # 1 first pass, 2 re-call at the end
    outcome: Outcome
    rang_at: datetime | None  # None: never rung (link down)
    answered_at: datetime | None
    ended_at: datetime
    snapshot: str | None = None
    note: str = ""
    answered_by: str = ""

    @property
    def answer_s(self) -> float | None:
        if self.rang_at is None or self.answered_at is None:
            return None
        return (self.answered_at - self.rang_at).total_seconds()

    @property
    def duration_s(self) -> float | None:
        if self.answered_at is None:
            return None
        return max(0.0, (self.ended_at - self.answered_at).total_seconds())


@dataclass(frozen=True)
class Run:
    id: str
    week: date  # Monday of the week it counts for
    started_at: datetime
    due: tuple[str, ...]  # centre ids in calling order
    exempt: tuple[str, ...] = ()
    status: RunStatus = "running"
    batch: int = 1
    ring_s: float = DEFAULT_RING_S
    talk_s: float = DEFAULT_TALK_S  # how long an answered call is held before hang-up
    calls: tuple[CallRecord, ...] = field(default_factory=tuple)
    ended_at: datetime | None = None
    started_by: str = ""


# -- roster, exemptions, schedule ------------------------------------------------------


def roster_from_site(site: Site) -> list[Centre]:
    """Every township centre followed by its villages, in the site's order."""
    out: list[Centre] = []
    for t in site.townships:
        out.append(Centre(t.id, t.name, "township", t.id, t.name))
        for v in site.villages:
            if v.township == t.id:
                out.append(Centre(v.id, v.name, "village", t.id, t.name))
    return out


def validate_exemption(ex: Exemption, roster: Sequence[Centre]) -> Exemption:
    if ex.centre_id not in {c.id for c in roster}:
        raise RollcallError(f"未知的中心 {ex.centre_id!r} / unknown centre")
    if ex.end < ex.start:
        raise RollcallError(
            f"豁免结束日期 {ex.end} 早于开始日期 {ex.start} / exemption ends before it starts"
        )
    if (ex.end - ex.start).days > 366:
        raise RollcallError("豁免期不能超过一年 / an exemption cannot exceed one year")
    return ex


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def local_day(now: datetime) -> date:
    if now.tzinfo is None:
        raise RollcallError("需要带时区的时间 / an aware datetime is needed")
    return now.astimezone(CHINA_TZ).date()


def exempt_reason(exemptions: Iterable[Exemption], centre_id: str, day: date) -> Exemption | None:
    for ex in exemptions:
        if ex.centre_id == centre_id and ex.covers(day):
            return ex
    return None


def due_centres(
    roster: Sequence[Centre], exemptions: Iterable[Exemption], day: date
) -> tuple[list[str], list[str]]:
    """(due, exempt) centre ids on `day`, in roster order."""
    exs = list(exemptions)
    due: list[str] = []
    exempt: list[str] = []
    for c in roster:
        (exempt if exempt_reason(exs, c.id, day) else due).append(c.id)
    return due, exempt


def next_run(schedule: Schedule, now: datetime, last_week: date | None = None) -> datetime | None:
    """The next scheduled start at or after `now`, skipping a week already run."""
    if not schedule.enabled:
        return None
    local = now.astimezone(CHINA_TZ)
    monday = week_start(local.date())
    for k in range(0, 3):
        day = monday + timedelta(days=7 * k + schedule.weekday)
        at = datetime.combine(day, schedule.at, CHINA_TZ)
        if at < local:
            continue
        if last_week is not None and week_start(day) <= last_week:
            continue
        return at
    return None  # pragma: no cover - 3 weeks always hold a future slot


# -- a run -------------------------------------------------------------------------------


def new_run(
    run_id: str,
    roster: Sequence[Centre],
    exemptions: Iterable[Exemption],
    now: datetime,
    *,
    batch: int = 1,
    ring_s: float = DEFAULT_RING_S,
    talk_s: float = DEFAULT_TALK_S,
    started_by: str = "",
) -> Run:
    if not 1 <= batch <= MAX_BATCH:
        raise RollcallError(f"每批呼叫数须在 1–{MAX_BATCH} 之间 / batch must be 1..{MAX_BATCH}")
    if not 0.2 <= ring_s <= 600.0:
        raise RollcallError("振铃时长须在 0.2–600 秒之间 / ring time must be 0.2..600 s")
    if not 0.0 <= talk_s <= 3600.0:
        raise RollcallError("通话时长须在 0–3600 秒之间 / talk time must be 0..3600 s")
    day = local_day(now)
    due, exempt = due_centres(roster, exemptions, day)
    if not due:
        raise RollcallError("本周没有需要点名的中心 / no centre is due this week")
    return Run(
        id=run_id,
        week=week_start(day),
        started_at=now,
        due=tuple(due),
        exempt=tuple(exempt),
        batch=batch,
        ring_s=ring_s,
        talk_s=talk_s,
        started_by=started_by,
    )


def attempts(run: Run) -> dict[tuple[str, int], CallRecord]:
    return {(c.centre_id, c.attempt): c for c in run.calls}


def plan(run: Run, in_flight: Iterable[tuple[str, int]] = ()) -> list[tuple[str, int]]:
    """The calls to place now: up to `batch` minus those in flight, first pass first;
    the re-calls start once the whole first pass is done."""
    if run.status != "running":
        return []
    busy = set(in_flight)
    room = run.batch - len(busy)
    if room <= 0:
        return []
    done = attempts(run)
    first = [(c, 1) for c in run.due if (c, 1) not in done and (c, 1) not in busy]
    if first or any(a == 1 for _, a in busy):
        return first[:room]
    again = [
        (c, 2)
        for c in run.due
        if done[(c, 1)].outcome not in ANSWERED and (c, 2) not in done and (c, 2) not in busy
    ]
    return again[:room]


def recalls(run: Run) -> list[str]:
    """Centres missed in the first pass (called again at the end)."""
    done = attempts(run)
    return [c for c in run.due if (c, 1) in done and done[(c, 1)].outcome not in ANSWERED]


def finished(run: Run) -> bool:
    done = attempts(run)
    for c in run.due:
        first = done.get((c, 1))
        if first is None:
            return False
        if first.outcome not in ANSWERED and (c, 2) not in done:
            return False
    return True


def record(run: Run, call: CallRecord, now: datetime) -> Run:
    """The run with one more call; `done` once nothing is left."""
    if call.centre_id not in run.due:
        raise RollcallError(f"中心 {call.centre_id!r} 不在本次点名中 / not in this run")
    if (call.centre_id, call.attempt) in attempts(run):
        raise RollcallError(
            f"中心 {call.centre_id!r} 第 {call.attempt} 次呼叫已记录 / call already recorded"
        )
    if call.attempt == 2 and attempts(run).get((call.centre_id, 1)) is None:
        raise RollcallError("首次呼叫之前不能补呼 / re-call before the first call")
    out = replace(run, calls=(*run.calls, call))
    if finished(out):
        out = replace(out, status="done", ended_at=now)
    return out


def stop(run: Run) -> Run:
    if run.status == "done":
        raise RollcallError("点名已结束，不能暂停 / the run is finished")
    return replace(run, status="stopped")


def resume(run: Run) -> Run:
    if run.status == "done":
        raise RollcallError("点名已结束，不能继续 / the run is finished")
    return replace(run, status="running")


def set_note(run: Run, centre_id: str, attempt: int, note: str) -> Run:
    calls = list(run.calls)
    for i, c in enumerate(calls):
        if c.centre_id == centre_id and c.attempt == attempt:
            calls[i] = replace(c, note=note)
            return replace(run, calls=tuple(calls))
    raise RollcallError(f"没有中心 {centre_id!r} 第 {attempt} 次呼叫的记录 / no such call")


def classify(
    *,
    online: bool,
    response: Literal["answer", "decline"] | None,
    media_ok: bool,
    no_camera: bool = False,
) -> Outcome:
    """What a call came to: offline → link down; no response in time → no answer; an
    answer without a camera (the page said so) → no camera, whatever the media."""
    if not online:
        return "link_down"
    if response is None:
        return "no_answer"
    if response == "decline":
        return "declined"
    if no_camera:
        return "no_camera"
    return "answered" if media_ok else "technical_fault"


def ring_left(rang_at: datetime, ring_s: float, now: datetime) -> float:
    """Seconds of ringing left (0 when it is over)."""
    return max(0.0, ring_s - (now - rang_at).total_seconds())


# -- coverage ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Coverage:
    township: str  # township id, or "" for the county
    name: str
    due: int
    reached: int
    exempt: int

    @property
    def share(self) -> float:
        return self.reached / self.due if self.due else 1.0


def reached_ids(calls: Iterable[CallRecord]) -> set[str]:
    return {c.centre_id for c in calls if c.outcome in ANSWERED}


def coverage(
    roster: Sequence[Centre],
    exemptions: Iterable[Exemption],
    week: date,
    calls: Iterable[CallRecord],
    county_name: str = "全县",
    run_exempt: Iterable[str] = (),
) -> list[Coverage]:
    """Per township (in roster order) then the county: a centre is due unless it is
    exempt for the whole week's working days (Monday to Friday) or was exempt when that
    week's run was made (`run_exempt`), reached if any call to it that week was answered,
    with or without its picture (a reached centre always counts as due and reached)."""
    exs = list(exemptions)
    skipped = set(run_exempt)
    reached = reached_ids(calls)
    rows: dict[str, list[int]] = {}
    names: dict[str, str] = {}
    for c in roster:
        r = rows.setdefault(c.township, [0, 0, 0])
        names[c.township] = c.township_name
        exempt = c.id in skipped or all(
            exempt_reason(exs, c.id, week + timedelta(days=d)) for d in range(5)
        )
        if exempt and c.id not in reached:
            r[2] += 1
            continue
        r[0] += 1
        if c.id in reached:
            r[1] += 1
    out = [Coverage(t, names[t], v[0], v[1], v[2]) for t, v in rows.items()]
    out.append(
        Coverage(
            "",
            county_name,
            sum(x.due for x in out),
            sum(x.reached for x in out),
            sum(x.exempt for x in out),
        )
    )
    return out
