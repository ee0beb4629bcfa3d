"""A camera as `streams` sees it: id, name, main, sub and third stream, credentials. Plain values.

`streams` never imports `dispatch`: the hub parses and validates the whole site
(`dispatch.domain.site`) and hands streams plain values (URLs with credentials, ids).
Two command lines of `streams` take a site file themselves, `hall-camsim --site FILE`
and `python -m streams.patrol.runner --site FILE`; they run without the hub, so they
read the file here. This reader reads only what they need, the `[credentials]` table
and the `[[cameras]]` (id, name, main, sub, third, credentials) with the same field rules as
the site model, plus the site's `name` and non-empty `townships` (that it is a site at
all); it ignores the rest (villages, people, grids) and does not check the site's
cross references, which is the hub's business. The alternative, a
dispatch-side helper turning a `Site` into these values, would make both commands
depend on `dispatch` again. A bad file raises `SourcesError` naming the file and field.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import quote, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

StreamName = Literal["main", "sub", "third"]


def with_credentials(url: str, username: str, password: str) -> str:
    """`url` with `username:password@` in front of the host (both percent-quoted)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    netloc = f"{quote(username, safe='')}:{quote(password, safe='')}@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


@dataclass(frozen=True, slots=True)
class StreamSource:
    url: str  # without credentials
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class CameraAuth:
    entry: str  # name of the credential entry (for messages)
    username: str
    password: str  # resolved; "" when its environment variable is unset
    password_env: str | None = None


@dataclass(frozen=True, slots=True)
class CameraSource:
    id: str
    name: str
    main: StreamSource
    sub: StreamSource
    auth: CameraAuth | None = None
    third: StreamSource | None = None  # the small (640x360) stream, if the camera has one

    def stream(self, which: StreamName) -> StreamSource:
        """The named stream; KeyError for "third" on a camera without one."""
        if which == "third":
            if self.third is None:
                raise KeyError(f"camera {self.id!r} has no third stream")
            return self.third
        return self.main if which == "main" else self.sub

    def authed_url(self, which: StreamName) -> str:
        """The URL with credentials filled in: for the decoder only, never for display."""
        url = self.stream(which).url
        if self.auth is None:
            return url
        return with_credentials(url, self.auth.username, self.auth.password)


class SourcesError(Exception):
    """A site file whose cameras cannot be read; the message names the file and the field."""


# -- the part of the site file read here (same field rules as dispatch.domain.site) ---
_Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Credential(_Model):
    username: str = Field(min_length=1)
    password: SecretStr | None = None
    password_env: str | None = None


class _Stream(_Model):
    url: str = Field(pattern=r"^rtsps?://")
    width: int = Field(gt=0, le=8192)
    height: int = Field(gt=0, le=8192)


class _Camera(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: _Id
    name: str = Field(min_length=1)
    main: _Stream
    sub: _Stream
    third: _Stream | None = None
    credentials: str | None = None


class _Cameras(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    # that the file is a site at all (the hub checks the rest of it)
    name: str = Field(min_length=1)
    townships: list[dict[str, object]] = Field(min_length=1)
    credentials: dict[str, _Credential] = Field(default_factory=dict)
    cameras: list[_Camera] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references(self) -> _Cameras:
        seen: set[str] = set()
        for c in self.cameras:
            if c.id in seen:
                raise ValueError(f"cameras: duplicate id {c.id!r}")
            seen.add(c.id)
            if c.credentials is not None and c.credentials not in self.credentials:
                raise ValueError(f"cameras.{c.id}.credentials: unknown entry {c.credentials!r}")
        return self


def _auth(name: str, cred: _Credential, env: Mapping[str, str]) -> CameraAuth:
    if cred.password_env is not None:
        password = env.get(cred.password_env, "")
    else:
        password = cred.password.get_secret_value() if cred.password is not None else ""
    return CameraAuth(name, cred.username, password, cred.password_env)


def site_credential(
    data: Mapping[str, object], name: str, env: Mapping[str, str] | None = None
) -> CameraAuth:
    """The `[credentials]` entry `name` of a parsed site table (KeyError: none such)."""
    parsed = _Cameras.model_validate({**data, "cameras": []})
    return _auth(name, parsed.credentials[name], os.environ if env is None else env)


def parse_camera_sources(
    data: Mapping[str, object], source: str = "<site>", env: Mapping[str, str] | None = None
) -> list[CameraSource]:
    """The cameras of a parsed site table; passwords resolved from `env` (os.environ)."""
    try:
        parsed = _Cameras.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
            lines.append(f"  {loc}: {err['msg']}")
        raise SourcesError(f"{source}: invalid site configuration\n" + "\n".join(lines)) from None
    environ = os.environ if env is None else env
    auths = {name: _auth(name, cred, environ) for name, cred in parsed.credentials.items()}
    return [
        CameraSource(
            id=c.id,
            name=c.name,
            main=StreamSource(c.main.url, c.main.width, c.main.height),
            sub=StreamSource(c.sub.url, c.sub.width, c.sub.height),
            auth=auths[c.credentials] if c.credentials is not None else None,
            third=(
                StreamSource(c.third.url, c.third.width, c.third.height)
                if c.third is not None
                else None
            ),
        )
        for c in parsed.cameras
    ]


def read_camera_sources(path: str | Path) -> list[CameraSource]:
    """The cameras of a site TOML file; `SourcesError` names the file and the field."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise SourcesError(f"{p}: cannot read site file: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SourcesError(f"{p}: not valid TOML: {exc}") from None
    return parse_camera_sources(data, str(p))
