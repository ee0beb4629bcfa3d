"""Events for the map tests, placed on the demo site's grids."""

from __future__ import annotations

from dispatch.domain.model import Colour, Event, EventSource, EventState, Place, Priority, Reporter
from tests.kit.clock import T0


def map_event(
    event_id: str,
    lon: float | None = None,
    lat: float | None = None,
    *,
    grid: str | None = None,
    title: str = "占道经营",
) -> Event:
    return Event(
        id=event_id,
        source=EventSource.GRID_REPORT,
        category="market",
        priority=Priority.ROUTINE,
        title=title,
        place=Place(township="t01", grid=grid, lon=lon, lat=lat),
        reporter=Reporter(),
        state=EventState.ACCEPTED,
        reported_at=T0,
        accepted_at=T0,
        updated_at=T0,
    )


COLOURS = (Colour.RED, Colour.YELLOW, Colour.GREEN)
