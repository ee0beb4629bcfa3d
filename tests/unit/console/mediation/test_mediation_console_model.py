"""Pure logic of the console's mediation window: the invite and outcome forms, expiry
text, and the hub's state pushes applied to the model."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from console.mediation.model import (
    MediationInputError,
    MediationModel,
    check_outcome,
    expiry_text,
    join_url,
    make_invites,
    slot_peers,
)
from console.mediation.qr import qr_matrix


def test_invites_skip_unchecked_rows_and_keep_roles_and_names() -> None:
    got = make_invites(
        [(True, "court", " 王法官 "), (False, "notary", ""), (True, "party", "张三")]
    )
    assert [(i.role, i.name) for i in got] == [("court", "王法官"), ("party", "张三")]


@pytest.mark.parametrize(
    ("rows", "msg"),
    [
        ([(True, "court", "  ")], "第 1 行（法官）：请填写姓名"),
        ([(False, "court", "x")], "请至少邀请一位参与人"),
        ([(True, "judge", "x")], "未知角色"),
        ([(True, "party", "x" * 65)], "姓名过长"),
        ([(True, "party", f"p{i}") for i in range(24)], "最多邀请 23 位参与人（现 24 位）"),
    ],
)
def test_bad_invites_say_what_to_fix(rows: list[tuple[bool, str, str]], msg: str) -> None:
    with pytest.raises(MediationInputError, match=msg):
        make_invites(rows)


def test_outcome_form() -> None:
    assert check_outcome("referred", "  ") == ("referred", "")
    assert check_outcome("agreement", " 分期 ") == ("agreement", "分期")
    with pytest.raises(MediationInputError, match="请选择调解结果"):
        check_outcome("", "x")
    with pytest.raises(MediationInputError, match="协议要点"):
        check_outcome("agreement", "")
    with pytest.raises(MediationInputError, match="协议要点过长"):
        check_outcome("no_agreement", "字" * 4001)


def test_expiry_text_and_url() -> None:
    now = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)
    assert expiry_text(now + timedelta(hours=23, minutes=59, seconds=30), now) == (
        "有效至 11-23 00:59（剩 23 小时 59 分）"
    )
    assert expiry_text(now - timedelta(minutes=1), now) == "已于 11-22 00:59 过期"
    assert join_url("http://h:1/", "/v/abc") == "http://h:1/v/abc"


STATE = {
    "type": "state",
    "me": {"id": "host"},
    "recording": True,
    "participants": [
        {"id": "host", "role": "host", "label": "指挥中心", "name": "大厅", "admitted": True,
         "online": True},
        {"id": "p1", "role": "court", "label": "法官", "name": "王法官", "admitted": False,
         "online": True},
        {"id": "p2", "role": "party", "label": "当事人", "name": "张三", "admitted": True,
         "online": False},
    ],
    "slots": [
        {"video_mid": "2", "audio_mid": "3", "peer": {"id": "p1"}},
        {"video_mid": "4", "audio_mid": "5", "peer": None},
    ],
}  # fmt: skip


def test_state_push_fills_peers_lobby_slots_recording_and_speaking() -> None:
    m = MediationModel("e1")
    seen: list[str] = []
    m.changed.connect(seen.append)
    m.apply_state(STATE)
    assert [p.id for p in m.others()] == ["p1", "p2"]
    assert [p.id for p in m.lobby()] == ["p1"]
    assert m.mids == {"2": "p1", "3": "p1"} == slot_peers(STATE)
    assert m.recording and "recording" in seen and "participants" in seen
    m.set_levels({"3": 0.3, "5": 0.9})  # mid 5 is empty: ignored
    assert m.speaking() == ["p1"]
    m.set_levels({"3": 0.001})
    assert m.speaking() == []
    m.apply_state({"type": "closed"})
    assert m.phase == "closed"


def test_qr_matrix_has_finder_patterns_and_refuses_empty_text() -> None:
    q = qr_matrix("http://127.0.0.1:8080/v/abc", border=2)
    assert q.shape[0] == q.shape[1] >= 25
    assert q[2:9, 2].all() and not q[0].any()  # a finder's left edge; a white border
    with pytest.raises(ValueError, match="empty"):
        qr_matrix("")
