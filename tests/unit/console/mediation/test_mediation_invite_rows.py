"""Pure rules of the invite form's rows (issue 13 item 6: more than 6 parties go to Janus,
so the form takes more than five): how many, which rows can go, the count line, the
row numbers in the messages, and the hub's refusal as the officer reads it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from pydantic import ValidationError

from console.kit import i18n
from console.mediation.model import (
    ADDED_INVITE,
    DEFAULT_INVITES,
    MAX_INVITES,
    MediationInputError,
    can_add_invite,
    hub_error_text,
    invite_count_text,
    invite_row_removable,
    make_invites,
)
from dispatch.domain.wire import ErrorCode, HubError
from dispatch.mediation.core import MAX_JANUS_PARTIES
from dispatch.mediation.messages import MediationInvite, MediationOpenRequest


@contextmanager
def english() -> Iterator[None]:
    i18n.set_language("en")
    try:
        yield
    finally:
        i18n.set_language("zh_CN")


def test_the_limit_is_the_hubs_less_the_console() -> None:
    assert MAX_INVITES == MAX_JANUS_PARTIES - 1 == 23
    # the wire takes exactly that many and no more
    invites = make_invites([(True, "party", f"p{i}") for i in range(MAX_INVITES)])
    req = MediationOpenRequest(rid="r", token="t", event_id="E1", invites=invites)
    assert len(req.invites) == MAX_INVITES
    with pytest.raises(ValidationError):
        more = [*invites, MediationInvite(role="party", name="x")]
        MediationOpenRequest(rid="r", token="t", event_id="E1", invites=more)
    assert can_add_invite(MAX_INVITES - 1)
    assert not can_add_invite(MAX_INVITES)
    assert not can_add_invite(MAX_INVITES + 1)


def test_only_added_rows_can_be_removed_and_they_are_parties() -> None:
    assert ADDED_INVITE == ("party", "")
    assert [invite_row_removable(i) for i in range(len(DEFAULT_INVITES) + 2)] == [
        False,
        False,
        False,
        False,
        False,
        True,
        True,
    ]


def test_count_line_counts_ticked_rows() -> None:
    rows = [(True, "court", "王"), (False, "notary", ""), (True, "party", "")]
    assert invite_count_text(rows) == "已选 2 人（最多 23 人）"
    with english():
        assert invite_count_text(rows) == "2 chosen (23 at most)"


def test_row_numbers_follow_the_rows_as_shown() -> None:
    """After a removal the rows are numbered again: the message names the row as seen."""
    rows = [(True, "court", "王法官")] + [(True, "party", f"p{i}") for i in range(6)]
    rows.append((True, "party", " "))
    with pytest.raises(MediationInputError, match="第 8 行（当事人）：请填写姓名"):
        make_invites(rows)
    del rows[2]  # a row above it removed: the empty one is now the 7th
    with pytest.raises(MediationInputError, match="第 7 行（当事人）：请填写姓名"):
        make_invites(rows)
    with english(), pytest.raises(MediationInputError, match=r"Row 7 \(Party\)"):
        make_invites(rows)


def test_hub_refusal_reads_as_the_hub_words_it() -> None:
    msg = "8 方的调解需要 Janus 视频会议服务（本中心未配置 [janus]）"
    assert hub_error_text(HubError(ErrorCode.INVALID, msg)) == msg
    assert hub_error_text(TimeoutError("slow")) == "slow"
