"""The hub's pre-encoded frames decode to exactly the typed messages they stand for."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from dispatch.client.wire import decode_published, decode_reply
from dispatch.domain.model import (
    Action,
    Actor,
    AuditEntry,
    Colour,
    Event,
    EventIntake,
    EventSource,
    Place,
    Reporter,
    Role,
    mask_reporter,
)
from dispatch.events.core import apply, new_event
from dispatch.events.messages import (
    EventChanged,
    SnapshotEntry,
    SnapshotReply,
    encode_changed,
    encode_snapshot_reply,
    snapshot_entry_json,
)
from dispatch.events.service import EncodedChange, change_payload

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=timezone(timedelta(hours=8)))
DUTY = Actor(operator="duty", role=Role.DUTY_OFFICER, workstation='席位"1\\')


def _event(n: int = 1) -> tuple[Event, AuditEntry]:
    intake = EventIntake(
        source=EventSource.HOTLINE_12345,
        source_ref=f'12345-"{n}"',
        category="wages",
        title=f"讨薪 {n} \\ “引号”",
        description="第一行\n第二行\t制表",
        place=Place(township="t01", address="东街 2 号"),
        reporter=Reporter(name="王某", phone="13912345678"),
    )
    return new_event(intake, event_id=f"E-{n}", now=T0)


def test_changed_frame_decodes_to_the_same_message() -> None:
    ev, entry = _event()
    tr = apply(ev, Action.REGISTER, DUTY, T0 + timedelta(minutes=3), note='备注 "x"')
    for event, audit, colour in ((ev, [entry], Colour.GREEN), (tr.event, [tr.audit], Colour.RED)):
        enc = EncodedChange.of(event, colour, audit)
        got = decode_published(enc.committed(42).frame)
        shown = mask_reporter(event)  # clients get the reporter's numbers masked
        assert shown.reporter.phone == "139****5678" and shown != event
        assert got == EventChanged(seq=42, event=shown, colour=colour, audit=audit)
        assert enc.committed(42).change == got
        assert json.loads(enc.payload()) == json.loads(change_payload(shown, colour, audit))
        assert SnapshotEntry.model_validate_json(enc.committed(1).entry) == SnapshotEntry(
            event=shown, colour=colour
        )
        assert Event.model_validate_json(enc.event_json) == event  # the events row: whole


def test_changed_frame_without_audit_rows() -> None:
    ev, _ = _event(2)
    frame = encode_changed(7, ev.model_dump_json(), Colour.YELLOW, [])
    assert decode_published(frame) == EventChanged(seq=7, event=ev, colour=Colour.YELLOW)


def test_snapshot_reply_frame_decodes_to_the_same_reply() -> None:
    evs = [_event(n)[0] for n in range(3)]
    entries = [snapshot_entry_json(e.model_dump_json(), Colour.GREEN) for e in evs]
    for chosen in (entries, []):
        frame = encode_snapshot_reply('r"1', 99, True, "inst", chosen)
        got = decode_reply(frame)
        want = SnapshotReply(
            rid='r"1',
            seq=99,
            full=True,
            hub_instance="inst",
            events=[SnapshotEntry(event=e, colour=Colour.GREEN) for e in evs[: len(chosen)]],
        )
        assert got == want
