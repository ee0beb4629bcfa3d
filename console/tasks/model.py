"""The dispatch tasks of the events in the queue, free of Qt and of I/O (napari style).

`DispatchModel` keeps, per event, the tasks the hub told the console about (from
`TaskChanged`, a dispatch reply or a fetched `tasks_detail`), never going back in a
task's version, and the last dispatch preview (suggested person, chain, instruction,
nearest cameras). Observers: `tasks_changed(event_id)`, `preview_changed(event_id)`.
Pure helpers turn a task into the steps the details pane shows, the escalation badge of
the event's row and the officer's allowed task actions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from console.events.model import Session
from console.events.strings import tr
from console.kit.observable import Observable
from dispatch.domain.model import Actor
from dispatch.tasks.core import (
    STATE_LABELS_ZH,
    DispatchTask,
    EscalationLevel,
    TaskAction,
    TaskActor,
    TaskState,
    allowed_actions,
)
from dispatch.tasks.messages import DispatchPreviewReply

# what the console offers on a task, in this order
OFFICER_TASK_ACTIONS: tuple[TaskAction, ...] = (
    TaskAction.CONFIRM,
    TaskAction.REWORK,
    TaskAction.REASSIGN,
    TaskAction.CANCEL,
)
NEEDS_REASON: frozenset[TaskAction] = frozenset({TaskAction.REWORK, TaskAction.CANCEL})

_LEVEL_BADGE_ZH = {
    EscalationLevel.DEPUTY: "已升级至副网格长",
    EscalationLevel.TOWNSHIP: "已升级至乡镇",
    EscalationLevel.COUNTY: "已升级至县级",
}
_LEVEL_BADGE_EN = {
    EscalationLevel.DEPUTY: "Escalated to deputy",
    EscalationLevel.TOWNSHIP: "Escalated to township",
    EscalationLevel.COUNTY: "Escalated to county",
}
STATE_LABELS_EN: dict[TaskState, str] = {
    TaskState.SENT: "Sent",
    TaskState.DELIVERED: "Delivered",
    TaskState.READ: "Read",
    TaskState.ACCEPTED: "Accepted",
    TaskState.RETURNED: "Returned",
    TaskState.ON_SITE: "On site",
    TaskState.FEEDBACK: "Feedback",
    TaskState.DONE: "Done",
    TaskState.CANCELLED: "Cancelled",
    TaskState.REASSIGNED: "Reassigned",
}


@dataclass(frozen=True)
class Step:
    """One step of a task's way: its state label, when it happened (None: not yet), detail."""

    state: TaskState
    at: datetime | None
    detail: str = ""


# ---------------------------------------------------------------- pure helpers


def state_label(state: TaskState, lang: str = "zh_CN") -> str:
    return (STATE_LABELS_EN if lang == "en" else STATE_LABELS_ZH)[state]


def task_steps(task: DispatchTask) -> list[Step]:
    """sent → delivered → read → accepted/returned → on site → feedback → done, with times.

    A returned task shows returned (with the reason) instead of accepted and stops there;
    a cancelled or reassigned one ends with that state.
    """
    steps = [
        Step(TaskState.SENT, task.sent_at),
        Step(TaskState.DELIVERED, task.delivered_at),
        Step(TaskState.READ, task.read_at),
    ]
    if task.returned_at is not None or task.state is TaskState.RETURNED:
        steps.append(Step(TaskState.RETURNED, task.returned_at, task.return_reason))
    else:
        steps += [
            Step(TaskState.ACCEPTED, task.accepted_at),
            Step(TaskState.ON_SITE, task.on_site_at),
            Step(
                TaskState.FEEDBACK,
                task.feedback_at,
                _feedback_detail(task.feedback_text, task.feedback_photos),
            ),
            Step(TaskState.DONE, task.done_at),
        ]
    if task.state is TaskState.CANCELLED:
        steps.append(Step(TaskState.CANCELLED, task.closed_at, task.cancel_reason))
    elif task.state is TaskState.REASSIGNED:
        steps.append(Step(TaskState.REASSIGNED, task.closed_at))
    return steps


