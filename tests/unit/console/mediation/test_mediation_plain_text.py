"""Hole 3 in the mediation window: parties' names and roles, the event's title, the link
cards and hub messages come from outside and read literally (offscreen Qt, real model,
controller and window; no hub is started)."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from console.kit.net import NetThread, QtBridge
from console.kit.plain import inert_bidi, shown_text
from console.mediation.controller import MediationController
from console.mediation.model import MediationModel
from console.mediation.view import LinkCard, MediationWindow
from tests.kit.hostile import (
    ENTITIES,
    HEADING,
    IMAGE,
    LINK,
    RTL,
    assert_literal,
    assert_no_risky_labels,
    assert_shown_somewhere,
)

STATE = {
    "type": "state",
    "me": {"id": "host"},
    "recording": False,
    "participants": [
        {"id": "host", "role": "host", "label": "指挥中心", "name": "大厅", "admitted": True,
         "online": True},
        {"id": "p1", "role": "court", "label": LINK, "name": HEADING, "admitted": False,
         "online": True},
        {"id": "p2", "role": "party", "label": RTL, "name": IMAGE, "admitted": True,
         "online": False},
    ],
    "slots": [],
}  # fmt: skip


def test_link_card_escapes_the_name_url_and_pin(qapp: QApplication) -> None:
    card = LinkCard(HEADING, "https://hall.test/v/" + IMAGE, ENTITIES, RTL)
    text = shown_text(card.text)
    assert text.startswith(HEADING) and ENTITIES in text and text.endswith(inert_bidi(RTL))
    assert "<img" not in card.text.text() and "<h1>" not in card.text.text()
    assert_no_risky_labels(card)
    card.deleteLater()


def test_parties_and_messages_read_literally(qapp: QApplication) -> None:
    model = MediationModel("E1", HEADING)
    win = MediationWindow(
        model, MediationController(model, NetThread(), QtBridge(), lambda: None, "http://h")
    )
    model.apply_state(STATE)
    assert_shown_somewhere(win, HEADING)
    assert_shown_somewhere(win, IMAGE)
    model.say(ENTITIES)
    assert_literal(win.status, ENTITIES, one_line=True)
    assert_no_risky_labels(win)
    win.deleteLater()
