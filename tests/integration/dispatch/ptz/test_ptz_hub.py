"""PTZ rights and holds through a real hub (SQLite) and real console clients: a role
without PTZ rights is refused, a held camera shows its holder at a second console (the
published change), a supervisor takes over, and every grant is an audit row."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from dispatch.client.connection import HubClient
from dispatch.domain.wire import ErrorCode, HubError
from dispatch.hub.process import HubProcess
from dispatch.ptz.core import PtzAction
from tests.kit.hub import client_keys
from tests.kit.ptz_site import ptz_site
from tests.kit.wait import async_wait_until

pytestmark = pytest.mark.integration


def client(hub: HubProcess, workstation: str) -> HubClient:
    return HubClient(
        hub.req_endpoint,
        hub.pub_endpoint,
        keys=client_keys(hub),
        workstation=workstation,
        on_change=lambda ch: None,
        on_connection=lambda st: None,
    )


def test_rights_holds_takeover_and_audit(tmp_path: Path) -> None:
    hub = HubProcess(
        f"sqlite:///{tmp_path / 'hall.db'}", site=ptz_site(tmp_path), demo=True, data_dir=tmp_path
    )
    hub.start(timeout_s=60)

    async def go() -> None:
        duty, admin, leader = (client(hub, f"ws-{n}") for n in ("a", "b", "c"))
        for c, (user, pw) in zip(
            (duty, admin, leader),
            (("duty", "duty123"), ("admin", "admin123"), ("leader", "leader123")),
            strict=True,
        ):
            await c.start()
            await c.login(user, pw)
            await c.ptz.fetch()
        try:
            hold = await duty.ptz.hold("cam1", PtzAction.MOVE, "pan")
            assert hold.operator == "duty"
            # the second console learns who holds it from the published change
            await async_wait_until(lambda: "cam1" in admin.ptz.view(), timeout=10)
            assert admin.ptz.view()["cam1"].operator == "duty"

            with pytest.raises(HubError) as refused:
                await admin.ptz.hold("cam1")
            assert refused.value.code is ErrorCode.FORBIDDEN
            assert "无云台控制权限" in refused.value.message

            with pytest.raises(HubError) as held:
                await leader.ptz.hold("cam1")
            assert held.value.code is ErrorCode.CONFLICT
            assert "被 duty 控制中" in held.value.message

            taken = await leader.ptz.hold("cam1", PtzAction.TAKEOVER)
            assert taken.operator == "leader"
            await async_wait_until(
                lambda: (
                    duty.ptz.view().get("cam1") is not None
                    and duty.ptz.view()["cam1"].operator == "leader"
                ),
                timeout=10,
            )
            with pytest.raises(HubError) as back:
                await duty.ptz.hold("cam1")
            assert back.value.code is ErrorCode.CONFLICT

            with pytest.raises(HubError) as not_ptz:
                await duty.ptz.hold("cam2")
            assert not_ptz.value.code is ErrorCode.NOT_FOUND

            await leader.ptz.release("cam1")
            await async_wait_until(lambda: "cam1" not in duty.ptz.view(), timeout=10)
            await duty.ptz.hold("cam1", PtzAction.PRESET_GOTO, "东门")

            log = await admin.ptz.log("cam1")
            rows = [(e.operator, e.action) for e in log]
            assert rows == [
                ("duty", "ptz_move"),
                ("leader", "ptz_takeover"),
                ("leader", "ptz_release"),
                ("duty", "ptz_preset_goto"),
            ], rows
            # the workstation is the enrolled console's name (the hub's, not the client's)
            assert all(e.workstation == "test-console" for e in log), log
            assert "接管自 duty" in log[1].note and "东门" in log[3].note
        finally:
            for c in (duty, admin, leader):
                await c.stop()

    try:
        asyncio.run(go())
    finally:
        hub.stop()


def test_a_hold_survives_a_hub_restart_until_it_expires(tmp_path: Path) -> None:
    """The hold is in the store: after a restart (same database) another console still
    finds the camera held by duty and is refused, until the hold's minute has passed on the
    hub's clock (a test clock moved past it); then the camera is free again."""
    db = f"sqlite:///{tmp_path / 'hall.db'}"
    site = ptz_site(tmp_path)
    offset = tmp_path / "clock-offset"

    def start() -> HubProcess:
        hub = HubProcess(db, site=site, demo=True, data_dir=tmp_path, clock_offset_file=offset)
        hub.start(timeout_s=60)
        return hub

    async def hold_then_stop(hub: HubProcess) -> None:
        duty = client(hub, "ws-a")
        await duty.start()
        try:
            await duty.login("duty", "duty123")
            assert (await duty.ptz.hold("cam1", PtzAction.MOVE, "pan")).operator == "duty"
        finally:
            await duty.stop()

    async def after_restart(hub: HubProcess) -> None:
        leader = client(hub, "ws-c")
        await leader.start()
        try:
            await leader.login("leader", "leader123")
            await leader.ptz.fetch()
            assert leader.ptz.view()["cam1"].operator == "duty"  # the tile: 被 duty 控制中
            with pytest.raises(HubError) as held:
                await leader.ptz.hold("cam1")
            assert held.value.code is ErrorCode.CONFLICT
            assert "被 duty 控制中" in held.value.message
            hub.set_clock_offset(61.0)  # the hold's 60 s are over on the hub's clock

            async def freed() -> bool:
                await leader.ptz.fetch()
                return "cam1" not in leader.ptz.view()

            await async_wait_until(freed, timeout=20, interval=0.5)
            assert (await leader.ptz.hold("cam1")).operator == "leader"
        finally:
            await leader.stop()

    hub = start()
    try:
        asyncio.run(hold_then_stop(hub))
    finally:
        hub.stop()
    hub = start()
    try:
        asyncio.run(after_restart(hub))
    finally:
        hub.stop()
