"""The login dialog through the real controller and network thread (fake hub client)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QApplication

from console.events.controller import EventQueueController, LoginOutcome
from console.events.model import ConnKind, EventQueueModel
from console.kit.net import NetThread, QtBridge
from console.shell.login import LoginDialog, default_workstation
from dispatch.domain.model import Role
from dispatch.domain.wire import ErrorCode, HubError
from dispatch.events.core import allowed_actions
from dispatch.hub.messages import LoginReply
from tests.kit import FakeClock, pump_until
from tests.kit.hostile import HEADING, assert_literal, assert_no_risky_labels
from tests.unit.console.events.test_event_queue_support import FakeHub, FakeHubClient


class Refusing(FakeHubClient):
    async def start(self) -> None:
        raise ConnectionRefusedError("tcp://127.0.0.1:1 refused")


class Throttled(FakeHubClient):
    async def login(self, operator: str, password: str) -> LoginReply:
        raise HubError(ErrorCode.THROTTLED, "尝试次数过多 / too many", retry_after_s=4.2)


class Busy(FakeHubClient):
    async def login(self, operator: str, password: str) -> LoginReply:
        raise HubError(ErrorCode.BUSY, "服务器繁忙 / hub busy, retry")


CLIENTS: dict[str, type[FakeHubClient]] = {"down": Refusing, "slow": Throttled, "busy": Busy}


@pytest.fixture
def parts(qapp: QApplication) -> Iterator[tuple[EventQueueModel, EventQueueController, list[str]]]:
    hub = FakeHub()
    net = NetThread()
    net.start()
    model = EventQueueModel(
        clock=FakeClock(), deadline_fn=lambda e: None, allowed_fn=allowed_actions
    )
    made: list[str] = []

    def factory(ws, on_change, on_connection):  # type: ignore[no-untyped-def]
        made.append(ws)
        cls = CLIENTS.get(ws, FakeHubClient)
        return cls(hub, workstation=ws, on_change=on_change, on_connection=on_connection)

    ctrl = EventQueueController(model, net, QtBridge(), factory)
    yield model, ctrl, made
    ctrl.shutdown()
    net.stop()


def test_workstation_defaults_to_the_host_name(qapp: QApplication) -> None:
    dlg = LoginDialog(lambda *a: None)
    assert dlg.workstation.text() == socket.gethostname()[:64] == default_workstation()
    assert LoginDialog(lambda *a: None, workstation="指挥席2").workstation.text() == "指挥席2"


def test_missing_fields_are_named_and_nothing_is_sent(qapp: QApplication) -> None:
    sent: list[object] = []
    dlg = LoginDialog(lambda *a: sent.append(a))
    dlg.try_login()
    assert dlg.error.text() == "请填写操作员。" and sent == []
    dlg.operator.setText("zhang")
    dlg.try_login()
    assert dlg.error.text() == "请填写密码。" and sent == []


def test_wrong_password_says_so_and_keeps_the_operator(parts) -> None:  # type: ignore[no-untyped-def]
    model, ctrl, _ = parts
    dlg = LoginDialog(ctrl.login, workstation="席位1")
    dlg.operator.setText("zhang")
    dlg.password.setText("wrong")
    dlg.try_login()
    assert not dlg.operator.isEnabled()  # busy while the hub answers
    pump_until(lambda: dlg.operator.isEnabled())
    assert dlg.error.text() == "用户名或密码错误，请重新输入。"
    assert dlg.operator.text() == "zhang" and dlg.password.text() == ""
    assert dlg.result() == 0 and model.session is None


def test_right_password_logs_in_with_the_role(parts) -> None:  # type: ignore[no-untyped-def]
    model, ctrl, made = parts
    dlg = LoginDialog(ctrl.login, workstation="席位1")
    dlg.operator.setText("li")
    dlg.password.setText("pw-li")
    dlg.try_login()
    pump_until(lambda: dlg.result() == 1)
    assert dlg.session is not None and dlg.session.role is Role.SUPERVISOR
    assert model.session == dlg.session and model.connection.kind is ConnKind.CONNECTED
    assert made == ["席位1"]


def test_unreachable_hub_is_reported(parts) -> None:  # type: ignore[no-untyped-def]
    _model, ctrl, _ = parts
    dlg = LoginDialog(ctrl.login, workstation="down")
    dlg.operator.setText("zhang")
    dlg.password.setText("pw-zhang")
    dlg.try_login()
    pump_until(lambda: dlg.operator.isEnabled())
    assert dlg.error.text().startswith("无法连接指挥中心服务：")
    assert "refused" in dlg.error.text()


@pytest.mark.parametrize(
    ("ws", "text"),
    [("slow", "登录失败次数过多，请 5 秒后再试。"), ("busy", "服务器繁忙，请稍后重试。")],
)
def test_throttled_and_busy_logins_say_what_to_do(parts, ws: str, text: str) -> None:  # type: ignore[no-untyped-def]
    """Hole 4: the hub's typed `throttled` (with the seconds) and `busy` refusals."""
    model, ctrl, _ = parts
    dlg = LoginDialog(ctrl.login, workstation=ws)
    dlg.operator.setText("zhang")
    dlg.password.setText("pw-zhang")
    dlg.try_login()
    pump_until(lambda: dlg.operator.isEnabled())
    assert dlg.error.text() == text and model.session is None


def test_the_hubs_error_message_is_shown_as_typed(qapp: QApplication) -> None:
    """Hole 3: a refusal's message comes from the hub; the dialog shows it literally."""
    dlg = LoginDialog(lambda *a: None)
    dlg.finished_login(LoginOutcome(session=None, error=HEADING))
    assert_literal(dlg.error, HEADING, one_line=True)
    assert_no_risky_labels(dlg)
