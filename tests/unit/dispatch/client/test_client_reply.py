"""The hub client checks that each answer is the reply its request asks for."""

from __future__ import annotations

import pytest

from dispatch.client.calls import expect
from dispatch.domain.wire import ErrorCode, HubError
from dispatch.events.messages import TimelineReply
from dispatch.hub.messages import PongReply


def test_the_expected_reply_is_returned_as_is() -> None:
    rep = PongReply(rid="r1", seq=3, hub_instance="h1")
    assert expect(PongReply, rep) is rep


def test_another_reply_is_a_clear_internal_error() -> None:
    with pytest.raises(HubError) as err:
        expect(TimelineReply, PongReply(rid="r1", seq=3, hub_instance="h1"))
    assert err.value.code is ErrorCode.INTERNAL
    assert "PongReply" in str(err.value) and "TimelineReply" in str(err.value)
