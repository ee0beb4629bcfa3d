"""The PTZ hold rules (pure): rights by role, one holder, expiry, takeover."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dispatch.domain.model import Role
from dispatch.ptz.core import PtzAction, PtzRefused, Rules, decide, held_text, may_release

T0 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
RULES = Rules(
    hold=timedelta(seconds=60),
    move_roles=frozenset({Role.DUTY_OFFICER, Role.SUPERVISOR}),
    takeover_roles=frozenset({Role.SUPERVISOR}),
)


def ask(current, operator="王某", role=Role.DUTY_OFFICER, action=PtzAction.MOVE, now=T0):  # type: ignore[no-untyped-def]
    return decide(
        current,
        camera_id="cam1",
        operator=operator,
        role=role,
        workstation="ws1",
        action=action,
        now=now,
        rules=RULES,
    )


def test_a_free_camera_is_held_and_renewed_by_its_holder() -> None:
    h = ask(None)
    assert (h.operator, h.until) == ("王某", T0 + timedelta(seconds=60))
    later = ask(h, now=T0 + timedelta(seconds=30))
    assert later.since == T0 and later.until == T0 + timedelta(seconds=90)
    assert held_text(h) == "被 王某 控制中"
    assert may_release(h, "王某", T0) and not may_release(h, "李某", T0)


def test_roles_without_rights_are_refused() -> None:
    with pytest.raises(PtzRefused) as exc:
        ask(None, role=Role.ADMIN)
    assert exc.value.forbidden and "无云台控制权限" in exc.value.message


def test_a_held_camera_is_refused_until_it_expires_or_a_supervisor_takes_over() -> None:
    h = ask(None)
    with pytest.raises(PtzRefused) as exc:
        ask(h, operator="李某")
    assert not exc.value.forbidden and "被 王某 控制中" in exc.value.message
    with pytest.raises(PtzRefused):
        ask(h, operator="李某", action=PtzAction.TAKEOVER)  # a duty officer cannot
    taken = ask(h, operator="张队", role=Role.SUPERVISOR, action=PtzAction.TAKEOVER)
    assert taken.operator == "张队"
    free_again = ask(h, operator="李某", now=T0 + timedelta(seconds=61))
    assert free_again.operator == "李某"
