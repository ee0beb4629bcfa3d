"""The details pane's dispatch section: each task's way with times, and the officer's buttons.

A view over `DispatchModel` for one event: per task a header (person, role, state), the
steps sent → delivered → read → accepted/returned → on site → feedback → done with their
times (grey when not reached) and exactly the task actions the officer may take now.
Pressing a button calls `on_task_action(task, action)`; no I/O here.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from console.events.format import format_short_time
from console.events.model import Session
from console.events.strings import current_language, task_action_name, tr
from console.kit.plain import escape, plain_label, rich_label
from console.tasks.model import (
    escalation_badge,
    officer_task_actions,
    state_label,
    task_steps,
)
from dispatch.tasks.core import DispatchTask, TaskAction, TaskState

_STATE_COLOURS = {
    TaskState.RETURNED: "#c62828",
    TaskState.DONE: "#2e7d32",
    TaskState.CANCELLED: "#757575",
    TaskState.REASSIGNED: "#757575",
}


def steps_html(task: DispatchTask, lang: str) -> str:
    """The task's steps as one line of rich text: reached ones bold with their time."""
    parts = []
    for st in task_steps(task):
        label = escape(state_label(st.state, lang))
        if st.at is None:
            parts.append(f"<span style='color:#9e9e9e'>{label}</span>")
            continue
        colour = _STATE_COLOURS.get(st.state, "#1565c0")
        text = f"<b style='color:{colour}'>{label}</b> {format_short_time(st.at)}"
        if st.detail:
            text += f"（{escape(st.detail)}）"
        parts.append(text)
    return " → ".join(parts)


ROLES = frozenset(
    {
        "grid_leader",
        "deputy",
        "village_supervisor",
        "township_supervisor",
        "county",
        "maintenance",
    }
)


def header_text(task: DispatchTask, lang: str) -> str:
    person = task.assignee_name or task.assignee
    raw = task.assignee_role or "—"
    role = tr(f"role.{raw}", lang) if raw in ROLES else raw
    text = tr("dispatch.task_title", person=person, role=role, state=state_label(task.state, lang))
    badge = escalation_badge([task], lang)
    return f"{text} · {badge}" if badge else text


class TasksView(QWidget):
    """The dispatch tasks of the event shown in the details pane."""

    def __init__(
        self,
        on_task_action: Callable[[DispatchTask, TaskAction], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("dispatchTasks")
        self._on_task_action = on_task_action
        self.title = plain_label(tr("dispatch.tasks.core"))
        self.title.setStyleSheet("font-weight: bold;")
        self.empty = plain_label(tr("dispatch.none"))
        self.empty.setStyleSheet("color: #757575;")
        self._box = QVBoxLayout()
        self._box.setSpacing(4)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 4)
        layout.addWidget(self.title)
        layout.addWidget(self.empty)
        layout.addLayout(self._box)
        self._cards: list[QFrame] = []
        # for tests: task id -> its labels and buttons
        self.step_labels: dict[str, QLabel] = {}
        self.header_labels: dict[str, QLabel] = {}
        self.buttons: dict[tuple[str, TaskAction], QPushButton] = {}

    def set_tasks(self, tasks: list[DispatchTask], session: Session | None, enabled: bool) -> None:
        for card in self._cards:
            self._box.removeWidget(card)
            card.deleteLater()
        self._cards = []
        self.step_labels, self.header_labels, self.buttons = {}, {}, {}
        self.empty.setVisible(not tasks)
        lang = current_language()
        for task in tasks:
            card = QFrame()
            card.setObjectName(f"task_{task.id}")
            card.setFrameShape(QFrame.Shape.StyledPanel)
            lay = QVBoxLayout(card)
            lay.setContentsMargins(6, 3, 6, 3)
            lay.setSpacing(2)
            head = plain_label(header_text(task, lang))
            head.setStyleSheet("font-weight: bold;")
            steps = rich_label(steps_html(task, lang))
            steps.setWordWrap(True)
            lay.addWidget(head)
            lay.addWidget(steps)
            actions = officer_task_actions(task, session)
            if actions:
                row = QHBoxLayout()
                for a in actions:
                    b = QPushButton(task_action_name(a.value, lang))
                    b.setObjectName(f"task_{a.value}")
                    b.setEnabled(enabled)
                    b.clicked.connect(lambda _=False, t=task, act=a: self._on_task_action(t, act))
                    row.addWidget(b)
                    self.buttons[(task.id, a)] = b
                row.addStretch(1)
                lay.addLayout(row)
            self._box.addWidget(card)
            self._cards.append(card)
            self.step_labels[task.id] = steps
            self.header_labels[task.id] = head
