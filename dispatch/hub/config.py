"""The one configuration of `hall-hub`: a validated model read from a TOML file, then the
legacy environment variables, then the command line (each later source wins).

    site = "resources/sites/demo.toml"
    [hub]
    data_dir = "/var/lib/command-hall"     # database, uploads, recordings … (0700)
    [http]
    host = "0.0.0.0"
    port = 8443
    public_url = "https://hub.example.gov.cn:8443"
    plain_port = 8480
    [tls]
    mode = "auto"         # the hub's own CA; "files" with cert/key; "off" behind a proxy
    names = ["10.1.1.5"]
    [webrtc]
    ice_servers = ["stun:stun.example.org:3478"]
    [turn]
    urls = ["turn:turn.example.gov.cn:3478?transport=udp",
            "turns:turn.example.gov.cn:5349?transport=tcp"]
    secret_file = "/etc/hall/turn-secret"

Every key is described and constrained below; an unknown key or a bad value fails with
a `ConfigError` naming the key and where it came from (the file, the environment
variable or the command-line flag). `render_toml` prints the effective configuration
with secrets (database password, TURN credentials and secret) masked.

The environment variables read here, once, at the edge (nothing else in the hub reads
them): `HALL_PATROL_CONFIG` → `patrol.settings`, `HALL_WEBRTC_FORWARD=0` →
`webrtc.forward = false`, `HALL_WEBRTC_SHARED=0` → `webrtc.share_encoding = false`.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import re
import secrets
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from sqlalchemy.engine import make_url

from dispatch.db.store import default_db_url
from dispatch.domain.strict import FROZEN
from dispatch.events.service import HubSettings
from dispatch.hub.config_http import HttpConfig, TlsConfig
from dispatch.hub.config_positions import PositionsConfig
from dispatch.hub.config_ptz import PtzConfig
from dispatch.mediation.media import MediationConfig
from dispatch.meetings.janus.config import JanusConfig
from streams.private import default_state_dir
from streams.webrtc.config import IceConfigError, IceServer, parse_ice_servers

DEFAULT_ZMQ_REQ = "tcp://127.0.0.1:5570"
DEFAULT_ZMQ_PUB = "tcp://127.0.0.1:5571"
MASK = "***"

ENV_KEYS: dict[str, tuple[str, ...]] = {
    "HALL_PATROL_CONFIG": ("patrol", "settings"),
    "HALL_WEBRTC_FORWARD": ("webrtc", "forward"),
    "HALL_WEBRTC_SHARED": ("webrtc", "share_encoding"),
}


def is_loopback_endpoint(endpoint: str) -> bool:
    """ipc:// and inproc://, or tcp:// on 127.0.0.0/8, ::1 or localhost."""
    scheme, _, rest = endpoint.partition("://")
    if scheme in ("ipc", "inproc"):
        return True
    host = rest.rpartition(":")[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ConfigError(ValueError):
    """A configuration that cannot be used; the message names the key and its source."""


class _Section(BaseModel):
    model_config = FROZEN


class ZmqConfig(_Section):
    req: str = Field(
        default=DEFAULT_ZMQ_REQ,
        pattern=r"^(tcp|ipc|inproc)://\S+$",
        description="ROUTER endpoint for console requests (:0 = any free port)",
    )
    pub: str = Field(
        default=DEFAULT_ZMQ_PUB,
        pattern=r"^(tcp|ipc|inproc)://\S+$",
        description="PUB endpoint for published changes (:0 = any free port)",
    )
    heartbeat_s: float = Field(
        default=1.0, gt=0, le=60, description="seconds between heartbeats on the PUB socket"
    )
    curve: bool = Field(
        default=True,
        description="CURVE encryption and enrolled consoles only (false: plain, loopback only)",
    )
    keys_dir: Path | None = Field(
        default=None,
        description="the hub's key pair and enrolled consoles (default: keys in the data folder)",
    )
    max_message_bytes: int = Field(
        default=1 << 20,
        ge=512 << 10,  # an evidence upload chunk is ~350 KB on the wire
        le=64 << 20,
        description="largest request frame read; a bigger one drops the sender's connection",
    )
    reload_s: float = Field(
        default=0.5, gt=0, le=60, description="seconds between looks at the enrolment book"
    )

    @model_validator(mode="after")
    def _plain_only_on_loopback(self) -> ZmqConfig:
        if not self.curve:
            for ep in (self.req, self.pub):
                if not is_loopback_endpoint(ep):
                    raise ValueError(f"curve = false only on loopback endpoints, not {ep}")
        return self


class WebrtcConfig(_Section):
    ice_servers: tuple[str, ...] = Field(
        default=(),
        description="STUN/TURN servers: stun:host:3478 or turn:user:pass@host:3478 (secret)",
    )
    hosts: tuple[str, ...] = Field(
        default=(),
        description="gather WebRTC host candidates only on these addresses (tests: 127.0.0.1)",
    )
    forward: bool = Field(
        default=True, description="forward received VP8 without decoding (false: re-encode)"
    )
    share_encoding: bool = Field(
        default=True, description="one VP8 encode per sender shared by its receivers"
    )

    @field_validator("ice_servers")
    @classmethod
    def _ice_parses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        try:
            parse_ice_servers(",".join(value))
        except IceConfigError as exc:
            raise ValueError(str(exc)) from None
        return value

    def parsed_ice_servers(self) -> tuple[IceServer, ...]:
        return tuple(parse_ice_servers(",".join(self.ice_servers)))


class TurnConfig(_Section):
    """coturn with time-limited credentials (`dispatch.hub.turn`): an external server
    (`urls` + the shared secret) or one the hub runs itself (`run = true`: the demo)."""

    urls: tuple[str, ...] = Field(
        default=(),
        description="TURN URLs handed out, e.g. turn:turn.example.gov.cn:3478?transport=udp "
        "(the first is the one aiortc uses); empty with run = true: made from the addresses",
    )
    secret: str | None = Field(
        default=None,
        min_length=16,
        max_length=256,
        description="coturn static-auth-secret (secret); or secret_file",
    )
    secret_file: Path | None = Field(
        default=None, description="file holding the static-auth-secret (first line)"
    )
    ttl_s: int = Field(
        default=12 * 3600, ge=60, le=7 * 24 * 3600, description="lifetime of minted credentials"
    )
    relay_only: bool = Field(
        default=False, description="pages and peers use TURN relay candidates only"
    )
    run: bool = Field(
        default=False, description="start coturn (turnserver) with the hub (demo, one machine)"
    )
    listen_ip: str = Field(
        default="127.0.0.1", description="with run: the address coturn listens on"
    )
    port: int = Field(default=3478, ge=1, le=65535, description="with run: coturn's UDP/TCP port")
    relay_ip: str | None = Field(
        default=None, description="with run: the address relays are opened on (default listen_ip)"
    )
    external_ip: str | None = Field(
        default=None, description="with run: the public address of a coturn behind NAT"
    )
    realm: str = Field(
        default="hall", min_length=1, max_length=64, pattern=r"^[\w.-]+$", description="realm"
    )
    min_port: int = Field(
        default=49160, ge=1024, le=65535, description="with run: first relay port"
    )
    max_port: int = Field(default=49400, ge=1024, le=65535, description="with run: last relay port")
    allowed_peers: tuple[str, ...] = Field(
        default=(),
        description="with run: networks relays may reach, all else denied "
        "(default: the listen and relay addresses)",
    )

    @field_validator("urls")
    @classmethod
    def _urls(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for url in value:
            if not re.match(r"^turns?:[^\s@/]+$", url):
                raise ValueError(f"{url!r} is not a turn:/turns: URL without credentials")
        return value

    @field_validator("listen_ip", "relay_ip", "external_ip")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is not None:
            ipaddress.ip_address(value)
        return value

    @field_validator("allowed_peers")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for net in value:
            ipaddress.ip_network(net, strict=False)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> TurnConfig:
        if self.secret is not None and self.secret_file is not None:
            raise ValueError("give secret or secret_file, not both")
        if self.urls and not self.run and self.secret is None and self.secret_file is None:
            raise ValueError("TURN urls need the shared secret (secret or secret_file)")
        if self.min_port > self.max_port:
            raise ValueError("min_port is above max_port")
        return self

    def enabled(self) -> bool:
        return self.run or bool(self.urls)

    def effective_urls(self) -> tuple[str, ...]:
        """The configured URLs, else (run) the UDP and TCP URL of the address clients use."""
        if self.urls or not self.run:
            return self.urls
        host = self.external_ip or self.listen_ip
        if ":" in host:
            host = f"[{host}]"
        return (
            f"turn:{host}:{self.port}?transport=udp",
            f"turn:{host}:{self.port}?transport=tcp",
        )

    def load_secret(self) -> str:
        """The secret, read from `secret_file` when given; with run and none given, a
        random one for this run (I/O: call it when starting)."""
        if self.secret is not None:
            return self.secret
        if self.secret_file is not None:
            try:
                text = self.secret_file.read_text(encoding="utf-8").strip().splitlines()
            except OSError as exc:
                raise ConfigError(f"turn.secret_file: cannot read: {exc.strerror}") from None
            if not text or len(text[0].strip()) < 16:
                raise ConfigError("turn.secret_file: needs a secret of 16 characters or more")
            return text[0].strip()
        return secrets.token_urlsafe(32)


class PatrolConfig(_Section):
    every_s: float = Field(
        default=0.0,
        ge=0,
        description="patrol the site's cameras every so many seconds (0 = off; needs a site)",
    )
    settings: Path | None = Field(
        default=None, description="patrol settings TOML (default resources/patrol.toml)"
    )
    concurrency: int = Field(
        default=8, ge=1, le=256, description="probes at once of cameras without a relay"
    )
    relay_concurrency: int = Field(
        default=32, ge=1, le=256, description="probes at once through each relay, all at once"
    )


class GuardConfig(_Section):
    """Limits on guessing PINs and operator passwords (growing delays 1, 2, 4 … s after
    the free failures, capped, then a block; see `dispatch.domain.throttle`)."""

    trusted_proxies: tuple[str, ...] = Field(
        default=(),
        max_length=64,
        description="reverse proxies (addresses or networks) whose X-Forwarded-For names "
        "the client; none by default: the peer address is the client",
    )
    pin_free_per_client: int = Field(
        default=10, ge=0, le=100_000, description="wrong PINs per client address without delay"
    )
    pin_block_per_client: int = Field(
        default=30, ge=1, le=1_000_000, description="wrong PINs per client address that block it"
    )
    login_free_per_account: int = Field(
        default=5, ge=0, le=100_000, description="wrong passwords per operator without delay"
    )
    login_block_per_account: int = Field(
        default=20, ge=1, le=1_000_000, description="wrong passwords that block an operator"
    )
    login_free_per_client: int = Field(
        default=10, ge=0, le=100_000, description="wrong passwords per client without delay"
    )
    login_block_per_client: int = Field(
        default=50, ge=1, le=1_000_000, description="wrong passwords that block a client"
    )
    max_delay_s: float = Field(
        default=60.0, ge=1, le=3600, description="cap of the growing delay between guesses"
    )
    block_s: float = Field(
        default=900.0, ge=1, le=86_400, description="seconds a blocked client or account waits"
    )
    hash_workers: int = Field(
        default=2, ge=1, le=32, description="threads hashing operator passwords (own pool)"
    )
    hash_queue: int = Field(
        default=16, ge=0, le=10_000, description="logins waiting for a hash thread; more: busy"
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for v in value:
            ipaddress.ip_network(v, strict=False)  # ValueError names the bad one
        return value

    @model_validator(mode="after")
    def _free_below_block(self) -> GuardConfig:
        for kind in ("pin_%s_per_client", "login_%s_per_account", "login_%s_per_client"):
            if getattr(self, kind % "free") >= getattr(self, kind % "block"):
                raise ValueError(f"{kind % 'free'} must be below {kind % 'block'}")
        return self


class HubSection(_Section):
    data_dir: Path | None = Field(
        default=None,
        description="the hub's data folder (0700; database, uploads, evidence, recordings, "
        "snapshots, exports, keys): default the SQLite database's folder when `db_url` names "
        "one, else $XDG_STATE_HOME/command-hall or ~/.local/state/command-hall; a "
        "deployment uses /var/lib/command-hall",
    )


class HubConfig(_Section):
    """Everything `hall-hub` needs to serve; see the module's docstring for the sources."""

    db_url: str = Field(
        default="",
        description="database URL (secret password); default the SQLite file hall.db in "
        "the data folder (`[hub] data_dir`)",
    )
    site: Path | None = Field(
        default=None, description="site TOML file (default with demo: the demo site)"
    )
    calendar: Path | None = Field(
        default=None, description="working-day calendar TOML (default resources/calendar)"
    )
    api_key_file: Path | None = Field(default=None, description="TOML file of intake API keys")
    demo: bool = Field(
        default=False, description="seed the demo operators, API key and links (printed)"
    )
    uploads: Path | None = Field(
        default=None, description="folder for feedback photos (default beside the db)"
    )
    recordings: Path | None = Field(
        default=None, description="folder for mediation recordings (default beside the db)"
    )
    evidence: Path | None = Field(
        default=None,
        description="folder of the evidence consoles upload (default `evidence` beside the db)",
    )
    yellow_share: float = Field(
        default=0.25, gt=0, lt=1, description="share of a deadline left when an event turns yellow"
    )
    timer_tick_s: float = Field(
        default=0.5, gt=0, le=60, description="seconds between looks at the deadline timers"
    )
    log_level: str = Field(
        default="WARNING",
        pattern=r"(?i)^(debug|info|warning|error|critical)$",
        description="logging level",
    )
    hub: HubSection = Field(default_factory=HubSection, description="the hub's own files")
    http: HttpConfig = Field(default_factory=HttpConfig, description="the HTTPS server")
    tls: TlsConfig = Field(default_factory=TlsConfig, description="HTTPS certificates")
    zmq: ZmqConfig = Field(default_factory=ZmqConfig, description="the console sockets")
    webrtc: WebrtcConfig = Field(default_factory=WebrtcConfig, description="WebRTC media")
    patrol: PatrolConfig = Field(default_factory=PatrolConfig, description="camera patrol")
    turn: TurnConfig = Field(default_factory=TurnConfig, description="TURN (coturn)")
    guard: GuardConfig = Field(default_factory=GuardConfig, description="guessing limits")
    positions: PositionsConfig = Field(
        default_factory=PositionsConfig, description="grid leaders' shared positions"
    )
    janus: JanusConfig = Field(
        default_factory=JanusConfig, description="Janus, the video meetings' SFU"
    )
    ptz: PtzConfig = Field(default_factory=PtzConfig, description="PTZ rights and holds")
    mediation: MediationConfig = Field(
        default_factory=MediationConfig, description="remote mediation: the hub's star or Janus"
    )

    @model_validator(mode="after")
    def _database_in_the_data_folder(self) -> HubConfig:
        if not self.db_url:  # frozen: set once, here, while validating
            object.__setattr__(self, "db_url", default_db_url(self.data_dir()))
        return self

    def settings(self) -> HubSettings:
        return HubSettings(yellow_share=self.yellow_share)

    def upload_dir(self) -> Path:
        """Feedback photos: the configured folder, else `uploads` in `data_dir`."""
        return self.uploads or self.data_dir() / "uploads"

    def evidence_dir(self) -> Path:
        """Uploaded snapshots and clips: the configured folder, else `evidence` in `data_dir`."""
        return self.evidence or self.data_dir() / "evidence"

    def keys_dir(self) -> Path:
        """The hub's key pair and enrolment book: `[zmq] keys_dir`, else `keys` in the
        data folder."""
        return self.zmq.keys_dir or self.data_dir() / "keys"

    def data_dir(self) -> Path:
        """The hub's data folder: `[hub] data_dir`, else the SQLite database's folder, else
        the user's state folder (`streams.private.default_state_dir`); never the current
        directory unless configured so."""
        if self.hub.data_dir is not None:
            return self.hub.data_dir
        return sqlite_folder(self.db_url) or default_state_dir()

    def tls_dir(self) -> Path:
        """The hub's own CA and server certificate: the configured folder, else `tls`
        in the data folder."""
        return self.tls.dir or self.data_dir() / "tls"


SHARED_FOLDERS = frozenset(
    Path(p) for p in ("/tmp", "/var/tmp", "/var/lib", "/srv", "/opt", "/home", "/root", "/mnt")
)


def owns_data_dir(config: HubConfig) -> bool:
    """Whether the data folder is the hub's own (configured, or the default state folder),
    so that `streams.private.tighten_tree` may set the modes of all it holds; a folder
    that is only where the database happens to be (maybe a shared one) is not."""
    root = config.data_dir().absolute()
    if root in SHARED_FOLDERS or root == Path.home() or len(root.parts) < 3:
        return False  # a mistaken data_dir = "/var" must not close the system's folders
    return config.hub.data_dir is not None or root == default_state_dir()


def sqlite_folder(db_url: str) -> Path | None:
    """The folder of a SQLite database file (absolute), or None (another database, memory)."""
    if not db_url:
        return None
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).absolute().parent
    return None


def redact_db(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<db>"  # not a URL: show nothing of it


# -- reading ------------------------------------------------------------------------------


def read_toml(path: Path) -> dict[str, Any]:
    """The TOML table of a config file, or ConfigError naming the file."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def env_overrides(environ: Mapping[str, str]) -> dict[tuple[str, ...], tuple[object, str]]:
    """The legacy `HALL_*` variables as config keys: key → (value, "$NAME")."""
    out: dict[tuple[str, ...], tuple[object, str]] = {}
    for name, key in ENV_KEYS.items():
        raw = environ.get(name)
        if not raw:
            continue
        value: object = raw if key == ("patrol", "settings") else raw != "0"
        out[key] = (value, f"${name}")
    return out


def _put(data: dict[str, Any], key: tuple[str, ...], value: object) -> None:
    node = data
    for part in key[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[key[-1]] = value


def build_config(
    file_data: Mapping[str, Any],
    *,
    source: str = "<config>",
    overrides: Mapping[tuple[str, ...], tuple[object, str]] = {},
) -> HubConfig:
    """Validate the file's table with `overrides` on top: key path → (value, where from,
    e.g. "--db" or "$HALL_PATROL_CONFIG"). ConfigError names the key and its source."""
    data: dict[str, Any] = copy.deepcopy(dict(file_data))
    origin: dict[tuple[str, ...], str] = {}
    for key, (value, where) in overrides.items():
        _put(data, key, value)
        origin[key] = where
    try:
        return HubConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_explain(exc, source, origin)) from None


def _explain(exc: ValidationError, source: str, origin: Mapping[tuple[str, ...], str]) -> str:
    lines = []
    for err in exc.errors():
        loc = tuple(str(p) for p in err["loc"])
        key = ".".join(p for p in loc if not p.isdigit()) or "<top>"
        where = next((w for k, w in origin.items() if loc[: len(k)] == k), source)
        if err["type"] == "extra_forbidden":
            lines.append(f"{where}: unknown key {key!r}")
        else:
            lines.append(f"{where}: {key}: {err['msg']}")
    return "invalid hub configuration\n  " + "\n  ".join(lines)


# -- printing -----------------------------------------------------------------------------


def _mask_ice(server: str) -> str:
    scheme, sep, rest = server.partition(":")
    if "@" not in rest:
        return server
    return f"{scheme}{sep}{MASK}@{rest.rpartition('@')[2]}"


def masked(config: HubConfig) -> dict[str, Any]:
    """The configuration as plain data with the secrets masked."""
    data: dict[str, Any] = config.model_dump(mode="json")
    data["db_url"] = redact_db(config.db_url)
    data["webrtc"]["ice_servers"] = [_mask_ice(s) for s in config.webrtc.ice_servers]
    if config.turn.secret is not None:
        data["turn"]["secret"] = MASK
    return data


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)


def _toml_lines(table: Mapping[str, Any]) -> list[str]:
    return [
        f"{k} = {_toml_value(v)}" if v is not None else f"# {k} = (not set)"
        for k, v in table.items()
        if not isinstance(v, dict)
    ]


def render_toml(config: HubConfig) -> str:
    """The effective configuration as TOML (secrets masked); unset keys as comments."""
    data = masked(config)
    parts = ["\n".join(_toml_lines(data))]
    for key, value in data.items():
        if isinstance(value, dict):
            parts.append(f"[{key}]\n" + "\n".join(_toml_lines(value)))
    return "\n\n".join(parts) + "\n"
