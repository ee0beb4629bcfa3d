"""Clients see a reporter's numbers masked (issue 12, hole 2); the intake takes only
whole numbers."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from dispatch.domain.model import Event, EventIntake, EventSource, Reporter, mask_reporter
from dispatch.events.core import new_event

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=timezone(timedelta(hours=8)))


def _event(reporter: Reporter) -> Event:
    intake = EventIntake(
        source=EventSource.HOTLINE_12345, category="wages", title="讨薪", reporter=reporter
    )
    return new_event(intake, event_id="E-1", now=T0)[0]


def test_mask_reporter_masks_both_numbers_and_keeps_the_rest() -> None:
    ev = _event(Reporter(name="王某", phone="13912345678", id_number="41010219800101123X"))
    shown = mask_reporter(ev)
    assert shown.reporter == Reporter(
        name="王某", phone="139****5678", id_number="410102********123X"
    )
    assert shown.model_copy(update={"reporter": ev.reporter}) == ev
    # a masked event still validates (clients decode it) and masking it again is a no-op
    assert Event.model_validate_json(shown.model_dump_json()) == shown
    assert mask_reporter(shown) == shown
    bare = _event(Reporter(name="匿名"))
    assert mask_reporter(bare) is bare


def test_the_intake_refuses_masked_numbers() -> None:
    with pytest.raises(ValidationError, match="whole"):
        EventIntake(
            source=EventSource.HOTLINE_12345,
            category="wages",
            title="讨薪",
            reporter=Reporter(phone="139****5678"),
        )
