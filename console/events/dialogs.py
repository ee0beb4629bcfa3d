"""The dialog that asks for what an action needs (退单 reason, assignee, days, note)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from console.events.actions import ActionRequest, ActionSpec, NoteRule, validate_request
from console.events.strings import action_name, tr
from console.kit.plain import plain_label
from dispatch.domain.model import Action, Event
from dispatch.events.core import MAX_EXTENSION_DAYS


class ActionDialog(QDialog):
    """Collects the inputs of one action; `request()` is the result after accept()."""

    def __init__(self, spec: ActionSpec, event: Event, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self.target = event
        self.setWindowTitle(tr("dialog.title", action=action_name(spec.action), title=event.title))
        self.setMinimumWidth(460)
        form = QFormLayout()
        self.assignee = QLineEdit(event.assignee or "")
        self.assignee.setObjectName("assignee")
        if spec.assignee:
            form.addRow(tr("dialog.assignee"), self.assignee)
        self.days = QSpinBox()
        self.days.setObjectName("days")
        grant = spec.action is Action.GRANT_EXTENSION
        self.days.setRange(0 if grant else 1, MAX_EXTENSION_DAYS)
        self.days.setValue(event.extension_requested_days if grant else 1)
        if spec.days:
            form.addRow(tr("dialog.days"), self.days)
        self.note = QPlainTextEdit()
        self.note.setObjectName("note")
        self.note.setFixedHeight(96)
        if spec.note is not NoteRule.NONE:
            label = tr("dialog.reason") if spec.action is Action.RETURN else tr("dialog.note")
            if spec.note is NoteRule.REQUIRED and spec.action is not Action.RETURN:
                label += " *"
            form.addRow(label, self.note)
        self.error = plain_label("")
        self.error.setObjectName("error")
        self.error.setStyleSheet("color: #c62828;")
        self.error.setWordWrap(True)
        buttons = QDialogButtonBox()
        self.ok = buttons.addButton(tr("dialog.ok"), QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(tr("dialog.cancel"), QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.try_accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def request(self) -> ActionRequest:
        return ActionRequest(
            event_id=self.target.id,
            action=self.spec.action,
            note=self.note.toPlainText().strip() if self.spec.note is not NoteRule.NONE else "",
            assignee=self.assignee.text().strip() or None if self.spec.assignee else None,
            extension_days=self.days.value() if self.spec.days else 0,
        )

    def try_accept(self) -> None:
        """Accept only a complete request; otherwise say what is missing and keep the input."""
        problems = validate_request(self.request())
        if problems:
            self.error.setText(tr("dialog.required") + "\n" + "\n".join(problems.values()))
            focus = {"note": self.note, "assignee": self.assignee, "extension_days": self.days}
            widget = focus.get(next(iter(problems)))
            if widget is not None:
                widget.setFocus()
            return
        self.error.setText("")
        self.accept()


def ask_with_dialog(spec: ActionSpec, event: Event, parent: QWidget | None) -> ActionRequest | None:
    """The production way to ask: a modal ActionDialog."""
    dialog = ActionDialog(spec, event, parent)
    if dialog.exec() == QDialog.DialogCode.Accepted:
        return dialog.request()
    return None
