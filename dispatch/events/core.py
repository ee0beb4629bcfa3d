"""The closed-loop event workflow 受理 → 登记 → 分流 → 处置 → 反馈 → 归档 as a pure state machine.

Pure: no I/O, no clock reads. Every function takes `now` (an aware datetime) from the
caller. Every transition returns the new `Event` (version + 1, `updated_at = now`) and
exactly one append-only `AuditEntry`.

The rules in one place (`_MOVES`, `_STAYS`, `_ROLES` and `_condition`):

- moves: accepted -register-> registered -route-> routed -start_handling-> handling
  -feedback-> feedback -archive-> archived; return (退单, reason required) from routed or
  handling back to registered for re-routing.
- actions that keep the state: escalate, note and remind (催办) in any open state;
  request/grant an extension while routed or handling; verify (核查) and call back (回访)
  in feedback.
- roles: the duty officer does the daily work but cannot grant extensions, cannot remind,
  and archives only after both verification and call-back; a supervisor (and an admin,
  who may do everything a supervisor may) can grant extensions and archive without them;
  the system (the hub's timers and intake) may remind, escalate and note.
- conditions: grant needs a pending request; a new request needs none pending; verify
  and call-back once each; escalation stops at `MAX_ESCALATION_LEVEL`.
- arguments: route needs an assignee; return, note and request_extension need a note
  (the reason); request needs 1..`MAX_EXTENSION_DAYS` days; grant takes the requested
  days when given 0. Arguments an action does not take are refused, not ignored.
"""

from __future__ import annotations

import heapq
import re
import sys
from collections import deque
from dataclasses import dataclass
from datetime import datetime

from dispatch.domain.model import (
    Action,
    Actor,
    AuditEntry,
    Event,
    EventIntake,
    EventState,
    Role,
    is_open,
)

ACCEPT = "accept"
"""The audit action of `new_event` (受理); not an `Action`, nobody applies it."""

MAX_ESCALATION_LEVEL = 3
MAX_EXTENSION_DAYS = 30
MAX_NOTE_LENGTH = 2000
MAX_ASSIGNEE_LENGTH = 64
MAX_CLOCK_SKEW_S = 300.0
"""How far `reported_at` may lie after the intake time (clocks of other systems drift)."""

SYSTEM_ACTOR = Actor(operator="system", role=Role.SYSTEM, workstation="hub")

STATE_LABELS_ZH: dict[EventState, str] = {
    EventState.ACCEPTED: "已受理",
    EventState.REGISTERED: "已登记",
    EventState.ROUTED: "已分流",
    EventState.HANDLING: "处置中",
    EventState.FEEDBACK: "已反馈",
    EventState.ARCHIVED: "已归档",
}
ACTION_LABELS_ZH: dict[Action, str] = {
    Action.REGISTER: "登记",
    Action.ROUTE: "分流",
    Action.START_HANDLING: "开始处置",
    Action.FEEDBACK: "反馈",
    Action.VERIFY: "核查",
    Action.CALL_BACK: "回访",
    Action.ARCHIVE: "归档",
    Action.RETURN: "退单",
    Action.ESCALATE: "升级上报",
    Action.REQUEST_EXTENSION: "申请延期",
    Action.GRANT_EXTENSION: "批准延期",
    Action.REMIND: "催办",
    Action.NOTE: "备注",
}
ROLE_LABELS_ZH: dict[Role, str] = {
    Role.DUTY_OFFICER: "值班员",
    Role.SUPERVISOR: "带班领导",
    Role.ADMIN: "管理员",
    Role.SYSTEM: "系统",
}

_OPEN: frozenset[EventState] = frozenset(s for s in EventState if is_open(s))
_HUMANS = frozenset({Role.DUTY_OFFICER, Role.SUPERVISOR, Role.ADMIN})
_SUPERVISORS = frozenset({Role.SUPERVISOR, Role.ADMIN})

