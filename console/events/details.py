"""The details pane: the selected event's fields (numbers masked), timeline and actions.

The reporter's numbers arrive masked from the hub. For a role allowed to see them
(`REVEAL_ROLES`) the pane offers 查看完整号码: it asks for a reason, hands it to
`reveal_handler` (the controller's audited request) and shows the whole numbers for
`REVEAL_SHOW_S` seconds, then masked again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from console.events.actions import spec
from console.events.format import format_place, format_short_time, format_time
from console.events.strings import (
    action_name,
    category_name,
    colour_name,
    priority_name,
    source_name,
    state_name,
    tr,
)
from console.events.table import COLOURS
from console.kit.items import TableFiller
from console.kit.plain import plain_label
from dispatch.domain.model import Action, AuditEntry, Colour, Event, mask_id_number, mask_phone

REVEAL_SHOW_S = 30
# (event id, reason, done(field → whole number, or None)): the controller's `reveal`
RevealHandler = Callable[[str, str, Callable[[dict[str, str] | None], None]], None]


def field_rows(
    event: Event,
    colour: Colour,
    countdown_text: str,
    township_names: Mapping[str, str],
) -> list[tuple[str, str]]:
    """(label, text) pairs shown for an event; the reporter's numbers are masked here."""
    r = event.reporter
    ext = tr(
        "details.extension_value",
        days=event.extension_days,
        requested=tr("details.extension_requested") if event.extension_requested else "",
    )
    checks = f"{tr('yes') if event.verified else tr('no')} / "
    checks += tr("yes") if event.called_back else tr("no")
    return [
        (tr("details.id"), event.id),
        (tr("details.state"), state_name(event.state)),
        (tr("details.colour"), colour_name(colour)),
        (tr("details.deadline"), countdown_text),
        (tr("details.source"), source_name(event.source)),
        (tr("details.source_ref"), event.source_ref or "—"),
        (tr("details.category"), category_name(event.category)),
        (tr("details.priority"), priority_name(event.priority)),
        (tr("details.place"), format_place(event.place, township_names)),
        (tr("details.assignee"), event.assignee or "—"),
        (tr("details.reporter"), r.name or "—"),
        (tr("details.reporter_phone"), mask_phone(r.phone) if r.phone else "—"),
        (tr("details.reporter_id"), mask_id_number(r.id_number) if r.id_number else "—"),
        (tr("details.reported_at"), format_time(event.reported_at)),
        (tr("details.accepted_at"), format_time(event.accepted_at)),
        (tr("details.escalation"), str(event.escalation_level)),
        (tr("details.extension"), ext),
        (tr("details.checks"), checks),
    ]


def timeline_cells(entry: AuditEntry) -> list[str]:
    if entry.from_state is not None and entry.to_state is not None:
        if entry.from_state != entry.to_state:
            states = f"{state_name(entry.from_state)} → {state_name(entry.to_state)}"
        else:
            states = state_name(entry.to_state)
    elif entry.to_state is not None:
        states = f"→ {state_name(entry.to_state)}"
    else:
        states = ""
    return [
        format_short_time(entry.at),
        entry.operator,
        entry.workstation,
        action_name(entry.action) if entry.action != "accept" else tr("timeline.accept"),
        states,
        entry.note,
    ]


