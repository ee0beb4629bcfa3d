"""Plain text helpers of hall-relay's server script (`_server.py`, system Python): its log
and stdout lines, and error texts without credentials. No GStreamer here.

`_server.py` runs as a script, so its own folder is on `sys.path` and it imports this
module by its bare name.
"""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Iterable

_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]*@")
_stdout_lock = threading.Lock()


def log(msg: str) -> None:
    sys.stderr.write(f"relay: {msg}\n")
    sys.stderr.flush()


def say(line: str) -> None:
    with _stdout_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    out = _USERINFO.sub(r"\1", text)
    for s in secrets:
        if s:
            out = out.replace(s, "***")
    return out


def error_text(message: str, debug: str | None) -> str:
    """GStreamer's error with the last line of its debug text, which tells a refused
    connection ("Failed to connect. (Generic error)") from one that timed out ("(Timeout
    while waiting for server response)"); never a line naming a URL."""
    last = (debug or "").strip().splitlines()[-1:] or [""]
    tail = last[0].strip()
    if not tail or "://" in tail or tail in message or tail.startswith("../"):
        return message
    return f"{message} {tail}"