_MOVES: dict[tuple[EventState, Action], EventState] = {
    (EventState.ACCEPTED, Action.REGISTER): EventState.REGISTERED,
    (EventState.REGISTERED, Action.ROUTE): EventState.ROUTED,
    (EventState.ROUTED, Action.START_HANDLING): EventState.HANDLING,
    (EventState.HANDLING, Action.FEEDBACK): EventState.FEEDBACK,
    (EventState.FEEDBACK, Action.ARCHIVE): EventState.ARCHIVED,
    (EventState.ROUTED, Action.RETURN): EventState.REGISTERED,
    (EventState.HANDLING, Action.RETURN): EventState.REGISTERED,
}
_IN_HAND = frozenset({EventState.ROUTED, EventState.HANDLING})
_STAYS: dict[Action, frozenset[EventState]] = {
    Action.ESCALATE: _OPEN,
    Action.NOTE: _OPEN,
    Action.REMIND: _OPEN,
    Action.REQUEST_EXTENSION: _IN_HAND,
    Action.GRANT_EXTENSION: _IN_HAND,
    Action.VERIFY: frozenset({EventState.FEEDBACK}),
    Action.CALL_BACK: frozenset({EventState.FEEDBACK}),
}
_ROLES: dict[Action, frozenset[Role]] = {
    Action.REGISTER: _HUMANS,
    Action.ROUTE: _HUMANS,
    Action.START_HANDLING: _HUMANS,
    Action.FEEDBACK: _HUMANS,
    Action.VERIFY: _HUMANS,
    Action.CALL_BACK: _HUMANS,
    Action.ARCHIVE: _HUMANS,
    Action.RETURN: _HUMANS,
    Action.ESCALATE: _HUMANS | {Role.SYSTEM},
    Action.REQUEST_EXTENSION: _HUMANS,
    Action.GRANT_EXTENSION: _SUPERVISORS,
    Action.REMIND: _SUPERVISORS | {Role.SYSTEM},
    Action.NOTE: _HUMANS | {Role.SYSTEM},
}
_NOTE_REQUIRED = frozenset({Action.RETURN, Action.NOTE, Action.REQUEST_EXTENSION})
_TAKES_DAYS = frozenset({Action.REQUEST_EXTENSION, Action.GRANT_EXTENSION})
_BAD_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BAD_LINE = re.compile(r"[\x00-\x1f\x7f]")


class TransitionError(Exception):
    """A transition that is not allowed, or an action with bad arguments.

    `code` is stable for programs (e.g. "state", "role", "reason_required"); `state`,
    `action` and `role` say what was tried; `message_zh` and `message_en` name the state
    and the action for people. `str(error)` gives both, Chinese first.
    """

    def __init__(
        self,
        code: str,
        *,
        state: EventState,
        action: Action | str,
        role: Role | None,
        message_zh: str,
        message_en: str,
    ) -> None:
        super().__init__(f"{message_zh} / {message_en}")
        self.code = code
        self.state = state
        self.action = action
        self.role = role
        self.message_zh = message_zh
        self.message_en = message_en

    def message(self, lang: str = "zh_CN") -> str:
        return self.message_en if lang.lower().startswith("en") else self.message_zh


@dataclass(frozen=True)
class Transition:
    event: Event
    audit: AuditEntry


@dataclass(frozen=True)
class _Refusal:
    """Why not: a stable code and the reason in Chinese and English ("" for plain state)."""

    code: str
    zh: str
    en: str


def _action_zh(action: Action) -> str:
    return ACTION_LABELS_ZH[action]


def _where(event: Event, action: Action) -> tuple[str, str]:
    """The Chinese and English phrases naming the state and the action."""
    zh = f"事件处于“{STATE_LABELS_ZH[event.state]}”状态时不能“{_action_zh(action)}”"
    en = f"cannot {action} an event in state {event.state}"
    return zh, en


