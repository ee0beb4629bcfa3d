"""The site configuration: the county tree, grids, people and cameras (TOML, pydantic).

`load_site(path)` reads a TOML file; a bad file raises `SiteConfigError` whose message
names the file and the field, so that entry points can print it and exit without a
traceback. Credentials are referenced by name from cameras and kept as `SecretStr`:
they are never printed or logged.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, Field, SecretStr, ValidationError, model_validator

from dispatch.domain.strict import FROZEN

# one credential rule for the hub and streams (re-exported)
from streams.ingest.sources import with_credentials as with_credentials

Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]


class _Model(BaseModel):
    model_config = FROZEN


class Credential(_Model):
    username: str = Field(min_length=1, description="RTSP user name")
    password: SecretStr | None = Field(default=None, description="the password itself")
    password_env: str | None = Field(
        default=None, description="name of an environment variable holding the password"
    )

    def secret(self) -> str:
        if self.password_env is not None:
            return os.environ.get(self.password_env, "")
        return self.password.get_secret_value() if self.password is not None else ""


class Township(_Model):
    id: Id
    name: str = Field(min_length=1, description="乡镇/街道 name")


class Village(_Model):
    id: Id
    name: str = Field(min_length=1, description="村/社区 name")
    township: Id = Field(description="id of its township")


class Person(_Model):
    id: Id
    name: str = Field(min_length=1)
    role: Literal[
        "grid_leader",
        "deputy",
        "village_supervisor",
        "township_supervisor",
        "county",
        "maintenance",
    ]
    phone: str = Field(default="", description="mobile number; masked wherever shown")


class Grid(_Model):
    id: Id
    name: str = Field(min_length=1)
    village: Id
    leader: Id | None = Field(default=None, description="person id of the 网格长")
    deputy: Id | None = Field(default=None, description="person id of the deputy")
    polygon: list[tuple[float, float]] = Field(
        default_factory=list, description="boundary as (lon, lat) points, GeoJSON order"
    )


class CameraStreamConfig(_Model):
    url: str = Field(pattern=r"^rtsps?://", description="RTSP URL without credentials")
    width: int = Field(gt=0, le=8192)
    height: int = Field(gt=0, le=8192)


class Camera(_Model):
    id: Id
    name: str = Field(min_length=1, description="name shown on the tile")
    township: Id
    village: Id | None = None
    grid: Id | None = None
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    main: CameraStreamConfig
    sub: CameraStreamConfig
    third: CameraStreamConfig | None = Field(
        default=None,
        description="the 640x360 third stream many cameras offer (for small wall tiles)",
    )
    credentials: str | None = Field(default=None, description="name of an entry in [credentials]")
    onvif: str | None = Field(
        default=None,
        pattern=r"^https?://[^/@?#\s]+/\S*$",
        max_length=256,
        description="ONVIF device service URL of a PTZ camera, e.g. "
        "http://10.1.2.3/onvif/device_service (its credentials: the camera's `credentials`)",
    )


class PtzLink(_Model):
    """An alarm at a place turns a PTZ camera to one of its presets (docs/ptz.md)."""

    place: Id = Field(description="village or grid id whose alarms move the camera")
    camera: Id = Field(description="a camera with `onvif`")
    preset: str = Field(min_length=1, max_length=64, description="the camera's preset name")


class Relay(_Model):
    """A camera relay (`hall-relay`): pulls each camera it serves once, for everyone.

    It serves `/<camera id>/<main|sub|third>` under `url`. Which cameras go through it:
    those named in `cameras`, and every camera of the `townships` (a camera named by a
    relay is that relay's even when another relay serves its township). The resolver is
    `dispatch.domain.relay.stream_url`.
    """

    id: Id
    url: str = Field(
        pattern=r"^rtsp://[^/@?#\s]+$",
        max_length=256,
        description="RTSP base URL consoles and the patrol reach the relay at, "
        "e.g. rtsp://relay1.hall:8554 (host and port only, no credentials, no path)",
    )
    townships: list[Id] = Field(
        default_factory=list, description="townships whose cameras go through this relay"
    )
    cameras: list[Id] = Field(
        default_factory=list,
        description="cameras that go through this relay, whatever their township",
    )
    credentials: str | None = Field(
        default=None,
        description="name of an entry in [credentials] the relay asks its clients for "
        "(digest); none: the relay asks for none (it listens on the video network only)",
    )


class CivilCodeMap(_Model):
    """Channels whose civil code starts with `prefix` belong to this township (and village)."""

    prefix: str = Field(pattern=r"^[0-9]{2,20}$", description="行政区划代码 prefix, digits")
    township: Id
    village: Id | None = Field(default=None, description="the village, when the prefix is one")


class PlatformConfig(_Model):
    """A video platform whose catalogue adds cameras beside the listed ones (docs/platform.md)."""

    id: Id
    kind: Literal["wvp"] = Field(default="wvp", description="the platform's API (WVP-GB28181-pro)")
    url: str = Field(
        pattern=r"^https?://[^/@?#\s]+(/\S*)?$", max_length=256, description="API base URL"
    )
    credentials: str = Field(description="name of an entry in [credentials] for the API login")
    refresh_s: float = Field(default=600.0, ge=10.0, description="catalogue refresh interval")
    url_ttl_s: float = Field(
        default=300.0, gt=0.0, description="stream URL lifetime when the platform gives none"
    )
    timeout_s: float = Field(default=10.0, gt=0.0, le=120.0, description="per-request time-out")
    civil_codes: list[CivilCodeMap] = Field(
        default_factory=list,
        description="township (and village) by civil-code prefix; longest wins",
    )
    channels: dict[str, Id] = Field(
        default_factory=dict,
        description="mapping table: channel id → village id (wins over civil codes)",
    )


class MapSettings(_Model):
    """The site file's `[map]` table: the offline base map, if the county has one."""

    tiles: str | None = Field(
        default=None,
        min_length=1,
        max_length=4096,
        description="MBTiles file of raster base tiles; relative to the site file's folder",
    )
    datum: Literal["wgs84", "gcj02"] = Field(
        default="wgs84",
        description="datum of the tile package (the site's own coordinates are always WGS-84)",
    )

    def tiles_path(self, site_file: str | Path) -> Path | None:
        """The tile package's path, relative paths taken from the site file's folder."""
        if self.tiles is None:
            return None
        p = Path(self.tiles).expanduser()
        return p if p.is_absolute() else (Path(site_file).resolve().parent / p).resolve()


class Site(_Model):
    name: str = Field(min_length=1, description="the county centre's name")
    credentials: dict[str, Credential] = Field(default_factory=dict)
    townships: list[Township] = Field(min_length=1)
    villages: list[Village] = Field(default_factory=list)
    people: list[Person] = Field(default_factory=list)
    grids: list[Grid] = Field(default_factory=list)
    cameras: list[Camera] = Field(default_factory=list)
    map: MapSettings = Field(default_factory=MapSettings, description="the map's base tiles")
    relays: list[Relay] = Field(
        default_factory=list,
        description="camera relays (`hall-relay`); a camera no relay serves is pulled directly",
    )
    ptz_links: list[PtzLink] = Field(
        default_factory=list,
        description="which PTZ cameras turn to which preset when an alarm comes from a place",
    )
    platforms: list[PlatformConfig] = Field(
        default_factory=list,
        description="video platforms whose catalogues add cameras to the tree (beside `cameras`)",
    )

    @model_validator(mode="after")
    def _references(self) -> Site:
        def unique(kind: str, ids: list[str]) -> set[str]:
            seen: set[str] = set()
            for i in ids:
                if i in seen:
                    raise ValueError(f"{kind}: duplicate id {i!r}")
                seen.add(i)
            return seen

        towns = unique("townships", [t.id for t in self.townships])
        villages = unique("villages", [v.id for v in self.villages])
        people = unique("people", [p.id for p in self.people])
        grids = unique("grids", [g.id for g in self.grids])
        unique("cameras", [c.id for c in self.cameras])
        for v in self.villages:
            if v.township not in towns:
                raise ValueError(f"villages.{v.id}.township: unknown township {v.township!r}")
        for g in self.grids:
            if g.village not in villages:
                raise ValueError(f"grids.{g.id}.village: unknown village {g.village!r}")
            for role in ("leader", "deputy"):
                pid = getattr(g, role)
                if pid is not None and pid not in people:
                    raise ValueError(f"grids.{g.id}.{role}: unknown person {pid!r}")
        for c in self.cameras:
            if c.township not in towns:
                raise ValueError(f"cameras.{c.id}.township: unknown township {c.township!r}")
            if c.village is not None and c.village not in villages:
                raise ValueError(f"cameras.{c.id}.village: unknown village {c.village!r}")
            if c.grid is not None and c.grid not in grids:
                raise ValueError(f"cameras.{c.id}.grid: unknown grid {c.grid!r}")
            if c.credentials is not None and c.credentials not in self.credentials:
                raise ValueError(f"cameras.{c.id}.credentials: unknown entry {c.credentials!r}")
        self._check_relays(towns)
        self._check_platforms(towns, villages)
        ptz = {c.id for c in self.cameras if c.onvif}
        for i, link in enumerate(self.ptz_links):
            if link.camera not in ptz:
                raise ValueError(f"ptz_links[{i}].camera: {link.camera!r} is not a PTZ camera")
            if link.place not in villages and link.place not in grids:
                raise ValueError(f"ptz_links[{i}].place: unknown village or grid {link.place!r}")
        return self

    def _check_relays(self, towns: set[str]) -> None:
        cameras = {c.id for c in self.cameras}
        ids: set[str] = set()
        claimed_towns: dict[str, str] = {}
        claimed_cams: dict[str, str] = {}
        for r in self.relays:
            if r.id in ids:
                raise ValueError(f"relays: duplicate id {r.id!r}")
            ids.add(r.id)
            if r.credentials is not None and r.credentials not in self.credentials:
                raise ValueError(f"relays.{r.id}.credentials: unknown entry {r.credentials!r}")
            for kind, refs, known, claimed in (
                ("townships", r.townships, towns, claimed_towns),
                ("cameras", r.cameras, cameras, claimed_cams),
            ):
                for ref in refs:
                    if ref not in known:
                        raise ValueError(f"relays.{r.id}.{kind}: unknown id {ref!r}")
                    if ref in claimed:
                        raise ValueError(
                            f"relays.{r.id}.{kind}: {ref!r} is already served by relay "
                            f"{claimed[ref]!r}"
                        )
                    claimed[ref] = r.id

    def _check_platforms(self, towns: set[str], villages: set[str]) -> None:
        ids: set[str] = set()
        for p in self.platforms:
            if p.id in ids:
                raise ValueError(f"platforms: duplicate id {p.id!r}")
            ids.add(p.id)
            if p.credentials not in self.credentials:
                raise ValueError(f"platforms.{p.id}.credentials: unknown entry {p.credentials!r}")
            for m in p.civil_codes:
                if m.township not in towns:
                    raise ValueError(
                        f"platforms.{p.id}.civil_codes: unknown township {m.township!r}"
                    )
                if m.village is not None and m.village not in villages:
                    raise ValueError(f"platforms.{p.id}.civil_codes: unknown village {m.village!r}")
            for ch, v in p.channels.items():
                if v not in villages:
                    raise ValueError(f"platforms.{p.id}.channels.{ch}: unknown village {v!r}")

    # -- look-ups -----------------------------------------------------------------
    def camera(self, camera_id: str) -> Camera:
        for c in self.cameras:
            if c.id == camera_id:
                return c
        raise KeyError(f"unknown camera {camera_id!r}")

    def relay(self, relay_id: str) -> Relay:
        for r in self.relays:
            if r.id == relay_id:
                return r
        raise KeyError(f"unknown relay {relay_id!r}")

    def township_name(self, township_id: str) -> str:
        return next((t.name for t in self.townships if t.id == township_id), township_id)

    def village_name(self, village_id: str) -> str:
        return next((v.name for v in self.villages if v.id == village_id), village_id)

    def authed_url(self, camera: Camera, stream: Literal["main", "sub"]) -> str:
        """The URL with credentials filled in: for the decoder only, never for display."""
        cfg = camera.main if stream == "main" else camera.sub
        if camera.credentials is None:
            return cfg.url
        cred = self.credentials[camera.credentials]
        return with_credentials(cfg.url, cred.username, cred.secret())


def redact_url(url: str) -> str:
    """The URL without user info, for logs and the UI."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


class SiteConfigError(Exception):
    """A site file that cannot be used; the message names the file and the field."""


def parse_site(data: dict[str, object], source: str = "<site>") -> Site:
    try:
        return Site.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
            lines.append(f"  {loc}: {err['msg']}")
        raise SiteConfigError(
            f"{source}: invalid site configuration\n" + "\n".join(lines)
        ) from None


def load_site(path: str | Path) -> Site:
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise SiteConfigError(f"{p}: cannot read site file: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SiteConfigError(f"{p}: not valid TOML: {exc}") from None
    return parse_site(data, str(p))


def demo_site_path() -> Path:
    return Path(__file__).resolve().parents[2] / "resources" / "sites" / "demo.toml"
