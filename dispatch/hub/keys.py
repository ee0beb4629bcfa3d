"""The hub's CURVE key pair: made on first start in the keys folder, secret kept 0600.

`hub.key` (JSON: public and secret key, Z85) in `[zmq] keys_dir` (default `keys` in the
hub's data folder, made 0700). Consoles pin the public key (their key file carries it);
losing `hub.key` means enrolling every console again.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import zmq
from pydantic import BaseModel, Field, ValidationError

from dispatch.client.keys import Z85_KEY
from dispatch.domain.strict import FROZEN
from streams.private import write_private

HUB_KEY_FILE = "hub.key"


class HubKeyError(RuntimeError):
    """The hub's key file is unreadable, malformed or readable by others."""


class HubKeys(BaseModel):
    model_config = FROZEN

    public_key: str = Field(pattern=Z85_KEY, description="the hub's CURVE public key")
    secret_key: str = Field(pattern=Z85_KEY, description="the hub's CURVE secret key")


def new_keypair() -> tuple[str, str]:
    """A fresh CURVE key pair as Z85 text (public, secret)."""
    public, secret = zmq.curve_keypair()
    return public.decode("ascii"), secret.decode("ascii")


def ensure_private_dir(path: Path) -> None:
    """Make `path` (and parents) if missing; the folder itself is made 0700."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def load_or_create_hub_keys(keys_dir: Path) -> HubKeys:
    """The hub's key pair from `keys_dir/hub.key`, made (0600) if there is none yet."""
    ensure_private_dir(keys_dir)
    path = keys_dir / HUB_KEY_FILE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        public, secret = new_keypair()
        keys = HubKeys(public_key=public, secret_key=secret)
        write_private(path, (keys.model_dump_json(indent=2) + "\n").encode())
        return keys
    except OSError as exc:
        raise HubKeyError(f"{path}: cannot read the hub key: {exc.strerror}") from None
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        raise HubKeyError(f"{path}: the hub's secret key is readable by others (chmod 600)")
    try:
        return HubKeys.model_validate_json(raw)
    except ValidationError:
        raise HubKeyError(f"{path}: not a hub key file") from None
