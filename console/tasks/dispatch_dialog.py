"""Dialogs of dispatch: pick another person / add a note before dispatching, and the
reason or person a task action needs. They only collect input; the panel sends it."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from console.events.strings import task_action_name, tr
from console.kit.plain import plain_label
from console.tasks.model import NEEDS_REASON
from dispatch.domain.model import Event
from dispatch.tasks.core import MAX_NOTE_LENGTH, DispatchTask, TaskAction
from dispatch.tasks.messages import DispatchPreviewReply, PersonInfo


@dataclass(frozen=True)
class DispatchChoice:
    person_id: str | None  # None: the suggested person
    note: str = ""
    instruction: str | None = None  # None: the template's


@dataclass(frozen=True)
class TaskChoice:
    note: str = ""
    person_id: str | None = None


def person_label(p: PersonInfo, suggested: bool) -> str:
    text = f"{p.name}（{p.role}）"
    if p.phone:
        text += f" {p.phone}"
    return text + (tr("dispatch.suggested") if suggested else "")


class DispatchDialog(QDialog):
    """Whom to send to (the chain, suggested first), the instruction, an optional note."""

    def __init__(
        self, event: Event, preview: DispatchPreviewReply, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("dispatch.dialog_title", title=event.title))
        self.setMinimumWidth(480)
        self.preview = preview
        self.person = QComboBox()
        self.person.setObjectName("person")
        suggested = preview.suggested.id if preview.suggested else None
        people = list(preview.chain)
        people.sort(key=lambda p: p.id != suggested)  # suggested first, chain order kept
        for p in people:
            self.person.addItem(person_label(p, p.id == suggested), p.id)
        self.instruction = QPlainTextEdit(preview.instruction)
        self.instruction.setObjectName("instruction")
        self.instruction.setFixedHeight(90)
        self.note = QPlainTextEdit()
        self.note.setObjectName("note")
        self.note.setFixedHeight(60)
        self.error = plain_label("")
        self.error.setStyleSheet("color: #c62828;")
        form = QFormLayout()
        form.addRow(plain_label(tr("dispatch.person")), self.person)
        form.addRow(plain_label(tr("dispatch.instruction")), self.instruction)
        form.addRow(plain_label(tr("dispatch.note")), self.note)
        buttons = QDialogButtonBox()
        buttons.addButton(tr("dialog.ok"), QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(tr("dialog.cancel"), QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.try_accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def choice(self) -> DispatchChoice:
        text = self.instruction.toPlainText().strip()
        return DispatchChoice(
            person_id=self.person.currentData(),
            note=self.note.toPlainText().strip(),
            instruction=None if text == self.preview.instruction.strip() else text,
        )

    def try_accept(self) -> None:
        c = self.choice()
        if not self.instruction.toPlainText().strip():
            self.error.setText(tr("dialog.required") + " " + tr("dispatch.instruction"))
            return
        if len(c.note) > MAX_NOTE_LENGTH:
            self.error.setText(f"> {MAX_NOTE_LENGTH}")
            return
        self.accept()


class TaskActionDialog(QDialog):
    """The reason (rework, cancel) or the new person (reassign) of an officer's task action."""

    def __init__(
        self,
        action: TaskAction,
        task: DispatchTask,
        chain: list[PersonInfo],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.action = action
        self.setWindowTitle(task_action_name(action.value))
        form = QFormLayout()
        self.person = QComboBox()
        self.person.setObjectName("person")
        for p in chain:
            if p.id != task.assignee:
                self.person.addItem(person_label(p, False), p.id)
        if action is TaskAction.REASSIGN:
            form.addRow(plain_label(tr("dispatch.person")), self.person)
        self.note = QPlainTextEdit()
        self.note.setObjectName("note")
        self.note.setFixedHeight(70)
        label = tr("dispatch.reason") + (" *" if action in NEEDS_REASON else "")
        form.addRow(plain_label(label), self.note)
        self.error = plain_label("")
        self.error.setStyleSheet("color: #c62828;")
        buttons = QDialogButtonBox()
        buttons.addButton(tr("dialog.ok"), QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(tr("dialog.cancel"), QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.try_accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def choice(self) -> TaskChoice:
        person = self.person.currentData() if self.action is TaskAction.REASSIGN else None
        return TaskChoice(note=self.note.toPlainText().strip(), person_id=person)

    def try_accept(self) -> None:
        c = self.choice()
        if self.action in NEEDS_REASON and not c.note:
            self.error.setText(tr("dispatch.reason_required"))
            return
        if self.action is TaskAction.REASSIGN and not c.person_id:
            self.error.setText(tr("dialog.required") + " " + tr("dispatch.person"))
            return
        self.accept()


def ask_dispatch(
    event: Event, preview: DispatchPreviewReply, parent: QWidget | None
) -> DispatchChoice | None:
    d = DispatchDialog(event, preview, parent)
    return d.choice() if d.exec() == QDialog.DialogCode.Accepted else None


def ask_task(
    action: TaskAction, task: DispatchTask, chain: list[PersonInfo], parent: QWidget | None
) -> TaskChoice | None:
    if action is TaskAction.CONFIRM:
        return TaskChoice()
    d = TaskActionDialog(action, task, chain, parent)
    return d.choice() if d.exec() == QDialog.DialogCode.Accepted else None
