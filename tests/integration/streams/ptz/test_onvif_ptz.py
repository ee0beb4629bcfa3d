"""PTZ over ONVIF against the simulator's PTZ camera: the client (onvif-zeep-async) moves
it, and the decoded RTSP picture shows the move (read from pixels)."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator

import numpy as np
import pytest

from streams.ptz.onvif_client import OnvifPtz
from streams.ptz.shift import shift
from streams.ptz.types import OnvifAccess, PtzError, PtzErrorKind, Vector
from streams.simulator import CamSim
from tests.kit.frames import LumaReader

pytestmark = pytest.mark.integration

USER, PASSWORD = "admin", "ptz-s3cret"
WIDTH = 704  # the sub stream
HEIGHT = 576
SETTLE_S = 0.6  # frames encoded before a command can still be in flight


@pytest.fixture(scope="module")
def ptz_sim() -> Iterator[CamSim]:
    sim = CamSim(1, auth=(USER, PASSWORD), ptz=["cam1"], encoding="fast")
    sim.start(timeout_s=30.0)
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture(scope="module")
def reader(ptz_sim: CamSim) -> Iterator[LumaReader]:
    with LumaReader(ptz_sim.url("cam1", "sub", with_auth=True)) as r:
        r.wait_frame_after(0.0, timeout_s=20.0)
        yield r


def access(sim: CamSim, password: str = PASSWORD) -> OnvifAccess:
    return OnvifAccess("cam1", sim.onvif_url("cam1"), USER, password)


def settled(reader: LumaReader) -> np.ndarray:
    """A frame encoded after everything sent so far reached the camera."""
    return reader.wait_frame_after(time.monotonic() + SETTLE_S)


async def _connected(sim: CamSim) -> OnvifPtz:
    ptz = OnvifPtz(access(sim), timeout_s=10.0)
    await ptz.connect()
    return ptz


def test_pan_right_moves_the_picture_left_and_tilt_down_moves_it_up(
    ptz_sim: CamSim, reader: LumaReader
) -> None:
    async def run() -> None:
        ptz = await _connected(ptz_sim)
        try:
            await ptz.absolute(Vector(0.0, 0.8, 0.0))  # the buildings: few movers
            before = settled(reader)
            start = (await ptz.status()).position
            await ptz.move(Vector(0.5, 0.0, 0.0))
            await asyncio.sleep(0.8)
            await ptz.stop()
            end = (await ptz.status()).position
            after = settled(reader)
            dx, dy, _ = shift(before, after)
            expected = -(end.pan - start.pan) / 2 * WIDTH
            assert end.pan > start.pan + 0.1, (start, end)
            assert dx < 0, f"pan right must move the picture left, read dx={dx}"
            assert abs(dx - expected) <= 8, (dx, expected)
            assert abs(dy) <= 4, dy

            await ptz.move(Vector(0.0, -0.5, 0.0))
            await asyncio.sleep(0.5)
            await ptz.stop()
            lower = (await ptz.status()).position
            after_tilt = settled(reader)
            dx2, dy2, _ = shift(after, after_tilt)
            assert dy2 < 0, f"tilt down must move the picture up, read dy={dy2}"
            assert abs(dy2 + (end.tilt - lower.tilt) / 2 * HEIGHT) <= 8, (dy2, end, lower)
            assert abs(dx2) <= 4, dx2
        finally:
            await ptz.close()

    asyncio.run(run())


def test_a_preset_returns_to_the_same_picture(ptz_sim: CamSim, reader: LumaReader) -> None:
    async def run() -> None:
        ptz = await _connected(ptz_sim)
        try:
            await ptz.absolute(Vector(-0.3, 0.75, 0.0))
            here = settled(reader)
            token = await ptz.set_preset("东门 gate")
            assert any(p.token == token and p.name == "东门 gate" for p in await ptz.presets())
            await ptz.absolute(Vector(0.4, 0.9, 0.0))
            away = settled(reader)
            far_dx, _, _ = shift(here, away)
            assert abs(far_dx) > 100, far_dx  # the picture really went elsewhere
            await ptz.goto_preset(token)
            back = settled(reader)
            dx, dy, _ = shift(here, back)
            assert (dx, dy) == (0, 0), (dx, dy)
            band = slice(int(HEIGHT * 0.06), int(HEIGHT * 0.6))
            diff = np.abs(here[band].astype(int) - back[band].astype(int))
            assert float(np.median(diff)) <= 3.0, float(np.median(diff))
            with pytest.raises(PtzError) as bad:
                await ptz.goto_preset("no-such-preset")
            assert bad.value.kind is PtzErrorKind.REFUSED
        finally:
            await ptz.close()

    asyncio.run(run())


def test_wrong_credentials_are_a_clear_auth_error(ptz_sim: CamSim) -> None:
    async def run() -> PtzError:
        ptz = OnvifPtz(access(ptz_sim, "wrong"), timeout_s=10.0)
        try:
            await ptz.connect()
        except PtzError as exc:
            return exc
        finally:
            await ptz.close()
        raise AssertionError("connect with a wrong password succeeded")

    err = asyncio.run(run())
    assert err.kind is PtzErrorKind.AUTH
    assert "用户名或密码错误" in err.message and "credentials" in err.message


def test_a_camera_that_is_down_is_unreachable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nobody listens there

    async def run() -> PtzError:
        ptz = OnvifPtz(OnvifAccess("x", f"http://127.0.0.1:{port}/onvif/device_service"))
        with pytest.raises(PtzError) as err:
            await ptz.connect()
        return err.value

    assert asyncio.run(run()).kind is PtzErrorKind.UNREACHABLE
