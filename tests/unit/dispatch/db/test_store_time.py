"""The store's timestamp conversions: what SQLite hands back naive is UTC, and what is
written is converted to UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from dispatch.db.types import TS, aware, utc

CHINA = timezone(timedelta(hours=8))


def test_the_column_type_keeps_the_time_zone() -> None:
    assert TS.timezone is True


def test_aware_reads_a_naive_timestamp_as_utc_and_keeps_an_aware_one() -> None:
    naive = datetime(2026, 11, 22, 3, 0)
    assert aware(naive) == datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
    assert aware(naive).tzinfo is UTC
    local = datetime(2026, 11, 22, 11, 0, tzinfo=CHINA)
    assert aware(local) is local
    assert aware(None) is None


def test_utc_converts_to_utc() -> None:
    local = datetime(2026, 11, 22, 11, 0, tzinfo=CHINA)
    out = utc(local)
    assert out == local and out.tzinfo is UTC and out.hour == 3
    assert utc(None) is None
