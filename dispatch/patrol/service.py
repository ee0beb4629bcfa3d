"""The hub's side of the camera health patrol: samples in, fault events out.

The patrol (`streams.patrol.runner`) posts `CheckBatch`es to `POST /api/v1/camera_checks`
(with an API key allowed to report camera faults). Here every sample is stored in
`camera_checks` and fed to the camera's `Tracker` (`streams.patrol.decide`): a camera
unhealthy for `raise_after` raises ONE camera-fault event (source camera_fault,
category camera_fault), registered and routed to the maintenance unit by the patrol
desk; when the camera is healthy again, the event gets an audit note "已恢复" and is
moved on to feedback (处置 → 反馈) for the duty desk to verify and archive.

The HTTP routes are in `dispatch.patrol.web`. Reads for the console and the monthly
report: `GET /api/v1/camera_health` (newest
sample of every camera, its last good picture and the open fault events) and
`GET /api/v1/camera_checks?camera=ID` (the camera's history), the same over zmq for
the console's health panel (`dispatch.patrol.handlers`). The types are in
`dispatch.patrol.messages`, the trouble text in `dispatch.patrol.core`.
"""

from __future__ import annotations

import asyncio
import tomllib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from dispatch.domain.model import (
    ID_PATTERN,
    Action,
    EventIntake,
    EventSource,
    EventState,
    Place,
    Role,
)
from dispatch.domain.site import Site
from dispatch.domain.strict import FROZEN
from dispatch.domain.wire import HubError
from dispatch.events.service import HubService
from dispatch.hub.auth import Session
from dispatch.patrol import store as ps
from dispatch.patrol.core import trouble_text
from dispatch.patrol.messages import CameraHealth, HealthReply, HistoryReply, SubmitReply
from streams.patrol.decide import Decision, FaultPolicy, Tracker
from streams.patrol.types import CameraCheck

PATROL_DESK = Session("", "patrol", Role.DUTY_OFFICER, "camera-patrol")
PATROL_SYSTEM = Session("", "patrol", Role.SYSTEM, "camera-patrol")
RECOVERED_NOTE = "已恢复"


@dataclass(frozen=True, slots=True)
class PatrolSettings:
    policy: FaultPolicy = field(default_factory=FaultPolicy)
    maintenance: str = "maint"  # who camera faults are routed to (a site person id)


class PatrolConfigError(ValueError):
    """A patrol settings file that cannot be used; the message names the file and field."""


class _SettingsFile(BaseModel):
    model_config = FROZEN
    raise_after_minutes: float = Field(10.0, ge=0, le=7 * 24 * 60)
    recover_after_minutes: float = Field(0.0, ge=0, le=7 * 24 * 60)
    maintenance: str = Field("maint", min_length=1, max_length=64, pattern=ID_PATTERN)


def check_maintenance(settings: PatrolSettings, site: Site | None) -> None:
    """The maintenance unit must be a person of the site (when the site has cameras).

    A site without cameras has nothing to patrol, so it needs no maintenance unit.
    """
    if site is None or not site.cameras:
        return
    ids = {p.id for p in site.people}
    if settings.maintenance not in ids:
        raise PatrolConfigError(
            f"patrol settings: maintenance {settings.maintenance!r} is not a person of the "
            f"site (运维单位不在人员名单中); people: {', '.join(sorted(ids))}"
        )


def default_settings_path() -> Path:
    return Path(__file__).resolve().parents[2] / "resources" / "patrol.toml"