def _condition(event: Event, action: Action, role: Role) -> _Refusal | None:
    """The rules that depend on the event's flags rather than only on its state."""
    if action is Action.ARCHIVE and role is Role.DUTY_OFFICER:
        missing_zh = [
            w for w, ok in (("核查", event.verified), ("回访", event.called_back)) if not ok
        ]
        missing_en = [
            w
            for w, ok in (("verification", event.verified), ("call-back", event.called_back))
            if not ok
        ]
        if missing_zh:
            return _Refusal(
                "verification_required",
                f"值班员须在{'和'.join(missing_zh)}完成后才能归档（带班领导可直接归档）",
                f"a duty officer can archive only after {' and '.join(missing_en)} "
                "(a supervisor can archive without)",
            )
    if action is Action.GRANT_EXTENSION and not event.extension_requested:
        return _Refusal("no_extension_requested", "没有待批准的延期申请", "no extension requested")
    if action is Action.REQUEST_EXTENSION and event.extension_requested:
        return _Refusal(
            "extension_pending", "已有延期申请等待批准", "an extension request is already pending"
        )
    if action is Action.VERIFY and event.verified:
        return _Refusal("already_verified", "已完成核查", "already verified")
    if action is Action.CALL_BACK and event.called_back:
        return _Refusal("already_called_back", "已完成回访", "already called back")
    if action is Action.ESCALATE and event.escalation_level >= MAX_ESCALATION_LEVEL:
        return _Refusal(
            "max_escalation",
            f"已升级到最高级别（{MAX_ESCALATION_LEVEL}）",
            f"already at the highest escalation level ({MAX_ESCALATION_LEVEL})",
        )
    return None


def _refusal(event: Event, action: Action, role: Role) -> _Refusal | None:
    """Why `role` may not take `action` on `event` now (arguments aside), or None."""
    in_state = (event.state, action) in _MOVES or event.state in _STAYS.get(action, frozenset())
    if not in_state:
        return _Refusal("state", "", "")
    if role not in _ROLES[action]:
        return _Refusal("role", f"{ROLE_LABELS_ZH[role]}无此权限", f"the {role} role may not")
    return _condition(event, action, role)


def allowed_actions(event: Event, role: Role) -> list[Action]:
    """The actions `role` may take on `event` now, in `Action` order (what a console offers)."""
    return [a for a in Action if _refusal(event, a, role) is None]


def is_allowed(event: Event, action: Action, role: Role) -> bool:
    return _refusal(event, action, role) is None