class DetailsPane(QWidget):
    """Shows one event; `on_action(action)` is called when an action button is pressed."""

    FIELD_COLUMNS = 3
    BUTTONS_PER_ROW = 6

    def __init__(self, on_action: Callable[[Action], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._on_action = on_action
        self.setObjectName("eventDetails")
        self.empty = plain_label(tr("details.empty"))
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title = plain_label("")
        self.title.setObjectName("detailsTitle")
        self.title.setWordWrap(True)
        self.title.setStyleSheet("font-size: 15px; font-weight: bold;")
        self.fields = QGridLayout()
        self.fields.setHorizontalSpacing(10)
        self.fields.setVerticalSpacing(3)
        self.fields.setColumnStretch(1, 1)
        self.fields.setColumnStretch(3, 1)
        self.fields.setColumnStretch(5, 1)
        self._values: dict[str, QLabel] = {}
        self.description = plain_label("")
        self.description.setWordWrap(True)
        self.description.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._build_reveal()
        self.actions_box = QGridLayout()
        self.actions_box.setSpacing(6)
        self.buttons: dict[Action, QPushButton] = {}
        self.timeline = QTableWidget(0, 6)
        self._timeline_rows = TableFiller(self.timeline)  # refilled in place (console.kit.items)
        self.timeline.setObjectName("timeline")
        self.timeline.setHorizontalHeaderLabels(
            [
                tr("timeline.at"),
                tr("timeline.operator"),
                tr("timeline.workstation"),
                tr("timeline.action"),
                tr("timeline.states"),
                tr("timeline.note"),
            ]
        )
        self.timeline.verticalHeader().setVisible(False)
        self.timeline.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.timeline.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.timeline.setWordWrap(True)
        header = self.timeline.horizontalHeader()
        for i in range(5):
            header.setSectionResizeMode(i, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        self.timeline_label = plain_label(tr("details.timeline"))
        self.timeline_label.setStyleSheet("font-weight: bold;")

        info = QWidget()
        info_layout = QVBoxLayout(info)
        info_layout.setContentsMargins(0, 0, 0, 0)
        info_layout.addWidget(self.title)
        info_layout.addLayout(self.fields)
        info_layout.addWidget(self.description)
        info_layout.addWidget(self.reveal_button, 0, Qt.AlignmentFlag.AlignLeft)
        info_layout.addLayout(self.actions_box)
        self.info_layout = info_layout  # the panel adds the dispatch section here
        tl = QWidget()
        tl_layout = QVBoxLayout(tl)
        tl_layout.setContentsMargins(0, 0, 0, 0)
        tl_layout.addWidget(self.timeline_label)
        tl_layout.addWidget(self.timeline)
        self.body = QSplitter(Qt.Orientation.Vertical)
        self.body.addWidget(info)
        self.body.addWidget(tl)
        self.body.setStretchFactor(0, 0)
        self.body.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.empty)
        layout.addWidget(self.body)
        self.body.hide()

    def _build_reveal(self) -> None:
        self.reveal_button = QPushButton(tr("details.reveal"))
        self.reveal_button.setObjectName("revealNumbers")
        self.reveal_button.setToolTip(tr("details.reveal_tip"))
        self.reveal_button.clicked.connect(self.ask_reveal)
        self.reveal_button.hide()
        self.reveal_handler: RevealHandler | None = None  # set for allowed roles
        self.on_message: Callable[[str], None] = lambda text: None
        self.ask_reason: Callable[[], str | None] = self._ask_reason  # replaceable in tests
        self._event: Event | None = None
        self._shown: dict[str, str] = {}  # field label → whole number, while revealed
        self._unreveal = QTimer(self)
        self._unreveal.setSingleShot(True)
        self._unreveal.timeout.connect(self._mask_again)

    def show_event(
        self,
        event: Event | None,
        colour: Colour = Colour.GREEN,
        countdown_text: str = "",
        township_names: Mapping[str, str] | None = None,
    ) -> None:
        if self._event is not None and (event is None or event.id != self._event.id):
            self._unreveal.stop()  # whole numbers never follow to another event
            self._shown.clear()
        self._event = event
        if event is None:
            self.body.hide()
            self.empty.show()
            return
        self.empty.hide()
        self.body.show()
        self.title.setText(event.title)
        self.title.setStyleSheet(
            f"font-size: 15px; font-weight: bold; border-left: 8px solid "
            f"{COLOURS[colour].name()}; padding-left: 6px;"
        )
        rows = field_rows(event, colour, countdown_text, township_names or {})
        for i, (label, text) in enumerate(rows):
            value = self._values.get(label)
            if value is None:
                r, c = divmod(i, self.FIELD_COLUMNS)
                name = plain_label(label + "：")
                name.setStyleSheet("color: #555;")
                value = plain_label()
                value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
                value.setWordWrap(True)
                self.fields.addWidget(name, r, 2 * c, Qt.AlignmentFlag.AlignTop)
                self.fields.addWidget(value, r, 2 * c + 1, Qt.AlignmentFlag.AlignTop)
                self._values[label] = value
            value.setText(self._shown.get(label, text))
        self.description.setText(event.description)
        self.description.setVisible(bool(event.description))
        rep = event.reporter
        masked = "*" in rep.phone or "*" in rep.id_number
        self.reveal_button.setVisible(self.reveal_handler is not None and masked)
        self.reveal_button.setEnabled(not self._unreveal.isActive())

    def set_reveal(self, handler: RevealHandler | None) -> None:
        """Offer 查看完整号码 (an allowed role's `handler`) or not (None)."""
        self.reveal_handler = handler
        r = self._event.reporter if self._event is not None else None
        masked = r is not None and ("*" in r.phone or "*" in r.id_number)
        self.reveal_button.setVisible(handler is not None and masked)

    def ask_reveal(self) -> None:
        """Ask for the reason, then for the whole numbers of the event shown."""
        ev, handler = self._event, self.reveal_handler
        if ev is None or handler is None:
            return
        reason = (self.ask_reason() or "").strip()
        if not reason:
            return
        event_id = ev.id

        def answered(numbers: dict[str, str] | None) -> None:
            self.show_numbers(event_id, numbers)

        self.reveal_button.setEnabled(False)
        handler(event_id, reason, answered)

    def _ask_reason(self) -> str | None:
        reason, ok = QInputDialog.getText(self, tr("reveal.title"), tr("reveal.prompt"))
        return reason if ok else None

    def show_numbers(self, event_id: str, numbers: dict[str, str] | None) -> None:
        """Show the whole numbers (if this event is still shown) for `REVEAL_SHOW_S`."""
        self.reveal_button.setEnabled(True)
        if not numbers or self._event is None or self._event.id != event_id:
            return
        labels = {"phone": tr("details.reporter_phone"), "id_number": tr("details.reporter_id")}
        for field, number in numbers.items():
            self._shown[labels[field]] = number
            value = self._values.get(labels[field])
            if value is not None:
                value.setText(number)
        self._unreveal.start(REVEAL_SHOW_S * 1000)
        self.reveal_button.setEnabled(False)
        self.on_message(tr("status.revealed", seconds=REVEAL_SHOW_S))

    def _mask_again(self) -> None:
        ev, self._shown = self._event, {}
        if ev is not None:
            r = ev.reporter
            for label, text in (
                (tr("details.reporter_phone"), mask_phone(r.phone) if r.phone else "—"),
                (tr("details.reporter_id"), mask_id_number(r.id_number) if r.id_number else "—"),
            ):
                value = self._values.get(label)
                if value is not None:
                    value.setText(text)
        self.reveal_button.setEnabled(True)

    def set_countdown(self, text: str) -> None:
        label = self._values.get(tr("details.deadline"))
        if label is not None:
            label.setText(text)

    def field_text(self, label: str) -> str:
        value = self._values.get(label)
        return value.text() if value is not None else ""

    def set_actions(self, actions: list[Action], enabled: bool) -> None:
        """Exactly one button per allowed action (with its shortcut in the tooltip)."""
        for b in self.buttons.values():
            self.actions_box.removeWidget(b)
            b.deleteLater()
        self.buttons = {}
        for i, a in enumerate(actions):
            s = spec(a)
            b = QPushButton(f"{action_name(a)} ({s.shortcut})")
            b.setObjectName(f"action_{a.value}")
            b.setToolTip(tr("tooltip.shortcut", action=action_name(a), key=s.shortcut))
            b.setEnabled(enabled)
            b.clicked.connect(lambda _=False, act=a: self._on_action(act))
            self.actions_box.addWidget(b, *divmod(i, self.BUTTONS_PER_ROW))
            self.buttons[a] = b

    def set_timeline(self, entries: list[AuditEntry] | None) -> None:
        if entries is None:
            self._timeline_rows.fill([[tr("timeline.loading")]])
            return
        self._timeline_rows.fill([timeline_cells(entry) for entry in entries])
        self.timeline.resizeRowsToContents()
