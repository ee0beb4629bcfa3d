"""The patrol's targets from a site file, for a patrol on another machine
(`python -m streams.patrol.runner --site FILE`): through the site's relays, as the hub's
own patrol goes (`dispatch.patrol.runner.site_targets`).

`streams` never imports `dispatch`: the cameras come from `read_camera_sources`, and the
`[[relays]]` table and each camera's township are read here with the same rule as
`dispatch.domain.relay.relay_for` (a relay naming the camera, else one serving its
township, else none). The hub validates the whole site; this reads only what it needs.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from streams.ingest.sources import (
    CameraSource,
    SourcesError,
    parse_camera_sources,
    site_credential,
    with_credentials,
)
from streams.patrol.relayed import DIRECT, probe_url
from streams.patrol.runner import PatrolTarget

_Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]


class _Relay(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: _Id
    url: str = Field(pattern=r"^rtsp://[^/@?#\s]+$")
    townships: list[_Id] = Field(default_factory=list)
    cameras: list[_Id] = Field(default_factory=list)
    credentials: str | None = None


class _Placed(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: _Id
    township: _Id


class _Relays(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    relays: list[_Relay] = Field(default_factory=list)
    cameras: list[_Placed] = Field(default_factory=list)


def _credentials(data: Mapping[str, object]) -> list[str]:
    table = data.get("credentials")
    return [str(k) for k in table] if isinstance(table, dict) else []


def relay_of(camera: str, township: str, relays: Sequence[_Relay]) -> _Relay | None:
    named = next((r for r in relays if camera in r.cameras), None)
    return named or next((r for r in relays if township in r.townships), None)


def relay_auth(relay: _Relay, data: Mapping[str, object]) -> tuple[str, str] | None:
    """The relay's own credentials (user, password), resolved as a camera's are."""
    if relay.credentials is None:
        return None
    auth = site_credential(data, relay.credentials)
    return auth.username, auth.password


def patrol_targets(
    data: Mapping[str, object],
    source: str = "<site>",
    *,
    direct: bool = False,
    stream: Literal["main", "sub"] = "sub",
) -> list[PatrolTarget]:
    """Every camera of a parsed site on its `stream`: through its relay (`?patrol=1`, the
    relay's credentials) unless `direct`, else at its own URL with its credentials."""
    cameras: list[CameraSource] = parse_camera_sources(data, source)
    try:
        placed = _Relays.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise SourcesError(f"{source}: invalid relays: {loc}: {first['msg']}") from None
    township = {c.id: c.township for c in placed.cameras}
    named = {r.credentials for r in placed.relays if r.credentials is not None}
    unknown = named - set(_credentials(data))
    if unknown:
        raise SourcesError(f"{source}: relays name unknown credentials {sorted(unknown)}")
    targets = []
    for cam in cameras:
        relay = None if direct else relay_of(cam.id, township.get(cam.id, ""), placed.relays)
        if relay is None:
            targets.append(PatrolTarget(cam.id, cam.authed_url(stream), DIRECT))
            continue
        url = f"{relay.url.rstrip('/')}/{cam.id}/{stream}"
        auth = relay_auth(relay, data)
        if auth is not None:
            url = with_credentials(url, *auth)
        targets.append(PatrolTarget(cam.id, probe_url(url), relay.id))
    return targets


def read_patrol_targets(path: str | Path, *, direct: bool = False) -> list[PatrolTarget]:
    """`patrol_targets` of a site TOML file; `SourcesError` names the file and the field."""
    p = Path(path)
    try:
        data = tomllib.loads(p.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise SourcesError(f"{p}: cannot read site file: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SourcesError(f"{p}: not valid TOML: {exc}") from None
    return patrol_targets(data, str(p), direct=direct)
