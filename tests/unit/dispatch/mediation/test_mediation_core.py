"""Mediation's pure rules (presence of a participant, ordering of stored ids) and the
page's wire (what the socket accepts, the JSON shape of a state push)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from dispatch.mediation.core import Participant, participant_order, role_labels
from dispatch.mediation.messages import (
    PAGE_IN,
    AdmitIn,
    MediaIn,
    MediationInvite,
    MeView,
    ParticipantView,
    RecordIn,
    SessionRef,
    StateOut,
)

T0 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)


def person(**kw: object) -> Participant:
    base: dict[str, object] = dict(
        id="p1",
        session_id="M1",
        role="court",
        label="法官",
        name="王",
        token_hash="h",
        pin_hash="x",
        expires_at=T0 + timedelta(hours=1),
    )
    base.update(kw)
    return Participant(**base)  # type: ignore[arg-type]


def test_presence_begins_only_when_admitted_and_online() -> None:
    p = person()
    assert not p.socket_opened(T0)  # in the lobby: no presence
    assert p.intervals == [] and p.online
    p.admit(T0 + timedelta(seconds=5))  # online: presence starts at admission
    assert p.intervals == [(T0 + timedelta(seconds=5), None)] and p.present
    assert not p.socket_opened(T0 + timedelta(seconds=6))  # a second tab changes nothing
    assert not p.socket_closed(T0 + timedelta(seconds=7))
    assert p.socket_closed(T0 + timedelta(seconds=9))
    assert p.intervals == [(T0 + timedelta(seconds=5), T0 + timedelta(seconds=9))]
    assert p.socket_opened(T0 + timedelta(seconds=20))
    p.remove(T0 + timedelta(seconds=30))
    assert p.removed and not p.admitted and not p.present
    assert p.intervals[-1] == (T0 + timedelta(seconds=20), T0 + timedelta(seconds=30))


def test_admitting_an_offline_participant_waits_for_the_page() -> None:
    p = person()
    p.admit(T0)
    assert p.intervals == []
    assert p.socket_opened(T0 + timedelta(seconds=3))
    assert p.intervals == [(T0 + timedelta(seconds=3), None)]


def test_stored_ids_sort_host_first_then_by_number() -> None:
    ids = ["M1/p10", "M1/p2", "M1/host", "M1/p1"]
    assert sorted(ids, key=participant_order) == ["M1/host", "M1/p1", "M1/p2", "M1/p10"]


def test_parties_are_lettered_when_several() -> None:
    invites = [
        MediationInvite(role="party", name="甲"),
        MediationInvite(role="court", name="王"),
        MediationInvite(role="party", name="乙"),
    ]
    assert role_labels(invites) == ["当事人A", "法官", "当事人B"]


def test_the_socket_reads_each_page_message_by_type() -> None:
    assert PAGE_IN.validate_json('{"type":"media","audio":false}') == MediaIn(
        type="media", audio=False, video=True
    )
    assert PAGE_IN.validate_json('{"type":"admit","id":"p1"}') == AdmitIn(type="admit", id="p1")
    assert PAGE_IN.validate_json('{"type":"record","on":true}') == RecordIn(type="record", on=True)
    for bad in ('{"type":"shout"}', '{"type":"admit"}', "[]", '{"id":"p1"}'):
        with pytest.raises(ValidationError):
            PAGE_IN.validate_json(bad)


def test_a_state_push_keeps_the_page_s_json_shape() -> None:
    out = StateOut(
        me=MeView(id="p1", name="王", label="法官", host=False, admitted=True, removed=False),
        session=SessionRef(id="M1", event_id="E1"),
        epoch="ab12cd34",
        participants=[
            ParticipantView(
                id="p1",
                role="court",
                label="法官",
                name="王",
                admitted=True,
                online=True,
                media="connected",
                audio=True,
                video=False,
            )
        ],
        recording=False,
        closed=False,
        slots=[],
    )
    data = json.loads(out.model_dump_json())
    assert list(data) == [
        "type",
        "me",
        "session",
        "epoch",
        "participants",
        "recording",
        "closed",
        "slots",
        "engine",
        "janus",
    ]
    assert data["type"] == "state" and data["participants"][0]["video"] is False
    assert data["engine"] == "hub" and data["janus"] is None  # the star: no Janus ticket
    assert "王" in out.model_dump_json()  # not escaped
