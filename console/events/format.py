"""Text shown for times, countdowns and places. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from console.events.strings import tr
from dispatch.domain.model import Place

# The centre works on Beijing time whatever the workstation's own zone is set to.
DISPLAY_TZ: tzinfo = ZoneInfo("Asia/Shanghai")


def format_duration(delta: timedelta, lang: str | None = None) -> str:
    """|delta| as [N天 ]HH:MM:SS, whole seconds, rounded down."""
    total = int(abs(delta).total_seconds())
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    clock = f"{hours:02d}:{minutes:02d}:{seconds:02d}"
    return (tr("countdown.days", lang, days=days) + clock) if days else clock


def format_countdown(delta: timedelta | None, lang: str | None = None) -> str:
    """'剩余 02:14:05' while time is left, '超时 00:03:10' once overdue, '—' without deadline."""
    if delta is None:
        return tr("countdown.none", lang)
    key = "countdown.left" if delta >= timedelta(0) else "countdown.over"
    return tr(key, lang, time=format_duration(delta, lang))


def format_time(dt: datetime | None, tz: tzinfo = DISPLAY_TZ, *, seconds: bool = False) -> str:
    if dt is None:
        return "—"
    local = dt.astimezone(tz)
    return local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def format_short_time(dt: datetime, tz: tzinfo = DISPLAY_TZ) -> str:
    """MM-DD HH:MM:SS (timeline rows: the year is on the event)."""
    return dt.astimezone(tz).strftime("%m-%d %H:%M:%S")


def format_clock(dt: datetime | None, tz: tzinfo = DISPLAY_TZ) -> str:
    """HH:MM:SS in the display zone (for the connection banner)."""
    return "—" if dt is None else dt.astimezone(tz).strftime("%H:%M:%S")


def format_place(place: Place, township_names: Mapping[str, str]) -> str:
    parts: list[str] = []
    if place.township:
        parts.append(township_names.get(place.township, place.township))
    if place.address:
        parts.append(place.address)
    if place.grid:
        parts.append(f"[{place.grid}]")
    if place.lon is not None and place.lat is not None:
        parts.append(f"({place.lon:.5f}, {place.lat:.5f})")
    return " ".join(parts) if parts else "—"
