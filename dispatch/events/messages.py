"""Typed zmq messages of the event workflow: act on an event, its timeline, the view of
open events (snapshot, events by id), the audited request for a reporter's full number
(`RevealRequest`) and the published `EventChanged`. Every event in a reply or a published
change carries the reporter's phone and ID numbers masked.

The snapshot lives here rather than with the hub-level messages: it is the event view,
and `dispatch.events.service` builds its entries. The pre-encoded frames at the end are
the hub's hot path: it serialises each event once (`Event.model_dump_json()`) and
splices that JSON into the stored change, the PUB frame and snapshot replies; they
produce exactly what the models decode (tests check the round trip).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Literal

from pydantic import Field

from dispatch.domain.model import Action, AuditEntry, Colour, Event
from dispatch.domain.wire import VERSION, WireMessage

MAX_EVENTS_PER_REQUEST = 500

# -- requests (client → hub) -----------------------------------------------------------


class ActRequest(WireMessage):
    type: Literal["act"] = "act"
    rid: str
    token: str
    event_id: str
    action: Action
    note: str = Field(default="", max_length=5000)
    assignee: str | None = Field(default=None, max_length=128)
    extension_days: int = Field(default=0, ge=0, le=365)


class TimelineRequest(WireMessage):
    type: Literal["timeline"] = "timeline"
    rid: str
    token: str
    event_id: str


class SnapshotRequest(WireMessage):
    """`since=None`: every open event (a fresh view); else the events changed after it."""

    type: Literal["snapshot"] = "snapshot"
    rid: str
    token: str
    since: int | None = Field(default=None, ge=0)


class EventsRequest(WireMessage):
    """The current state of some events, open or not (a client asks for the events that
    left its view in a full snapshot: archived while it was not listening)."""

    type: Literal["events"] = "events"
    rid: str
    token: str
    ids: list[str] = Field(min_length=1, max_length=MAX_EVENTS_PER_REQUEST)


RevealField = Literal["phone", "id_number"]


class RevealRequest(WireMessage):
    """A reporter's full phone or ID number: only for the roles allowed to see it
    (`dispatch.hub.auth.REVEAL_ROLES`), with a reason; every request is audited."""

    type: Literal["reveal"] = "reveal"
    rid: str
    token: str
    event_id: str = Field(max_length=64)
    field: RevealField
    reason: str = Field(min_length=2, max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")


# -- replies (hub → client) ------------------------------------------------------------


class ActReply(WireMessage):
    type: Literal["act_ok"] = "act_ok"
    rid: str
    seq: int
    event: Event
    colour: Colour
    audit: list[AuditEntry]


class TimelineReply(WireMessage):
    type: Literal["timeline_ok"] = "timeline_ok"
    rid: str
    entries: list[AuditEntry]


class SnapshotEntry(WireMessage):
    event: Event
    colour: Colour


class SnapshotReply(WireMessage):
    """`full`: replace the view with `events`; else merge them. Up to date as of `seq`."""

    type: Literal["snapshot_ok"] = "snapshot_ok"
    rid: str
    seq: int
    full: bool
    hub_instance: str
    events: list[SnapshotEntry]


class EventsReply(WireMessage):
    """The events asked for that exist (each with its stored colour), and the ids that
    do not (e.g. a client that last talked to a hub on another database)."""

    type: Literal["events_ok"] = "events_ok"
    rid: str
    seq: int
    events: list[SnapshotEntry]
    missing: list[str]


class RevealReply(WireMessage):
    """The whole number asked for; `seq` is the change carrying its timeline row."""

    type: Literal["reveal_ok"] = "reveal_ok"
    rid: str
    seq: int
    event_id: str
    field: RevealField
    value: str


# -- published (hub → all) -------------------------------------------------------------


class EventChanged(WireMessage):
    """One committed change of one event: its new state, colour and new audit rows."""

    type: Literal["event_changed"] = "event_changed"
    seq: int
    event: Event
    colour: Colour
    audit: list[AuditEntry] = Field(default_factory=list)


# -- pre-encoded frames (the hub's hot path) -----------------------------------------------


def change_body_json(event_json: str, colour: Colour, audit_json: Sequence[str]) -> str:
    """`{"event": …, "colour": …, "audit": […]}`: a change as the store keeps it."""
    return f'{{"event":{event_json},"colour":"{colour.value}","audit":[{",".join(audit_json)}]}}'


def snapshot_entry_json(event_json: str, colour: Colour) -> str:
    """One `SnapshotEntry` as JSON."""
    return f'{{"event":{event_json},"colour":"{colour.value}"}}'


def encode_changed(seq: int, event_json: str, colour: Colour, audit_json: Sequence[str]) -> bytes:
    """An `EventChanged` PUB frame."""
    return (
        f'{{"v":{VERSION},"type":"event_changed","seq":{int(seq)},"event":{event_json},'
        f'"colour":"{colour.value}","audit":[{",".join(audit_json)}]}}'
    ).encode()


def encode_snapshot_reply(
    rid: str, seq: int, full: bool, hub_instance: str, entries_json: Sequence[str]
) -> bytes:
    """A `SnapshotReply` frame from `snapshot_entry_json` strings."""
    head = json.dumps(
        {
            "v": VERSION,
            "type": "snapshot_ok",
            "rid": rid,
            "seq": int(seq),
            "full": full,
            "hub_instance": hub_instance,
        },
        ensure_ascii=False,
    )
    return f'{head[:-1]},"events":[{",".join(entries_json)}]}}'.encode()
