"""The pure core of dispatch tasks (派单): no I/O except `load_templates`, no clock reads.

- `task`: the task, its states, actions, actors, transition rows and errors;
- `machine`: the delivery state machine (dispatch, the steps, reassignment);
- `escalation`: who should have an unacknowledged task, and when it moves up;
- `templates`: instruction text per category from a TOML file;
- `labels`: the Chinese words and the timeline line.

The names are re-exported here: `from dispatch.tasks.core import DispatchTask, apply`.
"""

from dispatch.tasks.core.escalation import (
    ack_deadline,
    escalate,
    escalation_target,
    next_escalation_at,
)
from dispatch.tasks.core.labels import (
    ACTION_LABELS_ZH,
    LEVEL_LABELS_ZH,
    PRIORITY_LABELS_ZH,
    STATE_LABELS_ZH,
    describe,
)
from dispatch.tasks.core.machine import (
    allowed_actions,
    apply,
    new_task,
    reassign,
)
from dispatch.tasks.core.task import (
    AWAITING_ACK,
    MAX_FEEDBACK_LENGTH,
    MAX_FEEDBACK_PHOTOS,
    MAX_INSTRUCTION_LENGTH,
    MAX_NOTE_LENGTH,
    PHOTO_ID_PATTERN,
    SYSTEM,
    TERMINAL,
    ActorKind,
    DispatchTask,
    EscalationLevel,
    EscalationTarget,
    Outcome,
    PhotoId,
    TaskAction,
    TaskActor,
    TaskId,
    TaskState,
    TaskTransition,
    TaskTransitionError,
    awaiting_ack,
    is_open,
    level_of,
)
from dispatch.tasks.core.templates import (
    FALLBACK_CATEGORY,
    PLACEHOLDERS,
    InstructionTemplates,
    TemplateError,
    default_templates_path,
    format_deadline,
    instruction_for,
    load_templates,
    parse_templates,
)

__all__ = [
    "ACTION_LABELS_ZH",
    "AWAITING_ACK",
    "FALLBACK_CATEGORY",
    "LEVEL_LABELS_ZH",
    "MAX_FEEDBACK_LENGTH",
    "MAX_FEEDBACK_PHOTOS",
    "MAX_INSTRUCTION_LENGTH",
    "MAX_NOTE_LENGTH",
    "PHOTO_ID_PATTERN",
    "PLACEHOLDERS",
    "PRIORITY_LABELS_ZH",
    "STATE_LABELS_ZH",
    "SYSTEM",
    "TERMINAL",
    "ActorKind",
    "DispatchTask",
    "EscalationLevel",
    "EscalationTarget",
    "InstructionTemplates",
    "Outcome",
    "PhotoId",
    "TaskAction",
    "TaskActor",
    "TaskId",
    "TaskState",
    "TaskTransition",
    "TaskTransitionError",
    "TemplateError",
    "ack_deadline",
    "allowed_actions",
    "apply",
    "awaiting_ack",
    "default_templates_path",
    "describe",
    "escalate",
    "escalation_target",
    "format_deadline",
    "instruction_for",
    "is_open",
    "level_of",
    "load_templates",
    "new_task",
    "next_escalation_at",
    "parse_templates",
    "reassign",
]
