"""Camera simulator fixtures: real RTSP servers on free loopback ports.

- `camsim`: session scope, 4 cameras, no auth. Tests must not kill or hang its cameras.
- `camsim_auth`: session scope, 2 cameras asking for digest auth (`admin` / `s3cret`).
- `camsim_faulty`: one camera of its own per test, free to kill, hang and revive.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from streams.simulator import CamSim

AUTH_USER = "admin"
AUTH_PASSWORD = "s3cret"


@pytest.fixture(scope="session")
def camsim() -> Iterator[CamSim]:
    sim = CamSim(cameras=4)
    sim.start(timeout_s=30.0)
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture(scope="session")
def camsim_auth() -> Iterator[CamSim]:
    sim = CamSim(cameras=2, auth=(AUTH_USER, AUTH_PASSWORD))
    sim.start(timeout_s=30.0)
    try:
        yield sim
    finally:
        sim.stop()


@pytest.fixture
def camsim_faulty() -> Iterator[CamSim]:
    sim = CamSim(cameras=1)
    sim.start(timeout_s=30.0)
    try:
        yield sim
    finally:
        sim.stop()
