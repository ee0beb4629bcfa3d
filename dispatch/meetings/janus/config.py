"""The `[janus]` section of the hub's configuration (`dispatch.hub.config.HubConfig`) and
`build_media`, which makes the meetings' engine from it.

Either the hub starts Janus itself (`run = true`: a `janus -F <data>/janus` with a
generated configuration and admin key), or it drives one that runs on its own server
(`url` + `admin_key_file`: that Janus's videoroom `admin_key`). Neither: no meetings
engine (`build_media` returns None). Pages and consoles reach Janus at `public_url`.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Self

from pydantic import BaseModel, Field, model_validator

from dispatch.domain.strict import FROZEN
from dispatch.meetings.janus.process import JanusProcess, JanusSettings, TurnForJanus
from dispatch.meetings.janus.rooms import EngineSettings, JanusMedia
from streams.webrtc.config import IceServer


class JanusConfig(BaseModel):
    model_config = FROZEN

    run: bool = Field(
        default=False, description="true: the hub starts a local Janus (Debian janus) itself"
    )
    url: str | None = Field(
        default=None,
        pattern=r"^https?://",
        description="the HTTP API of a Janus run elsewhere (e.g. http://10.1.1.7:8088/janus)",
    )
    admin_key_file: Path | None = Field(
        default=None, description="with url: file holding that Janus's videoroom admin_key"
    )
    public_url: str | None = Field(
        default=None,
        pattern=r"^https?://",
        description="Janus's API as pages and consoles reach it (default with run: "
        "https://<public_url's host>:<https_port>/janus)",
    )
    api_ip: str = Field(default="127.0.0.1", description="with run: the hub's own API address")
    api_port: int = Field(default=8088, ge=1, le=65535, description="with run: API port (HTTP)")
    public_ip: str = Field(
        default="0.0.0.0", description="with run: address of the HTTPS API for pages"
    )
    https_port: int = Field(
        default=8089, ge=1, le=65535, description="with run: HTTPS API port (the hub's certificate)"
    )
    rtp_min: int = Field(default=20000, ge=1024, le=65535, description="with run: first RTP port")
    rtp_max: int = Field(default=20999, ge=1024, le=65535, description="with run: last RTP port")
    ice_enforce: tuple[str, ...] = Field(
        default=(), description="with run: interfaces or addresses for Janus's candidates"
    )
    nat_1_1: str | None = Field(
        default=None, description="with run: public address of a Janus behind 1:1 NAT"
    )
    use_turn: bool = Field(
        default=False,
        description="with run: hand the hub's TURN server to Janus for its own candidates "
        "(nat.turn_*; only when Janus itself sits behind NAT)",
    )
    debug_level: int = Field(default=3, ge=0, le=7, description="with run: Janus's log level")
    request_timeout_s: float = Field(
        default=10.0, gt=0, le=120, description="how long the hub waits for a Janus answer"
    )

    @model_validator(mode="after")
    def _one_janus(self) -> Self:
        if self.run and self.url:
            raise ValueError("janus: either run = true or url, not both")
        if self.url and self.admin_key_file is None:
            raise ValueError("janus: url needs admin_key_file (the videoroom admin_key)")
        if self.rtp_min > self.rtp_max:
            raise ValueError("janus: rtp_min must not exceed rtp_max")
        return self

    def enabled(self) -> bool:
        return self.run or self.url is not None


def default_public_url(hub_public_url: str, https_port: int) -> str:
    """https://<host of the hub's public URL>:<https_port>/janus"""
    rest = hub_public_url.split("://", 1)[-1]
    host = rest.split("/", 1)[0]
    if host.startswith("["):
        host = host.split("]", 1)[0] + "]"
    else:
        host = host.rsplit(":", 1)[0] if ":" in host else host
    return f"https://{host}:{https_port}/janus"


def build_media(
    cfg: JanusConfig,
    *,
    data_dir: Path,
    hub_public_url: str,
    ice: Callable[[str], list[IceServer]],
    cert: tuple[Path, Path] | None = None,
    turn: TurnForJanus | None = None,
) -> JanusMedia | None:
    """The engine for `[janus]` (None when meetings have no Janus). Nothing is started
    or read here except `admin_key_file` (a remote Janus's key)."""
    if cfg.url is not None:
        assert cfg.admin_key_file is not None
        key = cfg.admin_key_file.read_text(encoding="utf-8").strip()
        public = cfg.public_url or cfg.url
        engine = EngineSettings(cfg.url, public, key, cfg.request_timeout_s)
        return JanusMedia(engine, ice=ice)
    if not cfg.run:
        return None
    key = secrets.token_urlsafe(24)  # a new one per start: only this hub creates rooms
    settings = JanusSettings(
        admin_key=key,
        api_ip=cfg.api_ip,
        api_port=cfg.api_port,
        public_ip=cfg.public_ip if cert else None,
        https_port=cfg.https_port,
        cert_pem=cert[0] if cert else None,
        cert_key=cert[1] if cert else None,
        rtp_min=cfg.rtp_min,
        rtp_max=cfg.rtp_max,
        ice_enforce=cfg.ice_enforce,
        nat_1_1=cfg.nat_1_1,
        turn=turn if cfg.use_turn else None,
        debug_level=cfg.debug_level,
    )
    process = JanusProcess(settings, data_dir / "janus")
    public = cfg.public_url or default_public_url(hub_public_url, cfg.https_port)
    engine = EngineSettings(settings.api_url(), public, key, cfg.request_timeout_s)
    return JanusMedia(engine, process=process, ice=ice)
