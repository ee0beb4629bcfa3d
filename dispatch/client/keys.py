"""A console workstation's key file: its CURVE key pair and the hub's pinned public key.

`hall-hub enroll NAME` writes it (JSON, mode 0600); the console reads it with
`read_console_keys` (`hall-console --keys FILE`, default `default_keys_path()`), and
`HubClient(keys=...)` uses it on both of its sockets. Keys are Z85 text (40 characters,
what `zmq.curve_keypair()` makes). The endpoints are the hub's as configured when the
console was enrolled: a default for the console, never required.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from dispatch.domain.strict import FROZEN
from streams.private import write_private

Z85_KEY = r"^[0-9A-Za-z.\-:+=^!/*?&<>()\[\]{}@%$#]{40}$"
NAME_PATTERN = r"^[A-Za-z0-9\u4e00-\u9fff][A-Za-z0-9_\-\u4e00-\u9fff]{0,63}$"
KEY_FILE_MODE = 0o600


class KeyFileError(ValueError):
    """A key file that is missing, unreadable or not a console key file."""


class ConsoleKeys(BaseModel):
    """What a console needs to reach the hub over CURVE (the content of its key file)."""

    model_config = FROZEN

    name: str = Field(pattern=NAME_PATTERN, description="the enrolled workstation's name")
    public_key: str = Field(pattern=Z85_KEY, description="the console's CURVE public key")
    secret_key: str = Field(pattern=Z85_KEY, description="the console's CURVE secret key")
    hub_public_key: str = Field(pattern=Z85_KEY, description="the hub's pinned public key")
    req_endpoint: str = Field(default="", max_length=300, description="the hub's ROUTER")
    pub_endpoint: str = Field(default="", max_length=300, description="the hub's PUB")


def valid_name(name: str) -> bool:
    """A workstation name: letters, digits, `-`, `_` (Chinese too), never a path."""
    return re.fullmatch(NAME_PATTERN, name) is not None


def workstation_name(host: str, fallback: str = "console") -> str:
    """`host` (a machine's host name) as an enrolment name: characters a name may not
    have become `-` (`hall-2.county.gov` → `hall-2-county-gov`); `fallback` if none is left."""
    name = re.sub(r"[^A-Za-z0-9_\-\u4e00-\u9fff]", "-", host).strip("-_")[:64]
    return name if valid_name(name) else fallback


def default_keys_path(environ: dict[str, str] | None = None) -> Path:
    """Per user: `$XDG_CONFIG_HOME/hall/console.key` (default `~/.config/hall/...`)."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "hall" / "console.key"


def write_console_keys(path: Path, keys: ConsoleKeys) -> None:
    write_private(path, (keys.model_dump_json(indent=2) + "\n").encode())


def read_console_keys(path: Path) -> ConsoleKeys:
    """The key file's content; `KeyFileError` if it cannot be read, is not one, or others
    may read it (its secret key is the workstation's identity)."""
    try:
        raw = path.read_bytes()
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot read the key file: {exc.strerror}") from None
    if os.name == "posix" and mode & 0o077:
        raise KeyFileError(f"{path}: the key file is readable by others (chmod 600 it)")
    try:
        return ConsoleKeys.model_validate_json(raw)
    except ValidationError as exc:
        raise KeyFileError(f"{path}: not a console key file ({exc.error_count()} errors)") from None
