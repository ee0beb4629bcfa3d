"""Timestamps in the hub's tables: the one column type, and the conversions on the way in
and out.

Every timestamp is written in UTC to a `DateTime(timezone=True)` column. PostgreSQL
hands it back aware; SQLite keeps no offset and hands back a naive datetime, which was
stored as UTC (`aware`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload

from sqlalchemy import BigInteger, DateTime, Integer

TS = DateTime(timezone=True)
# an autoincrementing row id: BIGINT on PostgreSQL, INTEGER (the rowid) on SQLite
BigId = BigInteger().with_variant(Integer(), "sqlite")


@overload
def aware(dt: datetime) -> datetime: ...
@overload
def aware(dt: None) -> None: ...
def aware(dt: datetime | None) -> datetime | None:
    """A timestamp read back from the store, with its UTC offset (None stays None)."""
    if dt is None:
        return None
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


@overload
def utc(dt: datetime) -> datetime: ...
@overload
def utc(dt: None) -> None: ...
def utc(dt: datetime | None) -> datetime | None:
    """A timestamp to store: converted to UTC (None stays None)."""
    return None if dt is None else dt.astimezone(UTC)
