"""The files `hall-hub` reads besides its configuration: the working-day calendar, the
intake API keys, and where the packaged defaults are. Errors stop the command with a
message naming the file (SystemExit)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from dispatch.domain.calendar import CalendarError, WorkCalendar
from dispatch.domain.model import EventSource
from dispatch.domain.strict import FROZEN


def default_calendar_path() -> Path:
    return Path(__file__).resolve().parents[2] / "resources" / "calendar" / "cn.toml"


def load_calendar(path: Path) -> WorkCalendar:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return WorkCalendar.from_mapping(data)
    except OSError as exc:
        raise SystemExit(f"{path}: cannot read calendar: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, CalendarError) as exc:
        raise SystemExit(f"{path}: invalid calendar: {exc}") from None


class ApiKeyEntry(BaseModel):
    model_config = FROZEN
    name: str = Field(min_length=1, max_length=64)
    key: str = Field(min_length=16, max_length=256)
    sources: list[EventSource] = Field(min_length=1)


class ApiKeyFile(BaseModel):
    model_config = FROZEN
    keys: list[ApiKeyEntry]


def load_api_keys(path: Path) -> list[ApiKeyEntry]:
    """A TOML file of `[[keys]] name = … key = … sources = [...]`."""
    try:
        return ApiKeyFile.model_validate(tomllib.loads(path.read_text("utf-8"))).keys
    except OSError as exc:
        raise SystemExit(f"{path}: cannot read API key file: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SystemExit(f"{path}: not valid TOML: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise SystemExit(f"{path}: invalid API key file: {loc}: {first['msg']}") from None


def default_site_path() -> Path:
    return Path(__file__).resolve().parents[2] / "resources" / "sites" / "demo.toml"
