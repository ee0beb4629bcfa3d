"""The hub's side of PTZ holds: decide (`core.decide`), audit, publish.

Holds live in memory and in the store (`ptz_holds`, written in the same transaction as
the grant's or release's audit row, read at `start`): a hub restart keeps every hold
until it expires. Every grant, takeover and release is an audit row under the pseudo
event `PTZ_LOG` (who, role, workstation, when, which camera, what), written before the
reply. Times are the hub's clock (`HubService.clock`, passed in). Each change is
published as `PtzHoldChanged` with the service's own `seq` (from the hub's clock in
milliseconds at start, then +1).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection
from datetime import datetime

from sqlalchemy import Connection

from dispatch.db.store import append_audit
from dispatch.domain.model import AuditEntry, Role
from dispatch.domain.site import Site
from dispatch.domain.wire import ErrorCode, HubError, encode
from dispatch.events.service import HubService
from dispatch.hub.config_ptz import PtzConfig
from dispatch.hub.writer import Tx
from dispatch.ptz import store
from dispatch.ptz.core import Hold, PtzAction, PtzRefused, Rules, decide, may_release
from dispatch.ptz.messages import PtzHold, PtzHoldChanged, PtzLogEntry

log = logging.getLogger(__name__)
PTZ_LOG = "ptz"  # the audit rows' pseudo event id


def wire_hold(h: Hold) -> PtzHold:
    return PtzHold(
        camera_id=h.camera_id,
        operator=h.operator,
        role=h.role,
        workstation=h.workstation,
        since=h.since,
        until=h.until,
    )


def camera_of(note: str) -> str:
    """The camera id an audit note starts with."""
    return note.split(" ", 1)[0]


class PtzService:
    """Constructed by the hub's assembly (no I/O). `cameras`: the site's PTZ cameras."""

    def __init__(
        self,
        hub: HubService,
        cameras: Collection[str],
        publish: Callable[[bytes], None],
        rules: Rules,
    ) -> None:
        self._hub = hub
        self._cameras = frozenset(cameras)
        self._publish = publish
        self.rules = rules
        self._holds: dict[str, Hold] = {}
        self.seq = 0

    @classmethod
    def for_site(
        cls, hub: HubService, site: Site | None, publish: Callable[[bytes], None], config: PtzConfig
    ) -> PtzService:
        """The service for the site's PTZ cameras (those with an `onvif` URL)."""
        cameras = [c.id for c in site.cameras if c.onvif] if site is not None else []
        return cls(hub, cameras, publish, config.rules())

    async def start(self) -> None:
        """The seq from the clock; the stored holds that have not expired are back."""
        if self.seq != 0:
            return
        now = self._hub.clock()
        self.seq = int(now.timestamp() * 1000)

        def load() -> list[Hold]:
            with self._hub.engine.connect() as conn:
                return store.live(conn, now)

        for hold in await asyncio.to_thread(load):
            if hold.camera_id in self._cameras:
                self._holds[hold.camera_id] = hold

    def holds(self) -> list[PtzHold]:
        now = self._hub.clock()
        return [wire_hold(h) for _, h in sorted(self._holds.items()) if h.live(now)]

    def _camera(self, camera_id: str) -> None:
        if camera_id not in self._cameras:
            raise HubError(
                ErrorCode.NOT_FOUND, f"没有云台摄像机 {camera_id} / no PTZ camera {camera_id!r}"
            )

    async def hold(
        self,
        camera_id: str,
        operator: str,
        role: Role,
        workstation: str,
        action: PtzAction,
        detail: str = "",
    ) -> PtzHold:
        """Grant or renew the camera's hold for `action`; audited; HubError if refused."""
        self._camera(camera_id)
        now = self._hub.clock()
        before = self._holds.get(camera_id)
        try:
            after = decide(
                before,
                camera_id=camera_id,
                operator=operator,
                role=role,
                workstation=workstation,
                action=action,
                now=now,
                rules=self.rules,
            )
        except PtzRefused as exc:
            code = ErrorCode.FORBIDDEN if exc.forbidden else ErrorCode.CONFLICT
            raise HubError(code, exc.message) from None
        taken_from = (
            before.operator if before and before.live(now) and before.operator != operator else ""
        )
        note = f"{camera_id} {action.value}" + (f" {detail}" if detail else "")
        if taken_from:
            note += f"（接管自 {taken_from}）"
        await self._audit(
            now, operator, role, workstation, action.value, note, lambda c: store.put(c, after)
        )
        self._holds[camera_id] = after
        if (
            before is None
            or not before.live(now)
            or before.operator != after.operator
            or before.workstation != after.workstation
        ):
            self._changed(camera_id, after)
        return wire_hold(after)

    async def release(self, camera_id: str, operator: str, role: Role, workstation: str) -> bool:
        """Free the camera if `operator` holds it; whether they did."""
        self._camera(camera_id)
        now = self._hub.clock()
        if not may_release(self._holds.get(camera_id), operator, now):
            return False
        await self._audit(
            now,
            operator,
            role,
            workstation,
            PtzAction.RELEASE.value,
            f"{camera_id} release",
            lambda c: store.forget(c, camera_id),
        )
        del self._holds[camera_id]
        self._changed(camera_id, None)
        return True

    async def _audit(
        self,
        now: datetime,
        operator: str,
        role: Role,
        workstation: str,
        action: str,
        note: str,
        keep: Callable[[Connection], None],
    ) -> None:
        """The audit row and the stored hold (`keep`), in one transaction."""
        entry = AuditEntry(
            event_id=PTZ_LOG,
            at=now,
            operator=operator[:64],
            role=role,
            workstation=workstation[:64],
            action=f"ptz_{action}"[:32],
            from_state=None,
            to_state=None,
            note=note[:5000],
        )

        def job(tx: Tx) -> None:
            append_audit(tx.conn, [entry])
            keep(tx.conn)

        await self._hub.commit(job)

    async def log(self, camera_id: str | None, limit: int) -> list[PtzLogEntry]:
        rows = await asyncio.to_thread(self._hub.store.timeline, PTZ_LOG)
        if camera_id is not None:
            rows = [r for r in rows if camera_of(r.note) == camera_id]
        return [
            PtzLogEntry(
                at=r.at,
                operator=r.operator,
                role=r.role,
                workstation=r.workstation,
                action=str(r.action),
                note=r.note,
            )
            for r in rows[-limit:]
        ]

    def _changed(self, camera_id: str, hold: Hold | None) -> None:
        self.seq += 1
        msg = PtzHoldChanged(
            seq=self.seq, camera_id=camera_id, hold=wire_hold(hold) if hold else None
        )
        try:
            self._publish(encode(msg))
        except Exception:  # the hold stands; consoles catch up at the next list
            log.exception("publishing a PTZ hold failed")