def load_settings(path: Path | None = None) -> PatrolSettings:
    """Read the patrol settings (default resources/patrol.toml; the hub's config
    `patrol.settings` names another file)."""
    p = default_settings_path() if path is None else path
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PatrolConfigError(f"{p}: cannot read patrol settings: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PatrolConfigError(f"{p}: not valid TOML: {exc}") from None
    try:
        f = _SettingsFile.model_validate(data)
    except ValidationError as exc:
        msgs = [f"  {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        raise PatrolConfigError(f"{p}: invalid patrol settings\n" + "\n".join(msgs)) from None
    return PatrolSettings(
        policy=FaultPolicy(
            raise_after=timedelta(minutes=f.raise_after_minutes),
            recover_after=timedelta(minutes=f.recover_after_minutes),
        ),
        maintenance=f.maintenance,
    )


class PatrolService:
    """Stores samples and turns lasting trouble into one fault event per episode."""

    def __init__(
        self,
        service: HubService,
        site: Site | None,
        settings: PatrolSettings | None = None,
        *,
        settings_path: Path | None = None,
    ) -> None:
        self.service = service
        self._settings_path = settings_path
        self.site = site
        self._given = settings
        self.settings = settings if settings is not None else PatrolSettings()
        self._trackers: dict[str, Tracker] = {}
        self._last_good: dict[str, str] = {}
        self._lock = asyncio.Lock()
        self._started = False

    async def start(self) -> None:
        """Load the open fault events and last good pictures (so a restart raises no twins)."""
        if self._started:
            return
        if self._given is None:
            self.settings = await asyncio.to_thread(load_settings, self._settings_path)
        check_maintenance(self.settings, self.site)

        def load() -> tuple[list[ps.FaultEventRow], dict[str, str]]:
            with self.service.store.engine.connect() as conn:
                return ps.fault_events(conn, open_only=True), ps.last_good_pictures(conn)

        rows, good = await asyncio.to_thread(load)
        for r in rows:
            t = self._trackers.setdefault(r.camera, Tracker())
            t.open_event = r.event_id
            t.bad_since = r.bad_since
        self._last_good = good
        self._started = True

    async def stop(self) -> None:
        self._started = False

    def _place(self, camera: str) -> tuple[Place, str]:
        if self.site is not None:
            for c in self.site.cameras:
                if c.id == camera:
                    return Place(township=c.township, village=c.village, grid=c.grid), c.name
        return Place(), camera

    async def submit(self, checks: list[CameraCheck]) -> SubmitReply:
        """Store a batch of samples (in time order per camera) and act on the decisions."""
        await self.start()
        async with self._lock:
            rows: list[ps.StoredCheck] = []
            decisions: list[tuple[CameraCheck, Decision, Tracker]] = []
            for c in sorted(checks, key=lambda c: c.at):
                if c.healthy and c.snapshot:
                    self._last_good[c.camera] = c.snapshot
                rows.append(ps.StoredCheck(c, self._last_good.get(c.camera, "")))
                if not c.checked:
                    continue  # 未巡检: stored (the history says why), no verdict to track
                t = self._trackers.setdefault(c.camera, Tracker())
                bad_since = t.bad_since
                d = t.observe(c.healthy, c.at, self.settings.policy)
                if d is not Decision.NOTHING:
                    decisions.append((c, d, t))
                if d is Decision.RAISE and bad_since is None:
                    t.bad_since = c.at
            await self.service.writer.submit_async(lambda tx: ps.insert_checks(tx.conn, rows))
            raised: list[str] = []
            recovered: list[str] = []
            for c, d, t in decisions:
                if d is Decision.RAISE:
                    raised.append(await self._raise(c, t))
                elif d is Decision.RECOVER and t.open_event is not None:
                    recovered.append(await self._recover(c, t))
            return SubmitReply(stored=len(rows), raised=raised, recovered=recovered)

    async def _raise(self, check: CameraCheck, tracker: Tracker) -> str:
        place, name = self._place(check.camera)
        since = tracker.bad_since or check.at
        trouble = trouble_text(check)
        intake = EventIntake(
            source=EventSource.CAMERA_FAULT,
            source_ref=f"patrol:{check.camera}:{since.strftime('%Y%m%dT%H%M%S%z')}",
            category="camera_fault",
            title=f"摄像机故障：{name}（{trouble}）",
            description=(
                f"视频巡检发现摄像机 {name}（{check.camera}）自 "
                f"{since.astimezone().strftime('%Y-%m-%d %H:%M')} 起{trouble}，"
                f"持续超过 {int(self.settings.policy.raise_after.total_seconds() // 60)} 分钟。"
                + (f"\n{check.detail}" if check.detail else "")
            ),
            place=place,
            camera_id=check.camera,
        )
        ev, _new = await self.service.intake(intake)
        tracker.raised(ev.id)
        await self.service.writer.submit_async(
            lambda tx: ps.insert_fault_event(tx.conn, ev.id, check.camera, check.at, since)
        )
        if ev.state is EventState.ACCEPTED:
            await self.service.act(PATROL_DESK, ev.id, Action.REGISTER)
            await self.service.act(
                PATROL_DESK,
                ev.id,
                Action.ROUTE,
                assignee=self.settings.maintenance,
                note="视频巡检自动分派运维单位",
            )
        return ev.id

    async def _recover(self, check: CameraCheck, tracker: Tracker) -> str:
        event_id = tracker.open_event
        assert event_id is not None
        note = (
            f"{RECOVERED_NOTE}：{check.at.astimezone().strftime('%Y-%m-%d %H:%M:%S')} 巡检画面正常"
        )
        try:
            await self.service.act(PATROL_SYSTEM, event_id, Action.NOTE, note=note)
            ev = await self.service.get_event(event_id)
            if ev is not None and ev.state is EventState.ROUTED:
                await self.service.act(PATROL_DESK, event_id, Action.START_HANDLING)
                ev = await self.service.get_event(event_id)
            if ev is not None and ev.state is EventState.HANDLING:
                await self.service.act(
                    PATROL_DESK, event_id, Action.FEEDBACK, note="摄像机已恢复，待核查"
                )
        except HubError:
            pass  # the desk closed or moved the event meanwhile: the note is what matters
        await self.service.writer.submit_async(
            lambda tx: ps.mark_recovered(tx.conn, event_id, check.at)
        )
        tracker.recovered()
        return event_id

    # -- reads ------------------------------------------------------------------------
    async def health(self) -> HealthReply:
        def load() -> tuple[dict[str, ps.StoredCheck], list[ps.FaultEventRow]]:
            with self.service.store.engine.connect() as conn:
                return ps.latest(conn), ps.fault_events(conn, open_only=True)

        latest, open_rows = await asyncio.to_thread(load)
        open_by_cam = {r.camera: r.event_id for r in open_rows}
        return HealthReply(
            cameras=[
                CameraHealth(check=s.check, last_good=s.last_good, open_event=open_by_cam.get(cam))
                for cam, s in sorted(latest.items())
            ]
        )

    async def history(self, camera: str, limit: int = 200) -> HistoryReply:
        def load() -> list[ps.StoredCheck]:
            with self.service.store.engine.connect() as conn:
                return ps.history(conn, camera, limit)

        rows = await asyncio.to_thread(load)
        return HistoryReply(
            camera=camera,
            checks=[
                CameraHealth(check=s.check, last_good=s.last_good, open_event=None) for s in rows
            ],
        )

    async def rates(self, start: datetime, end: datetime) -> tuple[int, float, float]:
        def load() -> tuple[int, float, float]:
            with self.service.store.engine.connect() as conn:
                return ps.rates(conn, start, end)

        return await asyncio.to_thread(load)
