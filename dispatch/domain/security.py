"""The hub's security log: audit rows about guessing, kept in the `audit` table under the
pseudo event id `SECURITY_LOG` ("security"; read back with the store's
`timeline("security")`), and `CLIENT`, the address of the client whose request is being
handled (set per request task by the zmq server and by the HTTP PIN throttle, so a
service deep below can name it without being handed the request), and `CONSOLE`, the
enrolled console workstation of a zmq request. Pure."""

from __future__ import annotations

from contextvars import ContextVar
from datetime import datetime
from typing import Literal

from dispatch.domain.model import AuditEntry, Role

SECURITY_LOG = "security"
CLIENT: ContextVar[str] = ContextVar("request_client", default="-")
# the enrolled console workstation (its CURVE key's name, ZAP User-Id) of the zmq request
# being handled; "" without CURVE
CONSOLE: ContextVar[str] = ContextVar("request_console", default="")


def console_client(console: str, peer: str) -> str:
    """The client a zmq request is counted against (login limits, security log): the
    enrolled console when there is one (consoles behind one NAT address are apart, a
    console is the same one from any address), else the peer address."""
    return f"console:{console}" if console else peer


Kind = Literal["pin", "login", "link"]
_WHAT = {
    "pin": "PIN 码尝试过多，已暂停",
    "login": "操作员密码尝试过多，已暂停",
    "link": "PIN 码连续输错，链接已锁定",
}
ACTIONS = {"pin": "guess_block", "login": "guess_block", "link": "link_locked"}


def security_entry(now: datetime, kind: Kind, who: str, client: str) -> AuditEntry:
    """The audit row of a block (`pin`, `login`: a throttle blocked a client or account)
    or of a link locked by wrong PINs (`link`); `who` is the account or link, `-` when
    none; written by the hub (role `system`)."""
    return AuditEntry(
        event_id=SECURITY_LOG,
        at=now,
        operator=who[:64],
        role=Role.SYSTEM,
        workstation=client[:64],
        action=ACTIONS[kind],
        from_state=None,
        to_state=None,
        note=f"{_WHAT[kind]}：{who}，来源 {client}"[:5000],
    )
