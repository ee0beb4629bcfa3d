"""The HTTPS server's sections of `HubConfig` (`dispatch.hub.config`): `[http]` (listen
address, public URL, plain-HTTP port, header timeout) and `[tls]` (the hub's own CA, the
operator's files, or off behind a TLS proxy; see docs/hub-config.md "HTTPS")."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from dispatch.domain.strict import FROZEN

DEFAULT_HTTP_PORT = 8470
DEFAULT_PLAIN_PORT = 8480


class _Section(BaseModel):
    model_config = FROZEN


class HttpConfig(_Section):
    host: str = Field(
        default="127.0.0.1", min_length=1, max_length=255, description="HTTP listen address"
    )
    port: int = Field(
        default=DEFAULT_HTTP_PORT,
        ge=0,
        le=65535,
        description="HTTPS port of the pages and the intake API (0 = any free port)",
    )
    header_timeout_s: float = Field(
        default=10.0,
        ge=1,
        le=120,
        description="seconds a connection may take to send a complete request head "
        "(half-sent requests, and idle keep-alive connections, are closed after it)",
    )
    public_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^/?#\s]+/?$",
        description=(
            "the address people and phones use, e.g. https://hub.example.gov.cn:8443; every"
            " link, QR code and message carries it (default: the listen address and port)"
        ),
    )
    plain_port: int | None = Field(
        default=DEFAULT_PLAIN_PORT,
        le=65535,
        description=(
            "plain-HTTP port that serves only the CA certificate (/ca.crt), its fingerprint"
            " and install steps (/ca), and redirects the rest to HTTPS (0 = any free port,"
            " negative or unset = off)"
        ),
    )

    def plain_enabled(self) -> bool:
        return self.plain_port is not None and self.plain_port >= 0


class TlsConfig(_Section):
    mode: Literal["auto", "files", "off"] = Field(
        default="auto",
        description=(
            "auto: the hub's own CA and server certificate (made and renewed in `dir`);"
            " files: the operator's `cert` and `key`; off: plain-HTTP pages, ONLY behind a"
            " TLS-terminating proxy (browsers give no camera to non-HTTPS pages)"
        ),
    )
    dir: Path | None = Field(
        default=None, description="folder of the hub's own CA (default `tls` in the data folder)"
    )
    cert: Path | None = Field(
        default=None, description="mode files: PEM certificate chain (server certificate first)"
    )
    key: Path | None = Field(
        default=None, description="mode files: PEM private key file (keep it 0600)"
    )
    ca: Path | None = Field(
        default=None, description="mode files: the issuing CA's PEM, offered on the plain port"
    )
    names: tuple[str, ...] = Field(
        default=(),
        max_length=64,
        description="extra DNS names and IP addresses for the hub's own certificate",
    )

    @field_validator("names")
    @classmethod
    def _names_plain(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            if not re.fullmatch(r"[A-Za-z0-9.:*-]{1,253}", name):
                raise ValueError(f"not a host name or address: {name!r}")
        return value

    @model_validator(mode="after")
    def _files_given(self) -> TlsConfig:
        if self.mode == "files" and (self.cert is None or self.key is None):
            raise ValueError("mode 'files' needs both cert and key")
        return self
