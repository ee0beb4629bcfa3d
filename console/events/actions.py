"""What each workflow action asks the operator for, and its keyboard shortcut. Pure.

`ActionSpec` says which inputs the action dialog must collect (a note that may be
required, an assignee, a number of working days); `validate_request` checks what the
operator typed and returns a clear message per problem, so that nothing is sent to the
hub that the dialog already knows is incomplete.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from dispatch.domain.model import Action
from dispatch.events.core import MAX_EXTENSION_DAYS, MAX_NOTE_LENGTH


class NoteRule(Enum):
    NONE = "none"  # no dialog for the note
    OPTIONAL = "optional"
    REQUIRED = "required"


@dataclass(frozen=True)
class ActionSpec:
    action: Action
    shortcut: str
    note: NoteRule = NoteRule.NONE
    assignee: bool = False
    days: bool = False

    @property
    def needs_dialog(self) -> bool:
        return self.note is not NoteRule.NONE or self.assignee or self.days


@dataclass(frozen=True)
class ActionRequest:
    """What the operator asked for; sent to the hub as HubClient.act(...)."""

    event_id: str
    action: Action
    note: str = ""
    assignee: str | None = None
    extension_days: int = 0


SPECS: dict[Action, ActionSpec] = {
    s.action: s
    for s in (
        ActionSpec(Action.REGISTER, "R"),
        ActionSpec(Action.ROUTE, "D", note=NoteRule.OPTIONAL, assignee=True),
        ActionSpec(Action.START_HANDLING, "H"),
        ActionSpec(Action.FEEDBACK, "F", note=NoteRule.OPTIONAL),
        ActionSpec(Action.VERIFY, "V", note=NoteRule.OPTIONAL),
        ActionSpec(Action.CALL_BACK, "C", note=NoteRule.OPTIONAL),
        ActionSpec(Action.ARCHIVE, "A"),
        ActionSpec(Action.RETURN, "T", note=NoteRule.REQUIRED),
        ActionSpec(Action.ESCALATE, "E", note=NoteRule.OPTIONAL),
        ActionSpec(Action.REQUEST_EXTENSION, "X", note=NoteRule.REQUIRED, days=True),
        ActionSpec(Action.GRANT_EXTENSION, "G", note=NoteRule.OPTIONAL, days=True),
        ActionSpec(Action.NOTE, "N", note=NoteRule.REQUIRED),
    )
}

# Actions the operator never takes by hand (the hub's timers write them).
SYSTEM_ONLY: frozenset[Action] = frozenset({Action.REMIND})

ACK_SHORTCUT = "K"


def spec(action: Action) -> ActionSpec:
    try:
        return SPECS[action]
    except KeyError:
        raise KeyError(f"action {action.value!r} cannot be taken from the console") from None


def operator_actions(allowed: list[Action]) -> list[Action]:
    """The allowed actions an operator can take by hand, in the order the core gave them."""
    return [a for a in allowed if a not in SYSTEM_ONLY and a in SPECS]


def validate_request(req: ActionRequest) -> dict[str, str]:
    """Problems with the inputs, field name -> message (empty when the request is fine)."""
    s = spec(req.action)
    problems: dict[str, str] = {}
    if s.note is NoteRule.REQUIRED and not req.note.strip():
        problems["note"] = f"{req.action.value} needs a note (reason)"
    if len(req.note) > MAX_NOTE_LENGTH:
        problems["note"] = f"the note is longer than {MAX_NOTE_LENGTH} characters"
    if s.assignee and not (req.assignee or "").strip():
        problems["assignee"] = f"{req.action.value} needs an assignee"
    # a grant of 0 days grants what was requested
    low = 0 if req.action is Action.GRANT_EXTENSION else 1
    if s.days and not low <= req.extension_days <= MAX_EXTENSION_DAYS:
        problems["extension_days"] = (
            f"extension must be {low}..{MAX_EXTENSION_DAYS} working days, got {req.extension_days}"
        )
    if not s.days and req.extension_days:
        problems["extension_days"] = f"{req.action.value} takes no extension days"
    return problems