def _check_time(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware, got {now!r}")


def _note_refusal(action: Action, note: str) -> _Refusal | None:
    if len(note) > MAX_NOTE_LENGTH:
        return _Refusal(
            "bad_note",
            f"备注过长（最多 {MAX_NOTE_LENGTH} 字）",
            f"the note is too long (at most {MAX_NOTE_LENGTH} characters)",
        )
    if _BAD_TEXT.search(note):
        return _Refusal("bad_note", "备注含有控制字符", "the note contains control characters")
    if action in _NOTE_REQUIRED and not note.strip():
        what_zh = {Action.RETURN: "退单原因", Action.REQUEST_EXTENSION: "延期理由"}
        return _Refusal(
            "reason_required",
            f"必须填写{what_zh.get(action, '备注内容')}",
            "a reason is required in the note",
        )
    return None


def _assignee_refusal(action: Action, assignee: str | None) -> _Refusal | None:
    if action is not Action.ROUTE:
        if assignee is None:
            return None
        return _Refusal("unexpected_argument", "不接受承办单位参数", "it takes no assignee")
    name = (assignee or "").strip()
    if not name:
        return _Refusal("assignee_required", "必须指定承办单位或人员", "an assignee is required")
    if len(name) > MAX_ASSIGNEE_LENGTH or _BAD_LINE.search(name):
        return _Refusal(
            "bad_assignee",
            f"承办单位名称无效（单行，最多 {MAX_ASSIGNEE_LENGTH} 字）",
            f"bad assignee (one line, at most {MAX_ASSIGNEE_LENGTH} characters)",
        )
    return None


def _days(event: Event, action: Action, extension_days: int) -> int:
    """The working days an extension action means (grant with 0: the requested days)."""
    if action is Action.GRANT_EXTENSION and extension_days == 0:
        return event.extension_requested_days
    return extension_days


def _days_refusal(action: Action, days: int) -> _Refusal | None:
    if action not in _TAKES_DAYS:
        if days == 0:
            return None
        return _Refusal("unexpected_argument", "不接受延期天数参数", "it takes no extension days")
    if 1 <= days <= MAX_EXTENSION_DAYS:
        return None
    return _Refusal(
        "bad_extension_days",
        f"延期天数须为 1 到 {MAX_EXTENSION_DAYS} 个工作日",
        f"an extension is 1 to {MAX_EXTENSION_DAYS} working days, not {days}",
    )


def _joined(head: str, note: str) -> str:
    return f"{head} | {note}" if note else head


def _effect(
    event: Event, action: Action, now: datetime, note: str, assignee: str | None, days: int
) -> tuple[dict[str, object], str]:
    """The field changes an action makes, and the audit row's note."""
    reset_extension: dict[str, object] = {
        "extension_requested": False,
        "extension_requested_days": 0,
        "extension_days": 0,
    }
    match action:
        case Action.ROUTE:
            return {
                "assignee": assignee,
                "routed_at": now,
                **reset_extension,
            }, _joined(f"→ {assignee}", note)
        case Action.FEEDBACK:
            return {"resolved_at": now}, note
        case Action.ARCHIVE:
            return {"archived_at": now}, note
        case Action.RETURN:
            return {
                "assignee": None,
                "routed_at": None,
                "returned_at": now,
                **reset_extension,
            }, _joined(f"{event.assignee} ←", note) if event.assignee else note
        case Action.VERIFY:
            return {"verified": True}, note
        case Action.CALL_BACK:
            return {"called_back": True}, note
        case Action.ESCALATE:
            level = event.escalation_level + 1
            return {"escalation_level": level}, _joined(f"↑ {level}", note)
        case Action.REQUEST_EXTENSION:
            return {
                "extension_requested": True,
                "extension_requested_days": days,
            }, _joined(f"+{days}", note)
        case Action.GRANT_EXTENSION:
            return {
                "extension_requested": False,
                "extension_requested_days": 0,
                "extension_days": event.extension_days + days,
            }, _joined(f"+{days}", note)
        case Action.REMIND:
            count = event.reminders + 1
            return {"reminders": count, "last_reminder_at": now}, _joined(f"#{count}", note)
        case _:
            return {}, note


def apply(
    event: Event,
    action: Action,
    actor: Actor,
    now: datetime,
    *,
    note: str = "",
    assignee: str | None = None,
    extension_days: int = 0,
) -> Transition:
    """Take `action` on `event`; raise TransitionError when it is not allowed.

    Raises ValueError for a naive `now` (a programming error, not an operator's).
    """
    _check_time(now)
    action = Action(action)
    days = _days(event, action, extension_days)
    refusal = (
        _refusal(event, action, actor.role)
        or _note_refusal(action, note)
        or _assignee_refusal(action, assignee)
        or _days_refusal(action, days)
    )
    if refusal is not None:
        zh, en = _where(event, action)
        raise TransitionError(
            refusal.code,
            state=event.state,
            action=action,
            role=actor.role,
            message_zh=f"{zh}：{refusal.zh}" if refusal.zh else zh,
            message_en=f"{en}: {refusal.en}" if refusal.en else en,
        )
    note = note.strip()
    cleaned = assignee.strip() if assignee is not None else None
    changes, audit_note = _effect(event, action, now, note, cleaned, days)
    to_state = _MOVES.get((event.state, action), event.state)
    updated = event.model_copy(
        update={**changes, "state": to_state, "version": event.version + 1, "updated_at": now}
    )
    audit = AuditEntry(
        event_id=event.id,
        at=now,
        operator=actor.operator,
        role=actor.role,
        workstation=actor.workstation,
        action=action,
        from_state=event.state,
        to_state=to_state,
        note=audit_note,
    )
    return Transition(event=updated, audit=audit)


class IntakeError(ValueError):
    """An intake that is well-formed but not acceptable now; `field` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def new_event(
    intake: EventIntake,
    *,
    event_id: str,
    now: datetime,
    actor: Actor = SYSTEM_ACTOR,
) -> tuple[Event, AuditEntry]:
    """Accept (受理) a reported event: the new `Event` in state accepted and its first audit row.

    `reported_at` defaults to `now`; one more than `MAX_CLOCK_SKEW_S` after `now` raises
    IntakeError (field "reported_at"). The caller checks the category
    (`dispatch.domain.model.check_category`) and de-duplicates (source, source_ref).
    """
    _check_time(now)
    if not event_id or len(event_id) > 64 or _BAD_LINE.search(event_id):
        raise ValueError(f"bad event id {event_id!r}")
    reported_at = intake.reported_at or now
    if (reported_at - now).total_seconds() > MAX_CLOCK_SKEW_S:
        raise IntakeError(
            "reported_at",
            f"lies in the future ({reported_at.isoformat()} after intake at {now.isoformat()}) "
            "/ 上报时间晚于受理时间",
        )
    event = Event(
        id=event_id,
        source=intake.source,
        source_ref=intake.source_ref,
        category=intake.category,
        priority=intake.priority,
        title=intake.title.strip(),
        description=intake.description,
        place=intake.place,
        reporter=intake.reporter,
        photos=intake.photos,
        camera_id=intake.camera_id,
        multi_department=intake.multi_department,
        state=EventState.ACCEPTED,
        reported_at=reported_at,
        accepted_at=now,
        updated_at=now,
        version=1,
    )
    audit = AuditEntry(
        event_id=event_id,
        at=now,
        operator=actor.operator,
        role=actor.role,
        workstation=actor.workstation,
        action=ACCEPT,
        from_state=None,
        to_state=EventState.ACCEPTED,
        note=intake.source.value + (f" {intake.source_ref}" if intake.source_ref else ""),
    )
    return event, audit


Timer = tuple[datetime, str, int]  # (due, event id, version)


def live_timers(timers: list[Timer], versions: dict[str, int]) -> list[Timer]:
    """The earliest timer of each open event's current version, as a heap: when it
    fires, the event's next check is scheduled again, so the others are not needed (an
    event's older versions and archived events have none)."""
    first: dict[str, Timer] = {}
    for t in timers:
        if versions.get(t[1]) == t[2] and (t[1] not in first or t < first[t[1]]):
            first[t[1]] = t
    out = list(first.values())
    heapq.heapify(out)
    return out


class ChangeRing:
    """The recent changes as (seq, event id, snapshot entry JSON), oldest first, for
    "changes since N" resyncs: at most `max_entries`, and at most `max_bytes` of entry
    strings (`sys.getsizeof`), the oldest dropped first (the newest is always kept).

    Only a bound by count, 20,000 entries of ~1.8 KB were ~38 MB that a hub filled over
    its first ~11 minutes at the soak's 30 changes a second (and again after each
    restart): a slow climb the soak could not tell from a leak (issue 16). A resync
    from before the oldest entry gets the open events instead, as before.
    """

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        if max_entries < 1 or max_bytes < 1:
            raise ValueError("a change ring keeps at least one entry")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._items: deque[tuple[int, str, str, int]] = deque()
        self.bytes = 0

    def append(self, seq: int, event_id: str, entry: str) -> None:
        size = sys.getsizeof(entry)
        self._items.append((seq, event_id, entry, size))
        self.bytes += size
        items = self._items
        while len(items) > 1 and (len(items) > self.max_entries or self.bytes > self.max_bytes):
            self.bytes -= items.popleft()[3]

    def __len__(self) -> int:
        return len(self._items)

    def since(self, since: int, last_seq: int) -> list[str] | None:
        """The newest entry of each event changed after `since` (in change order), or
        None when changes after `since` are no longer all here (`last_seq`: the newest
        change published, the ring being empty when nothing changed since a start)."""
        oldest = self._items[0][0] if self._items else last_seq + 1
        if since < oldest - 1:
            return None
        latest: dict[str, str] = {}
        for seq, event_id, entry, _size in reversed(self._items):
            if seq <= since:
                break
            latest.setdefault(event_id, entry)
        return list(reversed(latest.values()))
