"""The operator's login dialog: operator, password, workstation name (the host name by default).

The dialog does no I/O itself: pressing 登录 calls `submit(operator, password,
workstation, done)` (the event queue controller's `login`), and stays open, disabled,
until `done(outcome)` comes back; a wrong password shows a clear error and keeps the
operator's name, clears the password and puts the cursor back in it.
"""

from __future__ import annotations

import socket
from collections.abc import Callable

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from console.events.controller import LoginOutcome
from console.events.model import Session
from console.events.strings import tr
from console.kit.plain import plain_label

Submit = Callable[[str, str, str, Callable[[LoginOutcome], None]], None]
MAX_WORKSTATION = 64


def default_workstation() -> str:
    """The machine's host name, cut to what the hub accepts."""
    return (socket.gethostname() or "console")[:MAX_WORKSTATION]


class LoginDialog(QDialog):
    def __init__(
        self,
        submit: Submit,
        *,
        workstation: str | None = None,
        operator: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._submit = submit
        self.session: Session | None = None
        self.setWindowTitle(tr("login.title"))
        self.setMinimumWidth(380)
        self.operator = QLineEdit(operator)
        self.operator.setObjectName("operator")
        self.password = QLineEdit()
        self.password.setObjectName("password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.workstation = QLineEdit(workstation or default_workstation())
        self.workstation.setObjectName("workstation")
        self.workstation.setMaxLength(MAX_WORKSTATION)
        form = QFormLayout()
        form.addRow(plain_label(tr("login.operator")), self.operator)
        form.addRow(plain_label(tr("login.password")), self.password)
        form.addRow(plain_label(tr("login.workstation")), self.workstation)
        self.error = plain_label("")
        self.error.setObjectName("loginError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c62828;")
        buttons = QDialogButtonBox()
        self.submit_button: QPushButton = buttons.addButton(
            tr("login.submit"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.submit_button.setDefault(True)
        buttons.addButton(tr("login.cancel"), QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.try_login)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        (self.password if operator else self.operator).setFocus()

    def _missing(self) -> QLineEdit | None:
        for edit, key in (
            (self.operator, "login.operator"),
            (self.password, "login.password"),
            (self.workstation, "login.workstation"),
        ):
            if not edit.text().strip():
                self.error.setText(tr("login.missing", field=tr(key)))
                return edit
        return None

    def try_login(self) -> None:
        missing = self._missing()
        if missing is not None:
            missing.setFocus()
            return
        self.error.setText(tr("login.busy"))
        self._set_busy(True)
        self._submit(
            self.operator.text().strip(),
            self.password.text(),
            self.workstation.text().strip(),
            self.finished_login,
        )

    def finished_login(self, outcome: LoginOutcome) -> None:
        """The controller's answer (on the Qt main thread)."""
        self._set_busy(False)
        if outcome.ok:
            self.session = outcome.session
            self.error.setText("")
            self.accept()
            return
        self.error.setText(outcome.error)
        self.password.clear()
        self.password.setFocus()

    def _set_busy(self, busy: bool) -> None:
        for w in (self.operator, self.password, self.workstation, self.submit_button):
            w.setEnabled(not busy)
