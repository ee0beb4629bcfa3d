"""EventIntake (the body of POST /api/v1/events) and the model's small helpers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from dispatch.domain.model import (
    DEFAULT_CATEGORIES,
    MAX_PHOTOS,
    Event,
    EventIntake,
    EventSource,
    EventState,
    Place,
    Priority,
    check_category,
    mask_id_number,
    mask_phone,
)


def body(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "source": "hotline_12345",
        "source_ref": "12345-2025-000123",
        "category": "neighbours",
        "title": "楼上装修噪音扰民",
    }
    base.update(changes)
    return base


def error_locs(data: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    with pytest.raises(ValidationError) as info:
        EventIntake.model_validate(data)
    return [(tuple(e["loc"]), e["type"]) for e in info.value.errors()]


def test_minimal_intake_gets_defaults() -> None:
    intake = EventIntake.model_validate(body())
    assert intake.source is EventSource.HOTLINE_12345
    assert intake.priority is Priority.ROUTINE
    assert intake.photos == ()
    assert intake.place == Place()
    assert intake.reported_at is None
    assert intake.multi_department is False


def test_full_intake_round_trips_through_json() -> None:
    intake = EventIntake.model_validate(
        body(
            priority="urgent",
            description="多次协商未果。\n请尽快处理。",
            place={
                "township": "chengguan",
                "grid": "cg-01-03",
                "lon": 112.5,
                "lat": 34.7,
                "address": "城关镇幸福路 8 号",
            },
            reporter={"name": "张三", "phone": "138 0013 8000", "id_number": "41010219900101123X"},
            photos=["https://img.example.cn/a.jpg", "photo-2025-0001"],
            camera_id="cam3",
            multi_department=True,
            reported_at="2025-10-01T09:30:00+08:00",
        )
    )
    again = EventIntake.model_validate_json(intake.model_dump_json())
    assert again == intake
    assert intake.reported_at == datetime(2025, 10, 1, 1, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("changes", "loc", "kind"),
    [
        ({"title": ""}, ("title",), "string_too_short"),
        ({"title": "   "}, ("title",), "string_pattern_mismatch"),
        ({"title": "x" * 201}, ("title",), "string_too_long"),
        ({"title": "第一行\n第二行"}, ("title",), "string_pattern_mismatch"),
        ({"description": "nul\x00byte"}, ("description",), "string_pattern_mismatch"),
        ({"description": "lone \ud800 surrogate"}, ("description",), "string_unicode"),
        ({"description": "x" * 5001}, ("description",), "string_too_long"),
        ({"source": "fax"}, ("source",), "enum"),
        ({"priority": "whenever"}, ("priority",), "enum"),
        ({"category": "Neighbours!"}, ("category",), "string_pattern_mismatch"),
        ({"category": ""}, ("category",), "string_too_short"),
        ({"source_ref": "x" * 129}, ("source_ref",), "string_too_long"),
        ({"photos": ["javascript:alert(1)"]}, ("photos", 0), "string_pattern_mismatch"),
        ({"photos": ["x/../../hall.db"]}, ("photos", 0), "string_pattern_mismatch"),
        ({"photos": ["p..jpg"]}, ("photos", 0), "string_pattern_mismatch"),
        ({"photos": ["..\\hall.db"]}, ("photos", 0), "string_pattern_mismatch"),
        ({"photos": ["/etc/passwd"]}, ("photos", 0), "string_pattern_mismatch"),
        ({"photos": [""]}, ("photos", 0), "string_too_short"),
        ({"photos": ["p"] * (MAX_PHOTOS + 1)}, ("photos",), "too_long"),
        ({"camera_id": "cam 1"}, ("camera_id",), "string_pattern_mismatch"),
        ({"reported_at": "2025-10-01T09:30:00"}, ("reported_at",), "timezone_aware"),
        ({"reported_at": "yesterday"}, ("reported_at",), "datetime_from_date_parsing"),
        ({"place": {"lon": 112.5}}, ("place",), "value_error"),
        ({"place": {"lat": 91, "lon": 0}}, ("place", "lat"), "less_than_equal"),
        ({"place": {"grid": "g1", "floor": 3}}, ("place", "floor"), "extra_forbidden"),
        ({"reporter": {"phone": "call me"}}, ("reporter", "phone"), "string_pattern_mismatch"),
        (
            {"reporter": {"id_number": "4101021990010112345"}},
            ("reporter", "id_number"),
            "string_too_long",
        ),
        ({"unknown_field": 1}, ("unknown_field",), "extra_forbidden"),
        ({"multi_department": "perhaps"}, ("multi_department",), "bool_parsing"),
    ],
)
def test_bad_intake_names_the_field(
    changes: dict[str, Any], loc: tuple[Any, ...], kind: str
) -> None:
    assert error_locs(body(**changes)) == [(loc, kind)]


def test_missing_required_fields_are_each_reported() -> None:
    locs = {loc for loc, kind in error_locs({}) if kind == "missing"}
    assert locs == {("source",), ("category",), ("title",)}


def test_intake_is_frozen() -> None:
    intake = EventIntake.model_validate(body())
    with pytest.raises(ValidationError):
        intake.title = "changed"  # type: ignore[misc]


def test_every_intake_field_is_described_in_the_schema() -> None:
    schema = EventIntake.model_json_schema()
    assert schema["additionalProperties"] is False
    undescribed = [k for k, v in schema["properties"].items() if not v.get("description")]
    assert undescribed == []
    assert set(schema["required"]) == {"source", "category", "title"}
    assert schema["properties"]["photos"]["maxItems"] == MAX_PHOTOS


def test_check_category_accepts_configured_and_names_known_ones() -> None:
    assert check_category("wages", DEFAULT_CATEGORIES) == "wages"
    with pytest.raises(ValueError, match=r"unknown category 'ufo'.*land.*wages"):
        check_category("ufo", DEFAULT_CATEGORIES)
    with pytest.raises(ValueError, match="unknown category"):
        check_category("wages", {"land": "土地"})


def test_reported_at_keeps_its_offset_and_instant() -> None:
    plus5 = timezone(timedelta(hours=5))
    intake = EventIntake.model_validate(body(reported_at=datetime(2025, 1, 1, 12, tzinfo=plus5)))
    assert intake.reported_at == datetime(2025, 1, 1, 7, tzinfo=UTC)


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13800138000", "138****8000"),
        ("0371-6612345", "037*****2345"),
        ("12345", "***45"),
        ("", ""),
    ],
)
def test_mask_phone(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked


def test_mask_id_number_keeps_region_and_last_four() -> None:
    assert mask_id_number("41010219900101123X") == "410102********123X"
    assert mask_id_number("1234567890") == "**********"


def test_event_json_round_trip_and_older_rows_still_load() -> None:
    now = datetime(2025, 10, 9, 9, 30, tzinfo=timezone(timedelta(hours=8)))
    event = Event(
        id="E-1",
        source=EventSource.PETITION,
        category="land",
        title="宅基地边界",
        state=EventState.HANDLING,
        assignee="国土所",
        routed_at=now,
        returned_at=now - timedelta(hours=2),
        extension_requested=True,
        extension_requested_days=2,
        last_reminder_at=now,
        reminders=1,
        reported_at=now,
        accepted_at=now,
        updated_at=now,
        version=7,
    )
    assert Event.model_validate_json(event.model_dump_json()) == event
    # a row written before returned_at, reminders etc. existed
    old = event.model_dump(mode="json")
    for key in ("returned_at", "extension_requested_days", "last_reminder_at", "reminders"):
        del old[key]
    loaded = Event.model_validate(old)
    assert (loaded.returned_at, loaded.reminders, loaded.extension_requested_days) == (None, 0, 0)
