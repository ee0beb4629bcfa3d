"""The rules of PTZ holds, pure: rights by role, one holder per camera, takeover.

A hold lasts `hold_s` from its last renewal (every command renews it); an expired
hold is as good as none. Only the roles in `move_roles` may move cameras; a camera
another operator holds is refused, unless the asker's role is in `takeover_roles` and
they ask to take over. Functions take `now`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from dispatch.domain.model import Role


class PtzAction(StrEnum):
    MOVE = "move"  # pan, tilt or zoom by hand (a drag, keys or the wheel)
    PRESET_GOTO = "preset_goto"
    PRESET_SAVE = "preset_save"
    TAKEOVER = "takeover"  # a supervisor takes the camera from its holder
    RELEASE = "release"


class PtzRefused(Exception):
    """A PTZ request the rules refuse; `forbidden` (the role) or held by someone else."""

    def __init__(self, message: str, *, forbidden: bool) -> None:
        super().__init__(message)
        self.message = message
        self.forbidden = forbidden


@dataclass(frozen=True, slots=True)
class Rules:
    hold: timedelta
    move_roles: frozenset[Role]
    takeover_roles: frozenset[Role]


@dataclass(frozen=True, slots=True)
class Hold:
    camera_id: str
    operator: str
    role: Role
    workstation: str
    since: datetime
    until: datetime

    def live(self, now: datetime) -> bool:
        return now < self.until


def held_text(hold: Hold) -> str:
    """What other consoles show on the tile."""
    return f"被 {hold.operator} 控制中"


def decide(
    current: Hold | None,
    *,
    camera_id: str,
    operator: str,
    role: Role,
    workstation: str,
    action: PtzAction,
    now: datetime,
    rules: Rules,
) -> Hold:
    """The hold after `operator` asks to do `action`; `PtzRefused` when they may not."""
    if role not in rules.move_roles and not (
        action is PtzAction.TAKEOVER and role in rules.takeover_roles
    ):
        raise PtzRefused(
            f"无云台控制权限（角色 {role.value}）/ your role may not move cameras", forbidden=True
        )
    mine = current is not None and current.operator == operator
    if current is not None and current.live(now) and not mine:
        if action is not PtzAction.TAKEOVER:
            raise PtzRefused(
                f"{held_text(current)}（至 {current.until:%H:%M:%S}）/ held by {current.operator}",
                forbidden=False,
            )
        if role not in rules.takeover_roles:
            raise PtzRefused(
                "只有带班领导可以接管 / only a supervisor may take over", forbidden=True
            )
    until = now + rules.hold
    if mine and current is not None and current.live(now) and current.workstation == workstation:
        return replace(current, until=until)
    return Hold(camera_id, operator, role, workstation, now, until)


def may_release(current: Hold | None, operator: str, now: datetime) -> bool:
    """Whether `operator` holds the camera now (only the holder releases it)."""
    return current is not None and current.live(now) and current.operator == operator
