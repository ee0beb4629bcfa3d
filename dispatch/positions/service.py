"""The hub's side of the grid leaders' shared positions: record a fix from the phone
page, forget it when consent is withdrawn, list them for consoles, publish each change.

The phone page (`dispatch.tasks.web`) calls `report` and `withdraw` for the person its
link belongs to; consoles ask for `positions()` at login (`dispatch.positions.handlers`)
and follow the published `LeaderPositionChanged` (with this service's own `seq`,
monotonic over the hub's life: it starts from the hub's clock in milliseconds). A fix
less than `min_interval_s` after the person's last stored one is answered with that one
and not stored again (a page may send at most one a minute, plus one per task action).
Positions live in the store (`leader_positions`) and in memory (loaded at `start`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta

from dispatch.domain.site import Site
from dispatch.domain.wire import encode
from dispatch.events.service import HubService
from dispatch.hub.writer import Tx
from dispatch.positions import store
from dispatch.positions.core import Extent, check_fix, extent_of
from dispatch.positions.messages import LeaderPosition, LeaderPositionChanged

log = logging.getLogger(__name__)


def site_extent(site: Site | None) -> Extent | None:
    """The extent of the site's grids and cameras (None: no site, no check)."""
    if site is None:
        return None
    pts = [p for g in site.grids for p in g.polygon] + [(c.lon, c.lat) for c in site.cameras]
    return extent_of(pts)


class PositionsService:
    """Constructed by the hub's assembly (no I/O); `start()` loads the stored positions."""

    def __init__(
        self,
        hub: HubService,
        site: Site | None,
        publish: Callable[[bytes], None],
        *,
        max_age: timedelta = timedelta(hours=2),
        min_interval_s: float = 10.0,
    ) -> None:
        self._hub = hub
        self._publish = publish
        self._names = {p.id: p.name for p in site.people} if site is not None else {}
        self._extent = site_extent(site)
        self.max_age = max_age
        self.min_interval_s = min_interval_s
        self._positions: dict[str, LeaderPosition] = {}
        self.seq = 0
        self._started = False

    async def start(self) -> None:
        if self._started:
            return
        self._started = True
        self.seq = int(self._hub.clock().timestamp() * 1000)

        def load() -> list[store.StoredPosition]:
            with self._hub.engine.connect() as conn:
                return store.load_all(conn)

        for row in await asyncio.to_thread(load):
            self._positions[row.person_id] = self._view(row)

    def _view(self, row: store.StoredPosition) -> LeaderPosition:
        return LeaderPosition(
            person_id=row.person_id,
            name=self._names.get(row.person_id, row.person_id),
            lon=row.lon,
            lat=row.lat,
            at=row.at,
            accuracy_m=row.accuracy_m,
        )

    def positions(self) -> list[LeaderPosition]:
        """Every position kept, by person id."""
        return [self._positions[k] for k in sorted(self._positions)]

    def position_of(self, person_id: str) -> LeaderPosition | None:
        return self._positions.get(person_id)

    async def report(
        self, person_id: str, lon: float, lat: float, accuracy_m: float
    ) -> LeaderPosition:
        """Keep a fix the person shared; `PositionRefused` for one that is not usable."""
        check_fix(lon, lat, accuracy_m, self._extent)
        now = self._hub.clock()
        last = self._positions.get(person_id)
        if last is not None and abs((now - last.at).total_seconds()) < self.min_interval_s:
            return last
        row = store.StoredPosition(person_id, float(lon), float(lat), float(accuracy_m), now)

        def job(tx: Tx) -> None:
            store.put(tx.conn, row)

        await self._hub.commit(job)
        pos = self._view(row)
        self._positions[person_id] = pos
        self._changed(person_id, pos)
        return pos

    async def withdraw(self, person_id: str) -> bool:
        """Forget the person's position (consent withdrawn); whether there was one. The
        change is published either way, so a console that missed one forgets it too."""

        def job(tx: Tx) -> bool:
            return store.forget(tx.conn, person_id)

        had = await self._hub.commit(job)
        self._positions.pop(person_id, None)
        self._changed(person_id, None)
        return had

    def _changed(self, person_id: str, pos: LeaderPosition | None) -> None:
        self.seq += 1
        msg = LeaderPositionChanged(
            seq=self.seq, person_id=person_id, consent=pos is not None, position=pos
        )
        try:
            self._publish(encode(msg))
        except Exception:  # the position is stored; consoles catch up at the next list
            log.exception("publishing a leader position failed")
