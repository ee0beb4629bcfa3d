"""Typed zmq messages of remote video mediation (issue 5): open a session with join
links for the invited, close it with its outcome.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from dispatch.domain.wire import WireMessage
from dispatch.tasks.core import MAX_NOTE_LENGTH


class MediationInvite(WireMessage):
    """One invited participant of a mediation session (role: court, notary, mediator,
    party; the name is shown to everyone)."""

    role: Literal["court", "notary", "mediator", "party"]
    name: str = Field(min_length=1, max_length=64)


class MediationOpenRequest(WireMessage):
    """Open a remote video mediation session on an event with links for the invited."""

    type: Literal["mediation_open"] = "mediation_open"
    rid: str
    token: str
    event_id: str = Field(min_length=1, max_length=64)
    invites: list[MediationInvite] = Field(min_length=1, max_length=5)
    ttl_hours: float = Field(default=24, gt=0, le=24 * 30)


class MediationCloseRequest(WireMessage):
    """End a session and file it on the event with its outcome and agreement notes."""

    type: Literal["mediation_close"] = "mediation_close"
    rid: str
    token: str
    session_id: str = Field(min_length=1, max_length=64)
    outcome: Literal["agreement", "no_agreement", "referred"]
    notes: str = Field(default="", max_length=MAX_NOTE_LENGTH)


class MediationLink(WireMessage):
    """A join link: `path` relative to the hub's HTTP address; the PIN is shown once."""

    participant_id: str
    role: str
    label: str  # 法官, 公证员, 调解员, 当事人A …
    name: str
    path: str
    pin: str
    expires_at: AwareDatetime


class MediationReply(WireMessage):
    """An opened (links, and the console's own `host_path` + `host_session`) or a
    closed session (`outcome`, `duration_s`, `recording`)."""

    type: Literal["mediation_ok"] = "mediation_ok"
    rid: str
    session_id: str
    event_id: str
    links: list[MediationLink] = Field(default_factory=list)
    host_path: str = ""
    host_session: str = ""
    ice_servers: list[dict[str, object]] = Field(default_factory=list)
    outcome: str | None = None
    duration_s: float | None = None
    recording: str | None = None
