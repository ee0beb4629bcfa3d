"""The mediation window's invite form (Qt view): numbered rows of tick, role and name, the
default five (court, notary, mediator, party, party) and rows the officer adds with
添加参与方 (a party by default) up to the hub's limit and removes with 删除. The rows
scroll once there are more than `VISIBLE_ROWS`. Its rules (how many, which rows can go,
the invites they make) are the model's (`console.mediation.model`)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from console.kit.plain import plain_label
from console.mediation.model import (
    ADDED_INVITE,
    DEFAULT_INVITES,
    MAX_INVITES,
    can_add_invite,
    invite_count_text,
    invite_row_removable,
)
from console.mediation.strings import ROLES, role_name, t

VISIBLE_ROWS = 9  # more rows than this scroll


def heading(text: str) -> QLabel:
    """A section's title: plain text, bold."""
    label = plain_label(text)
    font = label.font()
    font.setBold(True)
    label.setFont(font)
    return label


class InviteRow(QWidget):
    """One invite: its number (as the form's messages count), tick, role, name, and a
    删除 button when the officer added it."""

    def __init__(self, number: int, role: str, name: str, removable: bool) -> None:
        super().__init__()
        self.number = plain_label("")
        self.number.setMinimumWidth(22)
        self.check = QCheckBox()
        self.check.setChecked(True)
        self.role = QComboBox()
        for key in ROLES:
            self.role.addItem(role_name(key), key)
        self.role.setCurrentIndex(ROLES.index(role))
        self.name = QLineEdit(name)
        self.name.setPlaceholderText(t("name"))
        self.remove_button: QPushButton | None = None
        remove = QPushButton(t("remove_row"))
        remove.setFixedWidth(remove.fontMetrics().horizontalAdvance(remove.text()) + 24)
        if removable:
            self.remove_button = remove
        else:  # the default rows keep its place, so that the columns line up
            policy = remove.sizePolicy()
            policy.setRetainSizeWhenHidden(True)
            remove.setSizePolicy(policy)
            remove.hide()
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for w in (self.number, self.check, self.role):
            row.addWidget(w)
        row.addWidget(self.name, 1)
        row.addWidget(remove)
        self.set_number(number)

    def set_number(self, n: int) -> None:
        self.number.setText(f"{n}.")
        if self.remove_button is not None:
            self.remove_button.setToolTip(t("remove_row_tip", n=n))

    def value(self) -> tuple[bool, str, str]:
        return self.check.isChecked(), str(self.role.currentData()), self.name.text()


class InviteForm(QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[InviteRow] = []
        self.rows_box = QWidget()
        self.rows_layout = QVBoxLayout(self.rows_box)
        self.rows_layout.setContentsMargins(0, 0, 0, 0)
        self.rows_layout.setSpacing(4)
        self.rows_scroll = QScrollArea()
        self.rows_scroll.setWidgetResizable(True)
        self.rows_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.rows_scroll.setWidget(self.rows_box)
        self._follow_new = False  # a row was added: scroll to it once the rows are laid out
        self.rows_scroll.verticalScrollBar().rangeChanged.connect(self._on_range)
        self.add_button = QPushButton(t("add_row"))
        self.add_button.setToolTip(t("add_row_tip", most=MAX_INVITES))
        self.add_button.clicked.connect(lambda: self.add_row())
        self.count_label = plain_label("")
        self.open_button = QPushButton(t("open"))
        add_line = QHBoxLayout()
        add_line.addWidget(self.add_button)
        add_line.addWidget(self.count_label, 1)
        box = QVBoxLayout(self)
        box.addWidget(heading(t("invite")))
        box.addWidget(self.rows_scroll)
        box.addLayout(add_line)
        box.addWidget(self.open_button)
        for role, name in DEFAULT_INVITES:
            self.add_row(role, name)

    def values(self) -> list[tuple[bool, str, str]]:
        """(checked, role, name) per row, in the order (and numbering) shown."""
        return [row.value() for row in self.rows]

    def add_row(self, role: str = ADDED_INVITE[0], name: str = ADDED_INVITE[1]) -> InviteRow | None:
        """A new row at the end (a party, no name); None at the hub's limit."""
        if not can_add_invite(len(self.rows)):
            return None
        index = len(self.rows)
        row = InviteRow(index + 1, role, name, invite_row_removable(index))
        row.check.toggled.connect(lambda _on: self._refresh())
        if row.remove_button is not None:
            row.remove_button.clicked.connect(lambda _c=False, r=row: self.remove_row(r))
        self.rows.append(row)
        self.rows_layout.addWidget(row)
        self._refresh()
        if index >= len(DEFAULT_INVITES):  # the officer's: show it and type its name
            row.name.setFocus()
            self._follow_new = True
        return row

    def remove_row(self, row: InviteRow) -> None:
        if row not in self.rows or row.remove_button is None:
            return
        self.rows.remove(row)
        self.rows_layout.removeWidget(row)
        row.setParent(None)
        row.deleteLater()
        self._follow_new = False
        for n, r in enumerate(self.rows, 1):
            r.set_number(n)
        self._refresh()

    def _on_range(self, _low: int, high: int) -> None:
        if self._follow_new:
            self._follow_new = False
            self.rows_scroll.verticalScrollBar().setValue(high)

    def _refresh(self) -> None:
        self.add_button.setEnabled(can_add_invite(len(self.rows)))
        self.count_label.setText(invite_count_text(self.values()))
        shown = self.rows[:VISIBLE_ROWS]
        gap = self.rows_layout.spacing()
        height = sum(r.sizeHint().height() for r in shown) + max(0, len(shown) - 1) * gap
        self.rows_scroll.setFixedHeight(height)
