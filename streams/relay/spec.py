"""What a relay serves: where it listens, its timeouts and its mounts, as plain values.

Built on the venv side and handed to the server (`_server.py`, system Python, no pydantic)
as one JSON line on its stdin, so that no password appears on a command line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote, urlsplit, urlunsplit

StreamName = Literal["main", "sub", "third"]


def split_credentials(url: str) -> tuple[str, str | None, str]:
    """`url` without user info, and the user name and password it carried (unquoted)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    bare = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    user = unquote(parts.username) if parts.username else None
    return bare, user, unquote(parts.password or "")


@dataclass(frozen=True, slots=True)
class MountSpec:
    """One camera stream the relay serves at `/<camera>/<stream>`."""

    camera: str
    stream: StreamName
    upstream: str  # the camera's URL, credentials included (split off for the server)

    @property
    def path(self) -> str:
        return f"/{self.camera}/{self.stream}"

    def to_dict(self) -> dict[str, object]:
        bare, user, password = split_credentials(self.upstream)
        return {
            "path": self.path,
            "camera": self.camera,
            "stream": self.stream,
            "upstream": bare,
            "user": user,
            "password": password,
        }


@dataclass(frozen=True, slots=True)
class RelaySpec:
    mounts: tuple[MountSpec, ...]
    host: str = "127.0.0.1"
    port: int = 0  # 0: a free port
    idle_s: float = 30.0  # an upstream nobody watched this long is dropped
    open_timeout_s: float = 5.0  # connecting → failed after this
    read_timeout_s: float = 5.0  # live without data this long → failed
    backoff_s: float = 1.0  # first retry of a failed upstream, doubled up to backoff_max_s
    backoff_max_s: float = 30.0
    auth: tuple[str, str] | None = None  # what clients must give (digest); None: nothing
    probe_idle_s: float = 0.0  # a patrol probe's (`?patrol=1`) upstream is dropped this soon

    def to_json(self) -> str:
        body: dict[str, object] = {
            "host": self.host,
            "port": self.port,
            "idle_s": self.idle_s,
            "open_timeout_s": self.open_timeout_s,
            "read_timeout_s": self.read_timeout_s,
            "backoff_s": self.backoff_s,
            "backoff_max_s": self.backoff_max_s,
            "auth": list(self.auth) if self.auth is not None else None,
            "probe_idle_s": self.probe_idle_s,
            "mounts": [m.to_dict() for m in self.mounts],
        }
        return json.dumps(body, ensure_ascii=False)
