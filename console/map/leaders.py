"""Grid leaders' shared positions as map marks (Qt-free, pure).

The hub keeps each person's last position shared from the phone page with their consent
(`dispatch.positions`); the console's map shows it as "name time（本人同意共享）". A
position older than the hub's age limit (`[positions] max_age_min`, default 2 h) is not
shown; one older than half of it is drawn faded. Times are shown in the hall's time
zone (Beijing time): "09:41" today, "12-01 18:05" before today.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from console.map.model import LeaderMark, world
from dispatch.domain.calendar import CHINA_TZ
from dispatch.positions.messages import LeaderPosition


def shown_time(at: datetime, now: datetime) -> str:
    local, today = at.astimezone(CHINA_TZ), now.astimezone(CHINA_TZ).date()
    return local.strftime("%H:%M") if local.date() == today else local.strftime("%m-%d %H:%M")


def leader_marks(
    positions: Iterable[LeaderPosition], now: datetime, max_age_s: float
) -> list[LeaderMark]:
    """The marks to draw: consented, not older than `max_age_s`, faded past half of it."""
    out = []
    for p in positions:
        age = (now - p.at).total_seconds()
        if not p.consent or age > max_age_s:
            continue
        when = shown_time(p.at, now)
        out.append(LeaderMark(p.person_id, p.name, world(p.lon, p.lat), when, age > max_age_s / 2))
    return out