def _feedback_detail(text: str, photos: Sequence[str]) -> str:
    if not text and not photos:
        return ""
    return tr("task.photos", text=text, n=len(photos)) if photos else text


def escalation_badge(tasks: Iterable[DispatchTask], lang: str = "zh_CN") -> str:
    """ "已升级至乡镇" when a task of the event was escalated (the highest level reached)."""
    top: EscalationLevel | None = None
    for t in tasks:
        if t.escalation_step > 0 and t.level > EscalationLevel.ASSIGNEE:
            top = t.level if top is None or t.level > top else top
    if top is None:
        return ""
    return (_LEVEL_BADGE_EN if lang == "en" else _LEVEL_BADGE_ZH)[top]


def officer_task_actions(task: DispatchTask, session: Session | None) -> list[TaskAction]:
    """What the logged-in officer may do to the task now (the dispatch core decides)."""
    if session is None:
        return []
    actor = TaskActor.officer(
        Actor(operator=session.operator, role=session.role, workstation=session.workstation)
    )
    allowed = set(allowed_actions(task, actor))
    return [a for a in OFFICER_TASK_ACTIONS if a in allowed]


def newer(new: DispatchTask, old: DispatchTask | None) -> bool:
    return old is None or new.version >= old.version


# ---------------------------------------------------------------- the model


class DispatchModel:
    """Tasks and previews per event. Methods run on one thread (the Qt main thread)."""

    def __init__(self) -> None:
        self._tasks: dict[str, dict[str, DispatchTask]] = {}
        self._previews: dict[str, DispatchPreviewReply] = {}
        self.tasks_changed: Observable[str] = Observable()
        self.preview_changed: Observable[str] = Observable()

    def apply_task(self, task: DispatchTask) -> bool:
        """A task as the hub has it now; taken unless older than what is held."""
        held = self._tasks.setdefault(task.event_id, {})
        old = held.get(task.id)
        if not newer(task, old) or task == old:
            return False
        held[task.id] = task
        self.tasks_changed.emit(task.event_id)
        return True

    def forget(self, event_ids: Iterable[str]) -> None:
        """Drop what is held of these events (archived events the queue let go)."""
        for eid in event_ids:
            self._tasks.pop(eid, None)
            self._previews.pop(eid, None)

    def apply_tasks(self, tasks: Iterable[DispatchTask]) -> list[str]:
        """Several tasks (one notification per event touched)."""
        touched: list[str] = []
        for t in tasks:
            held = self._tasks.setdefault(t.event_id, {})
            old = held.get(t.id)
            if newer(t, old) and t != old:
                held[t.id] = t
                if t.event_id not in touched:
                    touched.append(t.event_id)
        for event_id in touched:
            self.tasks_changed.emit(event_id)
        return touched

    def set_preview(self, preview: DispatchPreviewReply) -> None:
        self._previews[preview.event_id] = preview
        self.preview_changed.emit(preview.event_id)

    # ------------------------------------------------------------ queries
    def tasks(self, event_id: str) -> list[DispatchTask]:
        """The event's tasks, oldest first."""
        return sorted(self._tasks.get(event_id, {}).values(), key=lambda t: (t.sent_at, t.id))

    def task(self, task_id: str) -> DispatchTask | None:
        for held in self._tasks.values():
            if task_id in held:
                return held[task_id]
        return None

    def open_tasks(self, event_id: str) -> list[DispatchTask]:
        return [t for t in self.tasks(event_id) if t.closed_at is None]

    def preview(self, event_id: str) -> DispatchPreviewReply | None:
        return self._previews.get(event_id)

    def badge(self, event_id: str, lang: str = "zh_CN") -> str:
        return escalation_badge(self._tasks.get(event_id, {}).values(), lang)
