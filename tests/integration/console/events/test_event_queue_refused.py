"""The console says that its workstation is not enrolled, or was revoked, instead of
timing out (issue 12): the event queue against a real `hall-hub` over real zmq CURVE.

A workstation whose key the hub never enrolled gets the login dialog's message at once;
one revoked while logged in shows the red banner.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QApplication

from console.events.controller import LoginOutcome
from console.events.model import ConnKind
from console.events.panel import EventQueuePanel
from console.events.strings import tr
from console.events.wiring import EventQueue
from dispatch.client.keys import ConsoleKeys
from dispatch.hub.enrol import revoke
from dispatch.hub.keys import new_keypair
from dispatch.hub.process import HubProcess
from tests.kit import pump_until
from tests.kit.hub import client_keys

pytestmark = pytest.mark.integration


class Console:
    def __init__(self, hub: HubProcess, keys: ConsoleKeys) -> None:
        self.queue = EventQueue.for_hub(hub.req_endpoint, hub.pub_endpoint, keys=keys)
        self.queue.start()
        self.panel = EventQueuePanel(
            self.queue.model, self.queue.controller, beep=lambda: None, ask=lambda *a: None
        )
        self.workstation = keys.name

    def login(self) -> LoginOutcome:
        out: list[LoginOutcome] = []
        self.queue.controller.login("duty", "duty123", self.workstation, out.append)
        pump_until(lambda: bool(out), 15, what="login answered")
        return out[0]

    def close(self) -> None:
        self.queue.stop()
        self.panel.close()
        self.panel.deleteLater()


@pytest.fixture
def consoles(qapp: QApplication) -> Iterator[list[Console]]:
    made: list[Console] = []
    yield made
    for c in made:
        c.close()


def test_unenrolled_and_revoked_workstations_are_told(
    hub: HubProcess, consoles: list[Console]
) -> None:
    public, secret = new_keypair()
    unknown = client_keys(hub).model_copy(
        update={"name": "stranger", "public_key": public, "secret_key": secret}
    )
    a = Console(hub, unknown)
    consoles.append(a)
    t0 = time.monotonic()
    out = a.login()
    assert not out.ok and out.error == tr("login.refused")
    assert time.monotonic() - t0 < 5  # said at once, not the request timeout
    pump_until(lambda: a.queue.model.connection.kind is ConnKind.REFUSED, 5, what="refused")
    assert a.panel.conn_banner.text() == tr("banner.refused")

    b = Console(hub, hub.enrol_console("ws-b"))
    consoles.append(b)
    for _ in range(20):  # the hub rereads its enrolment book every 0.5 s
        if b.login().ok:
            break
        time.sleep(0.5)
    pump_until(lambda: b.queue.model.connection.kind is ConnKind.CONNECTED, 10, what="connected")
    revoke(hub.keys_dir, "ws-b")
    pump_until(lambda: b.queue.model.connection.kind is ConnKind.REFUSED, 10, what="cut off")
    assert not b.panel.conn_banner.isHidden()
    assert b.panel.conn_banner.text() == tr("banner.refused")
